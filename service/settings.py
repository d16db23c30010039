"""Runtime settings, read from the environment with the ``NENGLI_`` prefix.

Kept in one pydantic-settings model so the CLI, the service and the tests agree on defaults and
so a deployment can be configured without touching code (``NENGLI_DATABASE_URL=postgresql+psycopg://…``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """nengli configuration; every field can be set as ``NENGLI_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NENGLI_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("var/data"), description="Generated and imported data.")
    database_url: str = Field(
        default="sqlite:///var/nengli.sqlite",
        description="SQLAlchemy URL; SQLite by default, PostgreSQL in production.",
    )
    model_dir: Path = Field(default=Path("var/model"), description="Trained model directory.")
    framework_file: Path | None = Field(
        default=None, description="Alternative framework or overlay file (default: national)."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    host: str = Field(default="127.0.0.1", description="Address `nengli serve` binds to.")
    port: int = Field(default=8000, description="Port `nengli serve` listens on.")
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest accepted request body."
    )
    telemetry: bool = Field(
        default=False,
        description="FastAPI's OpenTelemetry tracing, metrics and logs (off: checked per request).",
    )
    reload_poll_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often each worker checks for an admin's model reload (0: never).",
    )
    rate_limit_per_minute: int = Field(
        default=1200,
        ge=0,
        description="Requests a minute per API key and worker before 429 (0: no limit).",
    )
    rate_limit_burst: int = Field(
        default=300, ge=1, description="Requests a key may send at once before the rate applies."
    )
    auth_failures_per_minute: int = Field(
        default=30,
        ge=0,
        description="401 answers a minute per client address before it gets 429 (0: no limit).",
    )
    access_log: bool = Field(
        default=False, description="One JSON log line per request (method, path, status, ms)."
    )
    ranking_cache_entries: int = Field(
        default=5_000,
        ge=0,
        description="Teacher rankings kept per worker between requests (0: none; ~40 KB each).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
