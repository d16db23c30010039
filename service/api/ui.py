"""Serve the browser dashboard (``service/static/ui``) under ``/ui``.

The dashboard is a handful of static files (HTML, ES modules, CSS and a vendored copy of Apache
ECharts) that call the public v1 API with the key the user types in, so it needs no server-side
state and no extra endpoints: mounting a :class:`StaticFiles` app is all the service has to do.
The pages are served with a strict Content-Security-Policy because they handle an API key: no
script may come from anywhere but this origin, which also guarantees the dashboard works on
machines without internet access (nothing is fetched from a CDN).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from competency_model.errors import NengliError

__all__ = ["UI_DIR", "UI_PATH", "mount_ui"]

#: Directory holding ``index.html`` and the dashboard's assets.
UI_DIR: Path = Path(__file__).resolve().parent.parent / "static" / "ui"
#: URL prefix the dashboard is served under.
UI_PATH = "/ui"

_SECURITY_HEADERS = {
    # ECharts writes element styles at run time, hence 'unsafe-inline' for styles only.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _DashboardFiles(StaticFiles):
    """:class:`StaticFiles` that adds the dashboard's security headers to every response."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def mount_ui(app: FastAPI) -> None:
    """Mount the dashboard at ``/ui`` (``/ui/`` serves ``index.html``).

    Call it last in ``create_app`` so API routes keep priority. Calling it twice is harmless.

    Parameters
    ----------
    app
        The FastAPI application built by ``service.app.create_app``.
    """
    if any(getattr(route, "path", None) == UI_PATH for route in app.router.routes):
        return
    index = UI_DIR / "index.html"
    if not index.is_file():
        # A broken install should fail loudly at start-up, not with a 404 in the browser.
        raise NengliError(f"dashboard files missing: {index} not found; reinstall nengli")
    app.mount(UI_PATH, _DashboardFiles(directory=UI_DIR, html=True), name="ui")
