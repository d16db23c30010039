"""The FastAPI application factory.

``create_app(settings)`` builds one self-contained app: its own engine (migrated to the latest
revision on start), its own model registry and the routers of ``service/api/routes``. Tests
build as many apps as they need, each on its own database.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from sqlalchemy import Engine

from recommender.bundle import ModelBundle, load_bundle
from service.api.docs import mount_docs
from service.api.input_guard import ControlCharacterGuard
from service.api.keep_alive import AnswerUnhandledErrors
from service.api.openapi_errors import install_error_responses
from service.api.problems import BodySizeLimit, install_problem_handlers
from service.api.rate_limit import RateLimit
from service.api.routes import (
    admin,
    assessment,
    audit,
    competencies,
    dashboard,
    events,
    health,
    imports,
    metrics,
    planning,
    school_views,
    schools,
    signin,
    teacher_models,
    teachers,
)
from service.api.ui import mount_ui
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.model_registry import ModelRegistry
from service.observability import RequestContext, configure_logging
from service.reloads import follow_reloads
from service.settings import Settings, get_settings
from service.state import ServiceState
from service.usecases.erasure import follow_erasures, forget_erased

__all__ = ["create_app", "serving_state"]

_SESSION_COOKIE = "nengli_session"

DESCRIPTION = """
Diagnosis, course recommendation and learning paths for the 信息技术应用能力提升工程2.0
micro-competency points. Authenticate with `Authorization: Bearer <key>` (see `nengli keys
create`). Every error is an RFC 9457 `application/problem+json` document.
"""


def create_app(settings: Settings | None = None, registry: ModelRegistry | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment).

    Parameters
    ----------
    settings
        Database URL, model directory, body limit, …
    registry
        A pre-built model registry (tests share one across apps to avoid reloading models).
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    state = serving_state(settings, registry)
    engine = state.engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if state.registry.current is None:
            state.registry.try_initial_load()
        # The model and catalog live as long as the process: move them out of the cyclic
        # collector's reach, so its full passes stop walking them (they showed as p99 stalls).
        gc.collect()
        gc.freeze()
        followers = []
        if settings.reload_poll_seconds > 0:
            interval = settings.reload_poll_seconds
            followers.append(asyncio.create_task(follow_reloads(state, interval)))
            followers.append(
                asyncio.create_task(
                    follow_erasures(
                        engine, lambda: state.registry.current, state.ranking_cache, interval
                    )
                )
            )
        yield
        for follower in followers:
            follower.cancel()
            with suppress(asyncio.CancelledError):
                await follower
        if "audit_batcher" in vars(state):  # created on first use
            await state.audit_batcher.aclose()
        if "list_statements" in vars(state) and state.list_statements is not None:
            await state.list_statements.aclose()
        if "key_cache" in vars(state):  # last-used times seen since their last write
            state.key_cache.usage.flush(engine)
        if "read_engine" in vars(state) and state.read_engine is not engine:
            state.read_engine.dispose()
        engine.dispose()

    app = FastAPI(
        title="nengli",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc come from mount_docs: FastAPI's own pages load their assets from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # Off unless asked for: when on, every request first asks the OpenTelemetry providers
        # whether anyone listens (measured in docs/benchmarks.md, section service).
        telemetry={
            "tracing": settings.telemetry,
            "metrics": settings.telemetry,
            "logs": settings.telemetry,
        },
    )
    app.state.nengli = state
    install_problem_handlers(app)
    install_error_responses(app)
    for module in (  # the most requested first: routing tries the paths in this order
        teacher_models,
        health,
        competencies,
        schools,
        teachers,
        planning,
        school_views,
        dashboard,
        assessment,
        events,
        imports,
        admin,
        audit,
        metrics,
        signin,
    ):
        app.include_router(module.router)
    _install_sign_in(app, settings)
    mount_docs(app)
    mount_ui(app)  # last, so API routes keep priority over the dashboard's static files
    app.add_middleware(AnswerUnhandledErrors)  # innermost: a 500 keeps the connection open
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ControlCharacterGuard)
    app.add_middleware(
        RateLimit,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        auth_failures_per_minute=settings.auth_failures_per_minute,
    )
    # Outermost: every answer, a 429 or 413 included, gets its request id and is counted.
    app.add_middleware(RequestContext, access_log_enabled=settings.access_log)
    return app


def serving_state(settings: Settings, registry: ModelRegistry | None = None) -> ServiceState:
    """The state the app serves from: the database migrated, and a model registry whose loader
    checks a model against this deployment's framework and item bank and forgets the erased
    teachers before it serves. Shared with commands that run a use case as a request would
    (``nengli db warm``); the model is not loaded here, and logging is left as the caller set
    it."""
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    state = ServiceState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        registry=registry or ModelRegistry(settings.model_dir),
    )
    if registry is None:
        state.registry.use_loader(
            lambda path: _without_erased(
                engine, load_bundle(path, state.item_bank, state.framework)
            )
        )
    return state


def _without_erased(engine: Engine, bundle: ModelBundle) -> ModelBundle:
    """A loaded bundle with every erased teacher forgotten, before it serves a request."""
    forget_erased(engine, bundle)
    return bundle


def _install_sign_in(app: FastAPI, settings: Settings) -> None:
    """OpenID Connect sign-in and its session cookie, when the deployment configured a provider.

    Without ``NENGLI_OIDC_ISSUER`` no session middleware is installed at all, so API-key
    traffic pays nothing for the feature.
    """
    app.state.signin = None
    if settings.oidc_issuer is None:
        return
    from starlette.middleware.sessions import SessionMiddleware

    from service.signin.client import SignIn

    app.state.signin = SignIn(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret or "",
        session_cookie=_SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.session_https_only,
    )
