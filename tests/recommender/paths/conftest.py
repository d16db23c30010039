"""Path-test fixtures: the national framework, its graph and a small hand-made catalog
(so the tests do not depend on the shipped sample catalog)."""

from __future__ import annotations

import pytest

from competency_model.catalog import Catalog, CatalogItem
from competency_model.framework import Framework, default_framework
from competency_model.graph import CompetencyGraph

_LEVELS = ("入门", "进阶", "高阶")


def hand_catalog(
    framework: Framework,
    courses_per_point: int = 3,
    tasks_per_point: int = 2,
    skip_practice: tuple[str, ...] = (),
    course_kind: str | None = None,
) -> Catalog:
    """Per point: online courses (2–3 h; every third is ``live``) and practice tasks (3–4 h).

    Every third point also gets a two-point course shared with the next point, so the
    selection has overlapping items to trade off.
    """
    items: list[CatalogItem] = []
    course, task = 0, 0
    codes = framework.codes
    for n, code in enumerate(codes):
        env = framework.point(code).environment
        for k in range(courses_per_point):
            course += 1
            kind = course_kind or ("live" if k % 3 == 1 else "online_video")
            items.append(
                CatalogItem(
                    item_id=f"CRS-{course:04d}",
                    title_zh=f"{code} 课程{k + 1}",
                    points={code: 1.0},
                    hours=2.0 + (k % 2),
                    kind=kind,
                    stages=["小学", "初中"],
                    subjects=["通用"],
                    environment=env,
                    level=_LEVELS[k % 3],
                )
            )
        if code not in skip_practice:
            for k in range(tasks_per_point):
                task += 1
                items.append(
                    CatalogItem(
                        item_id=f"TSK-{task:04d}",
                        title_zh=f"{code} 实践{k + 1}",
                        points={code: 1.0},
                        hours=3.0 + (k % 2),
                        kind="practice" if k % 2 == 0 else "school_research",
                        stages=["小学", "初中"],
                        subjects=["通用"],
                        environment=env,
                        level=_LEVELS[(k + 1) % 3],
                        artifacts=["教学设计", "教学反思"],
                    )
                )
        nxt = codes[(n + 1) % len(codes)]
        if n % 3 == 0 and framework.point(nxt).environment == env:
            course += 1
            items.append(
                CatalogItem(
                    item_id=f"CRS-{course:04d}",
                    title_zh=f"{code}+{nxt} 综合课程",
                    points={code: 0.6, nxt: 0.4},
                    hours=4.0,
                    kind=course_kind or "online_video",
                    stages=["小学", "初中"],
                    subjects=["通用"],
                    environment=env,
                    level="进阶",
                )
            )
    return Catalog(items, name="hand")


@pytest.fixture(scope="session")
def framework() -> Framework:
    return default_framework()


@pytest.fixture(scope="session")
def graph(framework: Framework) -> CompetencyGraph:
    return CompetencyGraph(framework)


@pytest.fixture(scope="session")
def catalog(framework: Framework) -> Catalog:
    return hand_catalog(framework)


@pytest.fixture(scope="session")
def make_catalog():
    """The :func:`hand_catalog` factory, for tests that need a thinner catalog."""
    return hand_catalog
