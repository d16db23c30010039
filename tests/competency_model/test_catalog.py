"""The catalog contract: point weights, lookups, fitting rules and validation errors naming the row."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from competency_model.catalog import STAGES, Catalog, CatalogItem, default_catalog, load_catalog
from competency_model.errors import CatalogError, NotFoundError
from competency_model.framework import default_framework

_VALID: dict[str, Any] = {
    "item_id": "CRS-0001",
    "title_zh": "初中数学：用在线问卷开展课前学情诊断",
    "points": {"A1": 0.7, "A12": 0.3},
    "hours": 2.0,
    "kind": "online_video",
    "stages": ["初中"],
    "subjects": ["数学"],
    "environment": "multimedia",
    "level": "入门",
    "artifacts": [],
}


def _write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"name": "t", "items": rows}, ensure_ascii=False), encoding="utf-8")
    return path


def test_point_weight_matrix_rows_sum_to_one() -> None:
    catalog = default_catalog()
    matrix = catalog.point_weight_matrix(default_framework().codes)
    assert matrix.shape == (len(catalog), 30)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_to_frame_has_one_row_per_item() -> None:
    frame = default_catalog().to_frame()
    assert len(frame) == len(default_catalog()) and frame["item_id"].is_unique
    assert set(frame["stages"].str.split(";").explode()) <= set(STAGES)


def test_get_unknown_id_raises_not_found() -> None:
    with pytest.raises(NotFoundError, match="CRS-9999"):
        default_catalog().get("CRS-9999")


def test_fits_respects_stage_subject_and_environment() -> None:
    item = CatalogItem(**{**_VALID, "points": {"C4": 1.0}, "environment": "smart"})
    assert item.fits("初中", "数学", "smart")
    assert not item.fits("初中", "数学", "blended")
    assert not item.fits("小学", "数学", "smart")
    assert not item.fits("初中", "语文", "smart")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"points": {"Z9": 1.0}}, "points", "unknown point code 'Z9'"),
        ({"points": {"A1": 0.5, "A2": 0.3}}, "points", "sum to 0.8"),
        ({"points": {"A1": 1.2, "A2": -0.2}}, "points", "must be > 0"),
        ({"points": {}}, "points", "at least one point"),
        ({"hours": -1}, "hours", "positive"),
        ({"hours": 0}, "hours", "positive"),
        ({"kind": "webinar"}, "kind", "online_video"),
        ({"stages": ["大学"]}, "stages", "大学"),
        ({"stages": []}, "stages", "at least one"),
        ({"level": "专家"}, "level", "入门"),
        ({"environment": "vr_lab"}, "environment", "multimedia"),
        ({"points": {"C4": 1.0}}, "environment", "poorer than point C4"),
        ({"item_id": "TSK-0001"}, "item_id", "must start with CRS-"),
        ({"kind": "practice", "item_id": "TSK-0001"}, "artifacts", "evidence artifacts"),
        ({"title_zh": "  "}, "title_zh", "empty"),
    ],
)
def test_invalid_row_names_row_item_and_field(
    tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    good = {**_VALID, "item_id": "CRS-0002", "title_zh": "另一门课"}
    path = _write(tmp_path, [good, {**_VALID, **change}])
    with pytest.raises(CatalogError, match=re.escape(message)) as info:
        load_catalog(path)
    assert info.value.details["row"] == 2
    assert info.value.details["field"] == field
    assert str({**_VALID, **change}["item_id"]) in info.value.message


def test_richer_environment_than_needed_is_fine(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, [{**_VALID, "environment": "smart"}]))
    assert catalog.get("CRS-0001").environment == "smart"


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="duplicate"):
        load_catalog(_write(tmp_path, [_VALID, {**_VALID, "title_zh": "别的课"}]))


def test_csv_catalog_round_trips_the_shipped_items(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    default_catalog().to_frame().to_csv(path, index=False, encoding="utf-8-sig")
    loaded = load_catalog(path)
    assert [i.model_dump() for i in loaded] == [i.model_dump() for i in default_catalog()]


def test_csv_catalog_error_names_the_spreadsheet_row(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    frame = default_catalog().to_frame().head(3)
    frame.loc[2, "hours"] = -2
    frame.to_csv(path, index=False)
    with pytest.raises(CatalogError, match="row 4") as info:
        load_catalog(path)
    assert info.value.details["field"] == "hours"


def test_catalog_constructor_accepts_hand_built_items() -> None:
    catalog = Catalog([CatalogItem(**_VALID)])
    assert catalog.ids == ["CRS-0001"] and "CRS-0001" in catalog and len(catalog.courses) == 1
