"""What the app keeps for its lifetime: settings, database, framework and models."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from competency_model.catalog import Catalog, load_catalog
from competency_model.framework import Framework
from competency_model.framework_files import active_framework
from competency_model.graph import CompetencyGraph
from competency_model.item_bank import ItemBank, default_item_bank, load_item_bank
from service.audit import AuditBatcher
from service.auth import KeyCache
from service.db.async_driver import AsyncStatements
from service.db.engine import make_engine
from service.model_registry import ModelRegistry
from service.settings import Settings
from service.usecases.precomputed import ListedJson
from service.usecases.ranking_cache import RankingCache

#: Connections of :attr:`ServiceState.read_engine`, kept open (per worker process).
READ_POOL_SIZE = 10


@dataclass
class ServiceState:
    """Long-lived objects of one app instance (one per :func:`service.app.create_app`)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    registry: ModelRegistry

    @cached_property
    def framework(self) -> Framework:
        """The deployment's competency framework (national unless overridden in settings)."""
        return active_framework(self.settings.framework_file)

    @cached_property
    def graph(self) -> CompetencyGraph:
        """The competency graph over :attr:`framework`."""
        return CompetencyGraph(self.framework)

    @cached_property
    def catalog(self) -> Catalog:
        """The course/task catalog validated against :attr:`framework`."""
        return load_catalog(framework=self.framework)

    @cached_property
    def catalog_item_ids(self) -> frozenset[str]:
        """Ids of the course/task catalog, used to validate events."""
        return frozenset(self.catalog.ids)

    @cached_property
    def item_bank(self) -> ItemBank:
        """The questionnaire item bank validated against :attr:`framework`."""
        if self.settings.framework_file is None:
            return default_item_bank()
        return load_item_bank(framework=self.framework)

    @cached_property
    def key_cache(self) -> KeyCache:
        """Keys verified in the last few seconds (see :class:`~service.auth.KeyCache`)."""
        return KeyCache()

    @cached_property
    def read_engine(self) -> Engine:
        """A pool for the recommendation request's one read, without the pre-ping round trip.

        That read sends itself again on a new connection when the server closed a pooled
        one (:func:`service.db.driver_query.run_together`), so it does not need the ``SELECT
        1`` the main pool sends at every checkout; the ping was about a fifth of the read's
        client CPU (docs/benchmarks.md, 2026-12-03).

        A fixed pool (:data:`READ_POOL_SIZE` connections, no overflow): under load the
        main pool's overflow opened a connection for about one request in six and closed it
        again, and a PostgreSQL backend's start cost more than the read itself
        (docs/benchmarks.md, 2026-12-04). A request that finds every connection busy waits for
        one; the database, on the same few cores, would not run more reads at once faster.
        SQLite: the main engine.
        """
        if self.engine.dialect.name == "sqlite":
            return self.engine
        url = self.engine.url.render_as_string(hide_password=False)
        return make_engine(url, pre_ping=False, pool_size=READ_POOL_SIZE, max_overflow=0)

    @cached_property
    def list_statements(self) -> AsyncStatements | None:
        """The recommendation read awaited on the event loop (psycopg); None elsewhere.

        :data:`READ_POOL_SIZE` asyncio connections per event loop to :attr:`read_engine`'s
        database (:mod:`service.db.async_driver`): the read of a known teacher costs no
        thread hand-off. SQLite and other drivers read through :attr:`read_engine` in a
        worker thread.
        """
        if self.read_engine.dialect.driver != "psycopg":
            return None
        return AsyncStatements(self.read_engine, READ_POOL_SIZE)

    @cached_property
    def listed_json(self) -> ListedJson:
        """The catalog part of stored list items, rendered once per model (precomputed lists)."""
        return ListedJson()

    @cached_property
    def ranking_cache(self) -> RankingCache:
        """Known teachers' rankings kept between requests (see :mod:`service.usecases.ranking_cache`)."""
        return RankingCache(self.settings.ranking_cache_entries)

    @cached_property
    def audit_batcher(self) -> AuditBatcher:
        """Group commit of audit entries for ``async`` routes."""
        return AuditBatcher(self.engine)
