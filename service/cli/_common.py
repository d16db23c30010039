"""What several ``nengli`` commands share: the province and model they answer from.

Every command that answers for one teacher or school (``diagnose``, ``path``, ``recommend``,
``school-plan``) reads the same ``--data``/``--model`` defaults and diagnoses through the same
function, so they agree with each other; ``assessment export`` opens the configured database
as the service does. Command modules import from here, never from each other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from competency_model.errors import ModelError

if TYPE_CHECKING:  # only for annotations: ``nengli --help`` must not load pandas
    import pandas as pd

    from competency_model.catalog import Catalog
    from competency_model.framework import Framework
    from competency_model.province import Province
    from service.state import ServiceState

__all__ = [
    "MAX_FRESH_FIT_TEACHERS",
    "diagnose_teachers",
    "load_province_and_model",
    "province_subset",
    "require_model_dir",
    "served_state",
    "service_state",
]

logger = logging.getLogger(__name__)

#: Largest province on which the CLI fits a diagnosis model on the fly.
MAX_FRESH_FIT_TEACHERS = 5_000


def require_model_dir(model_dir: Path | None) -> Path:
    """``model_dir`` if it holds a trained model (``metadata.json``), else a :class:`ModelError`."""
    if model_dir is None or not (model_dir / "metadata.json").is_file():
        raise ModelError(
            f"{model_dir} is not a trained model directory (no metadata.json); run "
            "`nengli train --data DIR --out MODEL_DIR` and pass --model MODEL_DIR"
        )
    return model_dir


def province_subset(province: Province, teacher_ids: list[str]) -> Province:
    """The province restricted to some teachers (their school rows kept whole)."""
    wanted = set(teacher_ids)
    teachers = province.teachers.loc[province.teachers["teacher_id"].astype(str).isin(wanted)]
    schools = province.schools.loc[province.schools["school_id"].isin(set(teachers["school_id"]))]

    def only(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None or "teacher_id" not in table.columns:
            return table
        return table.loc[table["teacher_id"].astype(str).isin(wanted)]

    return replace(
        province,
        schools=schools,
        teachers=teachers,
        responses=only(province.responses),
        grades=only(province.grades),
        events=only(province.events),
        truth_mastery_initial=only(province.truth_mastery_initial),
        truth_mastery=only(province.truth_mastery),
        truth_preferences=only(province.truth_preferences),
    )


def diagnose_teachers(
    province: Province,
    teacher_ids: list[str],
    model_dir: Path | None,
    framework: Framework,
    catalog: Catalog,
) -> tuple[pd.DataFrame, str]:
    """Long diagnosis table for ``teacher_ids`` and where it came from (``model`` / ``fresh fit``).

    Raises
    ------
    ModelError
        No usable model directory and the province is too large to fit on the fly.
    """
    from competency_model.item_bank import load_item_bank
    from recommender.diagnosis.model import DiagnosisModel

    item_bank = load_item_bank(framework=framework)
    subset = province_subset(province, teacher_ids)
    if model_dir is not None and (model_dir / "metadata.json").is_file():
        from recommender.bundle import load_bundle

        model = load_bundle(model_dir, item_bank, framework).diagnosis
        return model.diagnose(subset), f"model {model_dir}"
    n_teachers = len(province.teachers)
    if n_teachers > MAX_FRESH_FIT_TEACHERS:
        raise ModelError(
            f"no trained model in {model_dir} and the province has {n_teachers} teachers "
            f"(> {MAX_FRESH_FIT_TEACHERS} fitted on the fly); run `nengli train --data DIR "
            "--out MODEL_DIR` and pass --model MODEL_DIR"
        )
    logger.warning("no model directory; fitting a diagnosis model on %d teachers", n_teachers)
    model = DiagnosisModel().fit(province, item_bank, framework, catalog)
    return model.diagnose(subset), "fresh fit (no model directory)"


def load_province_and_model(
    data: Path | None, model: Path | None
) -> tuple[Province, Path | None, Framework, Catalog]:
    """The province, the model directory (if it exists), the framework and the catalog.

    Shared by every CLI command that answers for one teacher or school, so they all read the
    same ``--data``/``--model`` defaults (``NENGLI_DATA_DIR``/``NENGLI_MODEL_DIR``).
    """
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.province import read_province
    from service.settings import get_settings

    settings = get_settings()
    data_dir = data if data is not None else settings.data_dir
    model_dir = model if model is not None else settings.model_dir
    framework = default_framework()
    return read_province(data_dir), model_dir, framework, load_catalog(framework=framework)


@contextmanager
def service_state(database_url: str | None = None) -> Iterator[ServiceState]:
    """The service's state over the configured (or given) database, migrated; disposed after.

    Lets a command run a use case exactly as the API would, without an HTTP server.
    """
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.model_registry import ModelRegistry
    from service.settings import get_settings
    from service.state import ServiceState

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        yield ServiceState(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            registry=ModelRegistry(settings.model_dir),
        )
    finally:
        engine.dispose()


@contextmanager
def served_state() -> Iterator[ServiceState]:
    """The state of the app as ``nengli serve`` builds it (its logging set-up aside), with the
    model loaded by the app's own loader (checked against the framework and item bank, erased teachers dropped), so a
    command runs a use case that needs the model exactly as a request would; disposed after.

    Raises :class:`~competency_model.errors.ModelError` when no model is trained.
    """
    from service.app import serving_state
    from service.settings import get_settings

    state = serving_state(get_settings())
    try:
        state.registry.reload()
        yield state
    finally:
        state.engine.dispose()
