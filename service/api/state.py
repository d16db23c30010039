"""What the app keeps for its lifetime: settings, database, framework and models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from competency_model.framework import Framework, active_framework
from competency_model.graph import CompetencyGraph
from service.model_registry import ModelRegistry
from service.settings import Settings


@dataclass
class ServiceState:
    """Long-lived objects of one app instance (one per :func:`service.app.create_app`)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    registry: ModelRegistry
    extras: dict[str, object] = field(default_factory=dict)

    @cached_property
    def framework(self) -> Framework:
        """The deployment's competency framework (national unless overridden in settings)."""
        return active_framework(self.settings.framework_file)

    @cached_property
    def graph(self) -> CompetencyGraph:
        """The competency graph over :attr:`framework`."""
        return CompetencyGraph(self.framework)

    @cached_property
    def catalog_item_ids(self) -> frozenset[str] | None:
        """Ids of the course/task catalog, used to validate events (None: no catalog yet)."""
        try:
            from training_data.catalog import load_catalog
        except ImportError:
            return None
        return frozenset(item.item_id for item in load_catalog(framework=self.framework).items)
