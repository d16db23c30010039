"""README lists what the project has: every pyproject dependency with a reason, every setting."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    names = {_canonical(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", s)[1]) for s in specs}  # type: ignore[index]
    return names - {_canonical(project["name"])}


def _readme_dependency_rows() -> tuple[set[str], dict[str, str]]:
    """The core names of the dependency heading, and every table name with its reason."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Dependencies beyond the core \((?P<core>[^)]*)\)\n(?P<body>.*?)^## ",
                        text, flags=re.MULTILINE | re.DOTALL)  # fmt: skip
    assert section is not None, "README.md has no '## Dependencies beyond the core (…)' section"
    core = {_canonical(n.strip()) for n in section["core"].split(",")}
    reasons: dict[str, str] = {}
    for row in re.findall(r"^\|(.+)\|(.+)\|$", section["body"], flags=re.MULTILINE):
        packages, why = (cell.strip() for cell in row)
        if packages in {"package", "---"}:
            continue
        packages = re.sub(r"\(.*?\)|^dev:", "", packages)
        for name in packages.split(","):
            reasons[_canonical(re.sub(r"\[.*?\]", "", name).strip())] = why
    return core, reasons


def test_every_dependency_has_a_reason_in_the_readme() -> None:
    """The project's rule: each dependency is justified in one line of the README's list."""
    core, reasons = _readme_dependency_rows()
    required = _requirement_names()
    assert required - core - set(reasons) == set(), "add a row to README's dependency list"
    assert all(len(why) > 20 for why in reasons.values()), reasons
    assert (core | set(reasons)) - required == set(), "README lists a package pyproject lacks"


def test_every_setting_is_in_the_readme() -> None:
    """Each ``NENGLI_`` setting has a row in README's Settings table (``NENGLI_X_*`` covers a family)."""
    from service.settings import Settings

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Settings") : text.index("## Dependencies")]
    named = set(re.findall(r"`(NENGLI_[A-Z0-9_]*[A-Z0-9])`", section))
    families = re.findall(r"`(NENGLI_[A-Z0-9_]+_)\*`", section)
    missing = [
        f"NENGLI_{name.upper()}"
        for name in Settings.model_fields
        if f"NENGLI_{name.upper()}" not in named
        and not any(f"NENGLI_{name.upper()}".startswith(family) for family in families)
    ]
    assert not missing, f"add these to README's Settings table: {missing}"
