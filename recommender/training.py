"""From a province directory to a model directory: the ``nengli train`` pipeline.

Reads the province tables, fits the diagnosis model and diagnoses every teacher, fits the
hybrid recommender on the events and that diagnosis, measures it on a held-out slice of the same
data, and writes one self-contained model bundle (:func:`recommender.bundle.save_bundle`): the
hybrid's arrays, the diagnosis arrays, the teacher and item indexes, and ``metadata.json`` with
versions, the data hash and the metrics. The service loads it with
:func:`recommender.bundle.load_bundle`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from competency_model.catalog import Catalog
from competency_model.framework import Framework
from competency_model.item_bank import ItemBank
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import Province
from recommender.artifacts import hash_frames
from recommender.bundle import ModelBundle, save_bundle
from recommender.diagnosis.model import DiagnosisModel
from recommender.ranking import HybridRecommender

__all__ = ["diagnose_province", "train_model_dir"]

logger = logging.getLogger(__name__)


def diagnose_province(
    province: Province, item_bank: ItemBank, framework: Framework, catalog: Catalog
) -> tuple[pd.DataFrame, DiagnosisModel]:
    """Fit :class:`~recommender.diagnosis.DiagnosisModel` and diagnose every teacher.

    Returns the long diagnosis table and the fitted model (stored next to the recommender so
    the service can diagnose new questionnaires with the same parameters).
    """
    model = DiagnosisModel().fit(province, item_bank, framework, catalog)
    return model.diagnose(province), model


def train_model_dir(
    data_dir: str | Path,
    out_dir: str | Path,
    policy: str | None = None,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    province: Province | None = None,
    progress: ProgressReporter = NO_PROGRESS,
) -> dict[str, Any]:
    """Train on the province in ``data_dir`` and write the model directory ``out_dir``.

    ``province`` is ``data_dir`` already read (``nengli train`` reads and checks it first);
    otherwise it is read here, its events column-wise
    (:func:`~competency_model.province_columns.read_training_province`). ``progress`` hears
    each stage (reading, diagnosis, the recommender's own stages, saving); training takes
    minutes on a real province and a silent terminal looks like a hang.

    Returns
    -------
    dict
        The metadata written to ``metadata.json`` (without the file hashes).
    """
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank
    from competency_model.policy import load_policy
    from competency_model.province_columns import read_training_province

    started = time.perf_counter()
    if province is None:
        progress.stage("读取数据 reading the province")
        province = read_training_province(data_dir)
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    item_bank = load_item_bank(framework=framework)
    regional = load_policy(policy) if policy else None
    progress.stage(f"诊断模型 fitting the diagnosis ({len(province.teachers)} teachers)")
    mastery, diagnosis = diagnose_province(province, item_bank, framework, catalog)
    diagnosed = time.perf_counter()
    model = HybridRecommender(random_state=seed, **(params or {})).fit(
        province,
        mastery,
        catalog,
        framework,
        regional,
        rediagnose=diagnosis.diagnose,
        progress=progress,
    )
    metadata: dict[str, Any] = {
        "data_hash": hash_frames(
            {
                name: getattr(province, name)
                for name in ("schools", "teachers", "responses", "grades", "events")
            }
        ),
        "data_dir": str(Path(data_dir).resolve()),
        "policy": regional.name if regional else "default",
        "n_teachers": int(len(province.teachers)),
        "n_events": int(len(province.events)),
        "n_items": int(len(model.items_.item_ids)),
        "signals": list(model.ranker_.names_),
        "model_selection": model.validation_metrics_,
        "metrics": {
            "validation": model.validation_metrics_,
            "ranker_weights": {
                "warm": model.ranker_.weights(),
                "cold": model.cold_ranker_.weights(),
            },
        },
        "timings_seconds": {
            "diagnosis": round(diagnosed - started, 2),
            "recommender": round(time.perf_counter() - diagnosed, 2),
        },
    }
    progress.stage("保存 saving the model directory")
    save_bundle(ModelBundle(diagnosis, model, metadata), out_dir)
    logger.info(
        "model written", extra={"out_dir": str(out_dir), "teachers": metadata["n_teachers"]}
    )
    return metadata
