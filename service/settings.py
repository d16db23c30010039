"""Runtime settings, read from the environment with the ``NENGLI_`` prefix.

Kept in one pydantic-settings model so the CLI, the service and the tests agree on defaults and
so a deployment can be configured without touching code (``NENGLI_DATABASE_URL=postgresql+psycopg://…``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
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
    row_security: bool = Field(
        default=True,
        description="PostgreSQL: API transactions run as role nengli_api limited to the key's "
        "region (row-level security; the login must be a member of nengli_api).",
    )
    access_log: bool = Field(
        default=False,
        description="One JSON log line per request (method, route template, status, ms).",
    )
    retention_events_days: int | None = Field(
        default=None,
        ge=1,
        description="`nengli retention apply` deletes learning events older than this (unset: kept).",
    )
    retention_answers_days: int | None = Field(
        default=None,
        ge=1,
        description="… questionnaire answers older than this (unset: kept).",
    )
    retention_audit_days: int | None = Field(
        default=None,
        ge=1,
        description="… read-audit entries older than this (unset: kept; PIPL art. 55-56: ≥ 3 years).",
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics without a key (only behind a private network); else admin.",
    )
    ranking_cache_entries: int = Field(
        default=5_000,
        ge=0,
        description="Teacher rankings kept per worker between requests (0: none; ~40 KB each).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL of the province's OpenID Connect provider (unset: no sign-in).",
    )
    oidc_client_id: str | None = Field(default=None, description="This service's client id.")
    oidc_client_secret: str | None = Field(
        default=None, description="Client secret (unset: a public client, protected by PKCE)."
    )
    oidc_scopes: str = Field(
        default="openid profile", description="Scopes asked for at sign-in (must include openid)."
    )
    oidc_claims_mapping: Path | None = Field(
        default=None, description="JSON file mapping the provider's claims to roles and scopes."
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="Callback URL registered at the provider (default: this server's /auth/callback).",
    )
    session_secret: str | None = Field(
        default=None, description="Secret signing the sign-in cookie (≥ 32 characters)."
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, gt=0, description="How long a sign-in lasts."
    )
    session_https_only: bool = Field(
        default=True, description="Send the sign-in cookie over HTTPS only (off for local tests)."
    )

    @model_validator(mode="after")
    def _sign_in_is_complete(self) -> Settings:
        """Refuse to start with half a sign-in configuration or a guessable cookie secret."""
        if self.oidc_issuer is None:
            return self
        missing = [
            f"NENGLI_{name.upper()}"
            for name in ("oidc_client_id", "oidc_claims_mapping", "session_secret")
            if getattr(self, name) in (None, "")
        ]
        if missing:
            raise ValueError(f"NENGLI_OIDC_ISSUER is set, so {', '.join(missing)} must be too")
        if len(self.session_secret or "") < 32 or self.session_secret in _KNOWN_SECRETS:
            raise ValueError(
                "NENGLI_SESSION_SECRET must be a random string of at least 32 characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if "openid" not in self.oidc_scopes.split():
            raise ValueError(f"NENGLI_OIDC_SCOPES must include 'openid', got {self.oidc_scopes!r}")
        return self


#: Secrets copied from documentation are as good as none.
_KNOWN_SECRETS = frozenset({"changeme" * 4, "secret" * 6, "x" * 32})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
