"""Fetch the Swagger UI and ReDoc files that ``/docs`` and ``/redoc`` serve, from npm.

The API documentation pages must work on an intranet, so their JavaScript and CSS are vendored
under ``service/static/docs`` instead of coming from a CDN. This script is the one way those
files get there: it runs ``npm pack`` for the pinned versions below (the npm client checks each
tarball against the registry's integrity hash), copies the listed files with their licences,
and writes ``MANIFEST.json`` (package, version, licence, tarball integrity, each file's sha256).

Usage::

    make docs-assets                          # re-fetch the pinned versions
    python scripts/fetch_docs_assets.py --check   # committed files still match the manifest?

To upgrade, change a version in ``PACKAGES``, run ``make docs-assets``, look at ``/docs`` and
``/redoc`` and commit the directory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "service" / "static" / "docs"
MANIFEST = TARGET / "MANIFEST.json"

#: npm package → (version, licence it must declare, {file in the package: name served here}).
#: ReDoc stays on 2.x: FastAPI's ``get_redoc_html`` writes the ``<redoc spec-url>`` element of
#: the 2.x standalone bundle (3.x changed the entry point).
PACKAGES: dict[str, tuple[str, str, dict[str, str]]] = {
    "swagger-ui-dist": (
        "5.35.0",
        "Apache-2.0",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
            "LICENSE": "LICENSE-swagger-ui",
            "NOTICE": "NOTICE-swagger-ui",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
        },
    ),
    "redoc": (
        "2.5.4",
        "MIT",
        {
            "bundles/redoc.standalone.js": "redoc.standalone.js",
            "LICENSE": "LICENSE-redoc",
            "bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
        },
    ),
}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(name: str, version: str, workdir: Path) -> tuple[Path, dict[str, str]]:
    """``npm pack name@version`` into ``workdir``; returns the unpacked folder and npm's facts."""
    done = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"npm pack {name}@{version} failed:\n{done.stderr[-2000:]}")
    facts = json.loads(done.stdout)[0]
    unpacked = workdir / name
    with tarfile.open(workdir / facts["filename"]) as tarball:
        tarball.extractall(unpacked, filter="data")
    return unpacked / "package", facts


def fetch() -> dict[str, object]:
    """Download every package, copy its files into ``TARGET`` and return the manifest."""
    TARGET.mkdir(parents=True, exist_ok=True)
    packages: dict[str, object] = {}
    files: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, licence, wanted) in PACKAGES.items():
            package, facts = _pack(name, version, Path(tmp))
            declared = json.loads((package / "package.json").read_text(encoding="utf-8"))
            if declared.get("license") != licence:
                raise SystemExit(
                    f"{name}@{version} declares licence {declared.get('license')!r}, expected "
                    f"{licence!r}; check it allows vendoring before updating PACKAGES"
                )
            packages[name] = {
                "version": version,
                "license": licence,
                "integrity": facts["integrity"],
            }
            for source, served in wanted.items():
                shutil.copyfile(package / source, TARGET / served)
                files[served] = {
                    "package": name,
                    "source": source,
                    "sha256": sha256(TARGET / served),
                }
    manifest = {"fetched_by": "scripts/fetch_docs_assets.py", "packages": packages, "files": files}
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return manifest


def check() -> list[str]:
    """Files whose content no longer matches ``MANIFEST.json`` (empty when all match)."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    wrong = []
    for served, entry in manifest["files"].items():
        path = TARGET / served
        if not path.is_file() or sha256(path) != entry["sha256"]:
            wrong.append(served)
    return wrong


def main() -> None:
    """Fetch, or with ``--check`` verify, the vendored documentation assets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of fetching")
    if parser.parse_args().check:
        wrong = check()
        if wrong:
            sys.exit(f"do not match MANIFEST.json: {', '.join(wrong)}; run make docs-assets")
        print("docs assets match MANIFEST.json")
        return
    manifest = fetch()
    print(f"wrote {len(manifest['files'])} files (sha256 in {MANIFEST.relative_to(ROOT)})")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
