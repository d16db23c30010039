"""Every ranker passes the checkerboard behaviour tests (:mod:`.behaviour`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from competency_model.catalog import Catalog, CatalogItem
from competency_model.errors import NotFittedError
from competency_model.framework import default_framework
from competency_model.province import Province
from recommender.ranking import CollaborativeFilter, HybridRecommender, LinearRanker
from tests.recommender.ranking.behaviour import RankerBehaviour


class _CFBehaviour(RankerBehaviour):
    algorithm = "als"
    params: dict[str, Any] = {}

    def fit(self, matrix: sp.csr_matrix) -> Any:
        model = CollaborativeFilter(self.algorithm, random_state=0, **self.params)
        return model.fit(matrix), matrix

    def top(self, ranker, teacher, k, exclude=()):  # type: ignore[no-untyped-def]
        model, _ = ranker
        ids, scores = model.recommend(teacher, k=k + len(exclude), filter_seen=True)
        kept = [(int(i), float(s)) for i, s in zip(ids, scores, strict=True) if i not in exclude]
        return [i for i, _ in kept[:k]], [s for _, s in kept[:k]]


class TestALS(_CFBehaviour):
    algorithm = "als"
    params = {"factors": 4, "iterations": 15, "regularization": 0.01}


class TestBPR(_CFBehaviour):
    algorithm = "bpr"
    params = {"factors": 4, "iterations": 300, "learning_rate": 0.05, "regularization": 0.001}


class TestItemKNN(_CFBehaviour):
    algorithm = "item_knn"
    params = {"neighbours": 30}


def _checkerboard_province(matrix: sp.csr_matrix) -> tuple[Province, pd.DataFrame, Catalog]:
    """One school, one 教研组, identical profiles and diagnoses: only co-occurrence differs."""
    n_teachers, n_items = matrix.shape
    teachers = pd.DataFrame(
        {
            "teacher_id": [f"T{u:03d}" for u in range(n_teachers)],
            "school_id": "S1",
            "stage": "小学",
            "subject": "数学",
            "years_of_service": 5,
            "research_group": "数学组",
        }
    )
    schools = pd.DataFrame(
        [
            {
                "school_id": "S1",
                "region": "江苏",
                "city": "南京",
                "district": "玄武",
                "urban_rural": "urban",
                "environment": "multimedia",
                "n_teachers": n_teachers,
                "chosen_points": "",
                "rollout_batch": 1,
            }
        ]
    )
    rows, cols = matrix.nonzero()
    start = pd.Timestamp("2024-01-01")
    events = pd.DataFrame(
        {
            "event_id": [f"E{n:05d}" for n in range(len(rows))],
            "teacher_id": [f"T{u:03d}" for u in rows],
            "item_id": [f"CRS-{i + 1:04d}" for i in cols],
            "event": "complete",
            "value": 1.0,
            "timestamp": [start + pd.Timedelta(hours=int(n)) for n in range(len(rows))],
        }
    )
    codes = default_framework().codes
    mastery = pd.DataFrame(
        [(f"T{u:03d}", code, 0.3) for u in range(n_teachers) for code in codes],
        columns=["teacher_id", "point", "mastery_probability"],
    )
    catalog = Catalog(
        [
            CatalogItem(
                item_id=f"CRS-{i + 1:04d}",
                title_zh=f"课程{i + 1}号：用在线问卷开展学情诊断",
                points={"A1": 1.0},
                hours=2.0,
                kind="online_video",
                stages=["小学"],
                subjects=["数学"],
                environment="multimedia",
                level="入门",
            )
            for i in range(n_items)
        ]
    )
    return Province(schools=schools, teachers=teachers, events=events), mastery, catalog


class TestHybridRecommender(RankerBehaviour):
    def fit(self, matrix: sp.csr_matrix) -> Any:
        province, mastery, catalog = _checkerboard_province(matrix)
        model = HybridRecommender(factors=4, iterations=15, regularization=0.01, random_state=0)
        return model.fit(province, mastery, catalog, default_framework())

    def top(self, ranker, teacher, k, exclude=()):  # type: ignore[no-untyped-def]
        items = [f"CRS-{i + 1:04d}" for i in exclude]
        recs = ranker.recommend(f"T{teacher:03d}", k=k, kind="course", exclude=items)
        return [int(r.item_id[4:]) - 1 for r in recs], [r.score for r in recs]


def test_hybrid_follows_the_sklearn_parameter_contract() -> None:
    model = HybridRecommender(factors=4)
    assert model.get_params()["factors"] == 4
    assert model.set_params(factors=6) is model and model.factors == 6
    assert "factors=6" in repr(model)


@pytest.mark.parametrize(
    "call",
    [
        lambda: HybridRecommender().row_of("T001"),
        lambda: CollaborativeFilter("als").score([0]),
        lambda: LinearRanker().decision({"x": np.zeros((1, 2), np.float32)}),
    ],
    ids=["hybrid", "cf", "ranker"],
)
def test_every_ranker_refuses_to_serve_before_fit(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFittedError, match="not fitted"):
        call()


class TestHybridWithLambdaRank(TestHybridRecommender):
    """The same checkerboard with the LightGBM LambdaRank blend forced."""

    def fit(self, matrix: sp.csr_matrix) -> Any:
        province, mastery, catalog = _checkerboard_province(matrix)
        model = HybridRecommender(
            factors=4, iterations=15, regularization=0.01, ranker="lambdarank", random_state=0
        )
        fitted = model.fit(province, mastery, catalog, default_framework())
        assert fitted.ranker_.kind == "lambdarank"
        return fitted
