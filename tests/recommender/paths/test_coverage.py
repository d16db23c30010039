"""Every stage × environment × policy cell: ≥ 99 % of teachers get a compliant plan (issue 18)."""

from __future__ import annotations

import pytest

from competency_model.catalog import STAGES, CatalogItem, load_catalog
from competency_model.framework import ENVIRONMENTS, default_framework
from competency_model.policy import load_policy
from recommender.paths.coverage import catalog_check, plan_coverage, simulated_cells

POLICIES = ("national", "jiangsu", "chongqing", "sichuan")


@pytest.fixture(scope="module")
def shipped():
    framework = default_framework()
    return framework, load_catalog(framework=framework)


@pytest.fixture(scope="module")
def province(shipped):
    framework, catalog = shipped
    return simulated_cells(6000, 200, per_cell=3, seed=0, framework=framework, catalog=catalog)


def test_the_simulated_province_has_every_cell(province) -> None:
    teachers, _ = province
    cells = set(zip(teachers["stage"], teachers["environment"], strict=True))
    assert cells == {(s, e) for s in STAGES for e in ENVIRONMENTS}


def test_every_cell_reaches_99_percent(province, shipped) -> None:
    framework, catalog = shipped
    teachers, mastery = province
    table = plan_coverage(teachers, mastery, [load_policy(p) for p in POLICIES], catalog, framework)
    assert len(table) == len(POLICIES) * len(STAGES) * len(ENVIRONMENTS)
    short = table.loc[table["share"] < 0.99]
    assert short.empty, short.to_dict("records")


@pytest.mark.parametrize("policy", POLICIES)
def test_shipped_catalog_is_possible_everywhere(policy, shipped) -> None:
    framework, catalog = shipped
    cells = catalog_check(load_policy(policy), catalog, framework)
    assert [c.as_dict() for c in cells if not c.possible] == []
    assert len(cells) == len(STAGES) * len(ENVIRONMENTS)


def test_catalog_check_names_what_is_missing(shipped) -> None:
    """Without 幼儿园 practice tasks, 幼儿园 cells fail on practice and the others still pass."""
    framework, catalog = shipped
    from competency_model.catalog import PRACTICE_KINDS, Catalog

    items: list[CatalogItem] = []
    for item in catalog.items:
        if item.kind in PRACTICE_KINDS and "幼儿园" in item.stages:
            if item.stages == ["幼儿园"]:
                continue
            item = item.model_copy(update={"stages": [s for s in item.stages if s != "幼儿园"]})
        items.append(item)
    cells = catalog_check(
        load_policy("jiangsu"), Catalog(items, name="no-kindergarten-practice"), framework
    )
    failing = {(c.stage, c.environment) for c in cells if not c.possible}
    assert failing == {("幼儿园", e) for e in ENVIRONMENTS}
    rules = {v["rule"] for c in cells if not c.possible for v in c.missing}
    assert "min_points" in rules
