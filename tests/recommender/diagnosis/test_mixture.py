"""LatentClassMastery: planted completion effect recovered; works with any subset of evidence."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.diagnosis.evidence import Evidence
from recommender.diagnosis.mixture import LatentClassMastery

GRADE_TABLE = np.array([[0.55, 0.05], [0.40, 0.45], [0.05, 0.50]])  # (not, mastered)
PLANTED = {0: 0.05, 2: 0.35, 3: 0.7}  # none, course, task


def _planted(n: int, k: int, seed: int) -> dict[str, np.ndarray]:
    """Two-class teachers; activity drives learning; grades on half the cells, two per point
    kind of measurement so the learned state is anchored (questionnaire = start)."""
    rng = np.random.default_rng(seed)
    strong = rng.random(n) < 0.5
    start = rng.random((n, k)) < np.where(strong[:, None], 0.7, 0.2)
    activity = rng.choice([0, 2, 3], (n, k), p=[0.5, 0.3, 0.2]).astype(np.int8)
    chance = np.vectorize(PLANTED.get)(activity)
    now = start | (rng.random((n, k)) < chance)
    grade = np.empty((n, k), dtype=np.int8)
    for state in (0, 1):
        cum = np.cumsum(GRADE_TABLE[:, state])
        draw = (rng.random((n, k))[..., None] > cum).sum(axis=2)
        grade = np.where(now == state, draw, grade).astype(np.int8)
    questionnaire = np.where(
        start,
        rng.choice(11, (n, k), p=[0.01] * 5 + [0.05] + [0.9 / 5] * 5),
        rng.choice(11, (n, k), p=[0.9 / 5] * 5 + [0.05] + [0.01] * 5),
    )
    return {
        "start": start,
        "now": now,
        "activity": activity,
        "grade": grade,
        "questionnaire": questionnaire.astype(np.int8),
    }


def _tables() -> dict[str, np.ndarray]:
    q = np.stack([np.linspace(2, 0.1, 11), np.linspace(0.1, 2, 11)], axis=1)
    return {"grade": np.array([[0.6, 0.05], [0.37, 0.6], [0.03, 0.35]]), "questionnaire": q}


@pytest.fixture(scope="module")
def planted():
    return _planted(3000, 10, seed=5)


def test_learned_completion_effect_recovers_planted_value(planted):
    evidence = Evidence({k: planted[k] for k in ("activity", "grade", "questionnaire")})
    n = planted["grade"].shape[0]
    model = LatentClassMastery(n_classes=2, random_state=0, max_iter=400, tol=1e-8).fit(
        evidence, _tables(), np.zeros(n, dtype=np.int64), np.full(n, -1)
    )
    for category, value in PLANTED.items():
        assert model.transition_[category] == pytest.approx(value, abs=0.07)


@pytest.mark.parametrize(
    "kinds",
    [
        ("grade",),
        ("activity",),
        ("questionnaire",),
        ("grade", "activity"),
        ("grade", "activity", "questionnaire"),
    ],
)
def test_any_subset_of_evidence_gives_probabilities(planted, kinds):
    evidence = Evidence({k: planted[k][:400] for k in kinds})
    groups = np.zeros(400, dtype=np.int64)
    model = LatentClassMastery(n_classes=3, random_state=0, max_iter=20).fit(
        evidence, _tables(), groups, np.full(400, -1)
    )
    p = model.predict_proba(evidence, groups, np.full(400, -1))
    assert p.shape == (400, 10) and np.all((p > 0) & (p < 1))
