"""A tiny hand-made province (three schools, twelve teachers) with known mastery values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from competency_model.catalog import Catalog, CatalogItem, load_catalog
from competency_model.framework import Framework, default_framework
from competency_model.policy import Policy, load_policy


@pytest.fixture(scope="session")
def framework() -> Framework:
    return default_framework()


@pytest.fixture(scope="session")
def jiangsu() -> Policy:
    return load_policy("jiangsu")


@pytest.fixture(scope="session")
def shipped_catalog(framework) -> Catalog:
    return load_catalog(framework=framework)


@pytest.fixture(scope="session")
def schools() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_id": ["S000001", "S000002", "S000003"],
            "region": ["江苏"] * 3,
            "city": ["南京", "南京", "徐州"],
            "district": ["玄武区", "江宁区", "丰县"],
            "urban_rural": ["urban", "urban", "rural"],
            "environment": ["smart", "blended", "multimedia"],
            "n_teachers": [4, 4, 4],
            "chosen_points": ["A1;B2;C1", "A3;B6", "A1;A9"],
            "rollout_batch": [1, 2, 3],
        }
    )


@pytest.fixture(scope="session")
def teachers() -> pd.DataFrame:
    ids = [f"T{i:07d}" for i in range(1, 13)]
    return pd.DataFrame(
        {
            "teacher_id": ids,
            "school_id": ["S000001"] * 4 + ["S000002"] * 4 + ["S000003"] * 4,
            "stage": ["小学"] * 12,
            "subject": ["数学", "语文"] * 6,
            "years_of_service": [5] * 12,
            "research_group": ["小学数学组", "小学语文组"] * 6,
        }
    )


@pytest.fixture(scope="session")
def wide_mastery(framework, teachers) -> pd.DataFrame:
    """School 1 strong (0.9), school 2 middling (0.6), school 3 weak (0.3); A9 weakest in S3."""
    codes = framework.codes
    level = {"S000001": 0.9, "S000002": 0.6, "S000003": 0.3}
    rows = []
    for teacher in teachers.itertuples():
        values = np.full(len(codes), level[teacher.school_id])
        if teacher.school_id == "S000003":
            values[codes.index("A9")] = 0.05
        rows.append([teacher.teacher_id, *values])
    return pd.DataFrame(rows, columns=["teacher_id", *codes])


@pytest.fixture()
def tiny_catalog(framework) -> Catalog:
    """Two courses and one practice task for A1, one course for A2 (hours 2, 3, 4, 1.5)."""

    def item(item_id, kind, hours, points, artifacts=()):
        return CatalogItem(
            item_id=item_id,
            title_zh=item_id,
            points=points,
            hours=hours,
            kind=kind,
            stages=["小学"],
            subjects=["通用"],
            environment="multimedia",
            level="入门",
            artifacts=list(artifacts),
        )

    return Catalog(
        [
            item("CRS-0001", "online_video", 2.0, {"A1": 1.0}),
            item("CRS-0002", "live", 3.0, {"A1": 1.0}),
            item("TSK-0001", "practice", 4.0, {"A1": 1.0}, ["教学设计"]),
            item("CRS-0003", "online_video", 1.5, {"A2": 1.0}),
        ]
    )
