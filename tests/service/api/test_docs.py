"""``/docs`` and ``/redoc`` work offline: vendored assets, same-origin only, over real HTTP.

The app runs under uvicorn on a free loopback port (no model: the pages need only
``/openapi.json``). The HTML is checked for any absolute or scheme-relative URL, every asset it
names is fetched, and — when Debian's Chromium and Playwright are present — a headless browser
renders Swagger UI and ReDoc while every request that does not go to 127.0.0.1 is aborted and
recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.api.docs import DOCS_ASSETS_DIR, DOCS_ASSETS_PATH
from service.app import create_app
from service.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 60_000
PAGES = ("/docs", "/redoc")
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1 (its own SQLite file, no model loaded)."""
    root = tmp_path_factory.mktemp("docs_server")
    settings = Settings(
        database_url=f"sqlite:///{root / 'docs.sqlite'}",
        model_dir=root / "no-model",
        reload_poll_seconds=0,
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the nengli server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _referenced_urls(html: str) -> list[str]:
    """Every ``src=``/``href=`` value and the ``url:``/``spec-url`` the page loads the spec from."""
    attributes = re.findall(r'(?:src|href|spec-url)="([^"]*)"', html)
    spec = re.findall(r"url: '([^']*)'", html)
    return attributes + spec


@pytest.mark.parametrize("page", PAGES)
def test_docs_page_references_only_same_origin_urls(base_url: str, page: str) -> None:
    response = httpx.get(f"{base_url}{page}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE), html
    urls = _referenced_urls(html)
    assert urls and all(url.startswith("/") for url in urls), urls
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_a_docs_page_names_is_served(base_url: str, page: str) -> None:
    for url in _referenced_urls(httpx.get(f"{base_url}{page}").text):
        response = httpx.get(f"{base_url}{url}")
        assert response.status_code == 200, url
        suffix = Path(url).suffix
        expected = CONTENT_TYPES.get(suffix, ("application/json",))
        assert response.headers["content-type"].startswith(expected), (url, response.headers)
        if url.startswith(DOCS_ASSETS_PATH):
            assert response.content == (DOCS_ASSETS_DIR / Path(url).name).read_bytes()


def test_vendored_assets_match_their_manifest() -> None:
    manifest = json.loads((DOCS_ASSETS_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert set(manifest["packages"]) == {"swagger-ui-dist", "redoc"}
    for name, entry in manifest["files"].items():
        digest = hashlib.sha256((DOCS_ASSETS_DIR / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} changed; run make docs-assets"
        assert entry["package"] in manifest["packages"]
    for licence in ("LICENSE-swagger-ui", "NOTICE-swagger-ui", "LICENSE-redoc"):
        assert licence in manifest["files"]


def test_docs_are_not_also_served_from_fastapi_defaults() -> None:
    # One /docs route only: FastAPI's CDN page would shadow or duplicate the vendored one.
    app = create_app(Settings(database_url="sqlite://", model_dir=Path("/nonexistent")))
    paths = [getattr(route, "path", None) for route in app.router.routes]
    assert paths.count("/docs") == 1 and paths.count("/redoc") == 1
    assert app.docs_url is None and app.redoc_url is None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright, or a skip saying what is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found; apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from tests.service.api.test_ui_browser import CHROMIUM_ARGS

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _offline_page(browser: Any, base_url: str) -> tuple[Any, list[str], list[str]]:
    """A page whose requests off 127.0.0.1 are aborted and recorded, plus its script errors."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    left: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if url.startswith((f"{base_url}/", "data:", "blob:")):
            route.continue_()
        else:
            left.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, left, errors


@pytest.mark.slow
def test_swagger_ui_renders_every_operation_offline(
    browser: Any, base_url: str, tmp_path: Path
) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    operations = sum(
        1
        for item in spec["paths"].values()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    )
    page, left, errors = _offline_page(browser, base_url)
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock-summary")
    page.screenshot(path=str(tmp_path / "swagger_ui.png"))
    assert page.locator(".opblock").count() == operations > 0
    assert page.locator(".information-container .title").inner_text().startswith("nengli")
    assert left == [] and errors == []
    page.context.close()


@pytest.mark.slow
def test_redoc_renders_offline(browser: Any, base_url: str, tmp_path: Path) -> None:
    page, left, errors = _offline_page(browser, base_url)
    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("[data-section-id^='tag/']")
    page.screenshot(path=str(tmp_path / "redoc.png"))
    assert page.locator("h1").first.inner_text().startswith("nengli")
    assert left == [] and errors == []
    page.context.close()
