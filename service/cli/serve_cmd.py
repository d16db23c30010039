"""``nengli serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str | None = typer.Option(None, help="Bind address (default NENGLI_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default NENGLI_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the API (OpenAPI docs at /docs); migrations run on start."""
    import uvicorn

    from service.observability import configure_logging
    from service.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)  # the supervisor's lines are JSON too
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,  # ours, with the request id: NENGLI_ACCESS_LOG=true
        log_config=None,  # keep the JSON handler of service.observability.logs
    )


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli serve``."""
    app.command("serve")(serve)
