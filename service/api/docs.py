"""Serve the API documentation (``/docs`` Swagger UI, ``/redoc`` ReDoc) with no CDN.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, and an intranet deployment that
cannot reach it shows blank pages. The assets are vendored under ``service/static/docs`` (npm
packages ``swagger-ui-dist`` and ``redoc``, versions and sha256 in its ``MANIFEST.json``,
re-fetched by ``make docs-assets``) and served here from the app's own origin. The pages also
carry a Content-Security-Policy that allows only this origin, so a browser refuses anything a
future asset might try to fetch from elsewhere instead of silently depending on the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from competency_model.errors import NengliError

__all__ = ["DOCS_ASSETS_DIR", "DOCS_ASSETS_PATH", "mount_docs"]

#: Directory of the vendored Swagger UI / ReDoc files and their MANIFEST.json.
DOCS_ASSETS_DIR: Path = Path(__file__).resolve().parent.parent / "static" / "docs"
#: URL prefix the assets are served under.
DOCS_ASSETS_PATH = "/static/docs"

_REQUIRED = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "redoc.standalone.js")

# Both pages run one inline bootstrap script (FastAPI's HTML) and write inline styles; ReDoc
# starts a web worker from a blob. Everything else must come from this origin.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def mount_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Add ``/docs``, ``/redoc`` and the vendored assets under ``/static/docs`` to ``app``.

    Create the app with ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages are not
    registered first.

    Raises
    ------
    NengliError
        A vendored file is missing (a broken install fails at start-up, not as a blank page).
    """
    missing = [name for name in _REQUIRED if not (DOCS_ASSETS_DIR / name).is_file()]
    if missing:
        raise NengliError(
            f"API documentation assets missing in {DOCS_ASSETS_DIR}: {', '.join(missing)}; "
            "run `make docs-assets` or reinstall nengli"
        )
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{title} — API 文档 / API docs",
            swagger_js_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_PATH}/favicon-32x32.png",
            # The online validator badge would call validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers.update(_PAGE_HEADERS)
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{title} — API 参考 / API reference",
            redoc_js_url=f"{root}{DOCS_ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_PATH}/favicon-32x32.png",
            with_google_fonts=False,
        )
        page.headers.update(_PAGE_HEADERS)
        return page
