"""Loading and validating the competency framework."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from competency_model.errors import FrameworkError
from competency_model.framework import (
    DIMENSIONS,
    ENVIRONMENTS,
    RATINGS,
    default_framework,
    normalize_environment,
    parse_framework,
)
from competency_model.framework_files import load_framework


def test_national_framework_has_30_points_split_13_10_7() -> None:
    fw = default_framework()
    assert len(fw.points) == 30
    counts = Counter(p.environment for p in fw.points)
    assert counts == {"multimedia": 13, "blended": 10, "smart": 7}


def test_national_framework_covers_every_dimension_in_every_environment() -> None:
    fw = default_framework()
    for env in ENVIRONMENTS:
        assert {p.dimension for p in fw.points if p.environment == env} == set(DIMENSIONS)


def test_verified_names_match_the_sources() -> None:
    fw = default_framework()
    verified = {p.code for p in fw.points if p.verification.status == "verified"}
    assert verified == {"A1", "A3", "A6", "B3", "B6", "C4"}
    assert fw.point("B2").verification.status == "weakly_verified"


def test_unverified_point_is_marked_in_its_display_name() -> None:
    fw = default_framework()
    assert "未核实" in fw.point("A2").display_name_zh
    assert fw.point("A1").display_name_zh == fw.point("A1").name_zh


def test_classroom_clip_is_capped_at_ten_minutes() -> None:
    clip = next(a for a in default_framework().point("A6").artifacts if a.name_zh == "课堂实录片段")
    assert clip.max_minutes == 10 and clip.required


def test_every_changed_edge_records_why() -> None:
    fw = default_framework()
    reviewed = [e for e in fw.edges if e.review is not None]
    assert reviewed, "the shipped data should document its edge review"
    assert all(e.review.reason_zh and e.review.reason_en for e in reviewed)
    assert not any(e.official for e in fw.edges)


def test_codes_and_index_follow_file_order() -> None:
    fw = default_framework()
    assert fw.codes[0] == "A1" and fw.index("C7") == 29


def test_unknown_code_lookup_names_the_code() -> None:
    with pytest.raises(FrameworkError, match="'Z9'"):
        default_framework().point("Z9")


@pytest.mark.parametrize(
    ("ratings", "missing", "expected"),
    [
        (["优秀", "优秀", "优秀"], 0, "优秀"),
        (["优秀", "合格"], 0, "合格"),
        (["合格", "合格"], 0, "合格"),
        (["优秀", "不合格"], 0, "不合格"),
        (["优秀", "优秀"], 1, "不合格"),
        ([], 0, "不合格"),
    ],
)
def test_rating_rule_aggregates_items(ratings: list[str], missing: int, expected: str) -> None:
    rule = default_framework().point("A6").rating_rule
    assert rule.aggregate(ratings, missing_required=missing) == expected
    assert expected in RATINGS


def test_rating_rule_rejects_unknown_rating() -> None:
    with pytest.raises(FrameworkError, match="'良好'"):
        default_framework().point("A1").rating_rule.aggregate(["良好"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("multimedia", "multimedia"),
        ("A", "multimedia"),
        ("b", "blended"),
        ("智慧学习环境", "smart"),
        ("混合学习环境", "blended"),
    ],
)
def test_normalize_environment(value: str, expected: str) -> None:
    assert normalize_environment(value) == expected


def test_normalize_environment_rejects_unknown() -> None:
    with pytest.raises(FrameworkError, match="'VR'"):
        normalize_environment("VR")


# --- one test per kind of bad input -------------------------------------------------------------


def test_unknown_environment_names_the_point(national_doc: dict[str, Any]) -> None:
    national_doc["points"][4]["environment"] = "virtual"
    with pytest.raises(FrameworkError, match=r"point #4 \(A5\).*'virtual'"):
        parse_framework(national_doc)


def test_unknown_dimension_names_the_point(national_doc: dict[str, Any]) -> None:
    national_doc["points"][13]["dimension"] = "pedagogy"
    with pytest.raises(FrameworkError, match=r"\(B1\).*'pedagogy'"):
        parse_framework(national_doc)


def test_duplicate_code_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["points"][1]["code"] = "A1"
    with pytest.raises(FrameworkError, match="duplicate point code 'A1'"):
        parse_framework(national_doc)


def test_edge_to_unknown_point_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["edges"].append({"source": "A1", "target": "D1", "kind": "related", "weight": 0.5})
    with pytest.raises(FrameworkError, match="A1->D1.*unknown point 'D1'"):
        parse_framework(national_doc)


def test_prerequisite_cycle_is_rejected(national_doc: dict[str, Any]) -> None:
    # A2 -> A3 exists; closing the loop must fail and name the cycle.
    national_doc["edges"].append(
        {"source": "A3", "target": "A2", "kind": "prerequisite", "weight": 0.6}
    )
    with pytest.raises(FrameworkError, match="cycle.*A2.*A3|cycle.*A3.*A2"):
        parse_framework(national_doc)


def test_unknown_edge_kind_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["edges"][0]["kind"] = "informs"
    with pytest.raises(FrameworkError, match=r"edge #0 \(A1->B1\).*'informs'"):
        parse_framework(national_doc)


def test_progression_across_dimensions_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["edges"].append(
        {"source": "B4", "target": "C3", "kind": "progression", "weight": 0.3}
    )
    with pytest.raises(FrameworkError, match="B4->C3.*one dimension"):
        parse_framework(national_doc)


def test_progression_to_poorer_environment_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["edges"].append(
        {"source": "B9", "target": "A9", "kind": "progression", "weight": 0.3}
    )
    with pytest.raises(FrameworkError, match="B9->A9.*richer environment"):
        parse_framework(national_doc)


def test_weight_out_of_range_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["edges"][0]["weight"] = 1.5
    with pytest.raises(FrameworkError, match="edge #0.*weight"):
        parse_framework(national_doc)


def test_duplicate_edge_is_rejected(national_doc: dict[str, Any]) -> None:
    national_doc["edges"].append(dict(national_doc["edges"][0]))
    with pytest.raises(FrameworkError, match="listed twice"):
        parse_framework(national_doc)


def test_missing_file_is_a_framework_error(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="does not exist"):
        load_framework(tmp_path / "nope.json")


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"points": [\n,]}', encoding="utf-8")
    with pytest.raises(FrameworkError, match="line 2"):
        load_framework(bad)


def test_full_replacement_file_is_accepted(tmp_path: Path, national_doc: dict[str, Any]) -> None:
    national_doc["name"] = "henan"
    national_doc["points"][1]["name_zh"] = "数字资源的获取与评价"
    path = tmp_path / "henan.json"
    path.write_text(json.dumps(national_doc, ensure_ascii=False), encoding="utf-8")
    fw = load_framework(path)
    assert fw.name == "henan" and fw.point("A2").name_zh == "数字资源的获取与评价"
