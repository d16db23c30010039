"""The dashboard's static mount: files present, served under /ui with safe headers, no CDN."""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import pytest
from fastapi import FastAPI

from service.api.ui import UI_DIR, mount_ui

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def ui_client() -> TestClient:
    """A bare FastAPI app with only the dashboard mounted."""
    app = FastAPI()
    mount_ui(app)
    return TestClient(app)


def _local_assets() -> list[str]:
    html = (UI_DIR / "index.html").read_text(encoding="utf-8")
    return re.findall(r'(?:src|href)="([^"#]+)"', html)


def test_index_is_served_at_ui(ui_client: TestClient) -> None:
    response = ui_client.get("/ui/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "教师视图" in response.text and "学校视图" in response.text


def test_ui_without_slash_redirects_to_index(ui_client: TestClient) -> None:
    response = ui_client.get("/ui", follow_redirects=False)
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"].endswith("/ui/")


@pytest.mark.parametrize("path", ["/ui/", "/ui/js/app.js", "/ui/vendor/echarts.min.js"])
def test_security_headers_on_every_file(ui_client: TestClient, path: str) -> None:
    response = ui_client.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_every_asset_named_by_index_is_served(ui_client: TestClient) -> None:
    assets = [a for a in _local_assets() if not a.startswith(("../", "data:"))]
    assert "vendor/echarts.min.js" in assets
    for asset in assets:
        assert ui_client.get(f"/ui/{asset}").status_code == 200, asset


def test_every_module_import_resolves() -> None:
    # A typo in an ES-module import only shows in a browser; catch it without one.
    for module in (UI_DIR / "js").glob("*.js"):
        for target in re.findall(r'from "(\./[^"]+)"', module.read_text(encoding="utf-8")):
            assert (module.parent / target).is_file(), f"{module.name} imports missing {target}"


def test_nothing_is_loaded_from_another_origin() -> None:
    # These machines have no internet: every script, style and font must be local.
    for path in [UI_DIR / "index.html", UI_DIR / "app.css", *(UI_DIR / "js").glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']https?://", text), path.name
        assert "@import" not in text and "cdn" not in text.lower(), path.name


def test_vendored_echarts_carries_its_licence_and_recorded_hash() -> None:
    vendor = UI_DIR / "vendor"
    assert "Apache License" in (vendor / "LICENSE-echarts").read_text(encoding="utf-8")
    recorded = re.search(
        r"sha256 of `echarts.min.js`: `([0-9a-f]{64})`", (vendor / "README.md").read_text("utf-8")
    )
    assert recorded is not None
    assert hashlib.sha256((vendor / "echarts.min.js").read_bytes()).hexdigest() == recorded.group(1)


def test_unknown_file_is_404(ui_client: TestClient) -> None:
    assert ui_client.get("/ui/no-such-file.js").status_code == 404


def test_mount_twice_is_harmless() -> None:
    app = FastAPI()
    mount_ui(app)
    mount_ui(app)
    assert sum(getattr(r, "path", None) == "/ui" for r in app.router.routes) == 1


def test_create_app_mounts_the_dashboard(tmp_path: Path) -> None:
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ui.sqlite'}", model_dir=tmp_path / "model"
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/ui/")
    assert response.status_code == 200, "create_app must call service.api.ui.mount_ui(app)"
    assert "vendor/echarts.min.js" in response.text


def _messages() -> dict[str, set[str]]:
    source = (UI_DIR / "js" / "i18n.js").read_text(encoding="utf-8")
    zh_block = source[source.index("zh: {") : source.index("en: {")]
    en_block = source[source.index("en: {") : source.index("export function")]
    key = re.compile(r'^\s+"([a-zA-Z]+\.[a-zA-Z0-9]+)":', re.MULTILINE)
    return {"zh": set(key.findall(zh_block)), "en": set(key.findall(en_block))}


def test_chinese_and_english_have_the_same_messages() -> None:
    messages = _messages()
    assert messages["zh"] and messages["zh"] == messages["en"]


def test_every_message_key_used_is_defined() -> None:
    defined = _messages()["zh"]
    used: set[str] = set()
    html = (UI_DIR / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-placeholder)?="([^"]+)"', html))
    for module in (UI_DIR / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\("([a-zA-Z]+\.[a-zA-Z0-9]+)"\)', module.read_text("utf-8")))
    assert used - defined == set()


def test_api_data_is_never_parsed_as_html() -> None:
    # Research-group names and reasons come from platforms: the dashboard inserts them as text.
    for module in (UI_DIR / "js").glob("*.js"):
        text = module.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{module.name} uses {sink}"
