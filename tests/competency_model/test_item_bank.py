"""The shipped item bank and the validation of item-bank files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from competency_model.errors import FrameworkError
from competency_model.framework import default_framework
from competency_model.item_bank import (
    ITEM_BANK_PATH,
    Item,
    ItemBank,
    load_item_bank,
    parse_item_bank,
)


@pytest.fixture(scope="module")
def raw_bank() -> dict[str, Any]:
    return json.loads(ITEM_BANK_PATH.read_text(encoding="utf-8"))


def test_shipped_bank_size_and_coverage() -> None:
    bank = load_item_bank()
    q = bank.q_matrix(default_framework().codes)
    assert len(bank) >= 72
    assert q.shape == (len(bank), 30)
    assert (q.sum(axis=0) >= 2).all(), "every point needs at least two items"
    assert set(q.sum(axis=1)) <= {1, 2, 3}


def test_shipped_bank_has_both_kinds_and_scales() -> None:
    bank = load_item_bank()
    kinds = {item.kind for item in bank.items}
    assert kinds == {"scenario", "self_rating"}
    scales = {item.scale_max for item in bank.items if item.kind == "self_rating"}
    assert scales == {4, 5}


def test_shipped_bank_is_complete_for_dina() -> None:
    report = load_item_bank().identifiability(default_framework().codes)
    assert report.complete
    assert report.distinguishable_classes == 2**30
    assert report.jointly_measured == [] and report.unmeasured == []


def test_correct_options_are_spread_over_positions() -> None:
    positions = [i.correct_option for i in load_item_bank().items if i.kind == "scenario"]
    counts = np.bincount(positions, minlength=4)
    assert counts.min() >= 5, f"answer key is guessable: {counts}"


def test_correct_option_is_not_simply_the_longest() -> None:
    scenario = [i for i in load_item_bank().items if i.kind == "scenario"]
    longest = [
        max(range(4), key=lambda k: len(i.options_zh[k])) == i.correct_option for i in scenario
    ]
    assert np.mean(longest) < 0.4, "test-wise teachers could pick the longest option"


def _item(item_id: str, points: list[str], kind: str = "scenario") -> Item:
    if kind == "scenario":
        return Item(
            item_id=item_id,
            kind="scenario",
            stem_zh="题",
            options_zh=list("ABCD"),
            correct_option=0,
            points=points,
        )
    return Item(
        item_id=item_id, kind="self_rating", stem_zh="题", options_zh=[], scale_max=5, points=points
    )


def test_identifiability_enumerates_incomplete_q() -> None:
    # A2 only ever appears with A1, A3 never appears: profiles differing only in A2 collapse
    # when A1 is not mastered, and A3 is invisible.
    bank = ItemBank(
        [_item("Q1", ["A1"]), _item("Q2", ["A1", "A2"]), _item("Q3", ["A3"], "self_rating")]
    )
    report = bank.identifiability(["A1", "A2", "A3"])
    assert not report.complete
    assert report.points_without_single_item == ["A2", "A3"]
    # ideal responses (Q1, Q2): {00, 10, 11} -> 3 classes
    assert report.distinguishable_classes == 3


def test_identifiability_reports_joint_columns() -> None:
    bank = ItemBank([_item("Q1", ["A1", "A2"]), _item("Q2", ["A1", "A2", "A3"])])
    report = bank.identifiability(["A1", "A2", "A3"])
    assert report.jointly_measured == [["A1", "A2"]]


def _mutate(raw: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    data["items"][index].update(changes)
    return data


@pytest.mark.parametrize(
    ("index", "changes", "fragment"),
    [
        (0, {"points": ["Z9"]}, "unknown point"),
        (0, {"points": []}, "0 points"),
        (0, {"points": ["A1", "A2", "A3", "A4"]}, "4 points"),
        (0, {"correct_option": 4}, "correct_option=4"),
        (0, {"correct_option": None}, "correct_option=None"),
        (0, {"options_zh": ["甲", "乙", "丙"]}, "3 options"),
        (1, {"scale_max": 7, "options_zh": []}, "scale_max=7"),
        (1, {"scale_max": None}, "scale_max=None"),
        (1, {"kind": "essay"}, "'kind'"),
    ],
)
def test_invalid_item_is_named(
    raw_bank: dict[str, Any], index: int, changes: dict[str, Any], fragment: str
) -> None:
    data = _mutate(raw_bank, index, **changes)
    item_id = data["items"][index]["item_id"]
    with pytest.raises(FrameworkError) as info:
        parse_item_bank(data, default_framework())
    assert item_id in info.value.message
    assert fragment in info.value.message


def test_duplicate_id_is_rejected(raw_bank: dict[str, Any]) -> None:
    data = _mutate(raw_bank, 1, item_id=raw_bank["items"][0]["item_id"])
    with pytest.raises(FrameworkError, match="duplicate item id 'Q001'"):
        parse_item_bank(data, default_framework())


def test_load_from_path_round_trips(tmp_path: Path, raw_bank: dict[str, Any]) -> None:
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(raw_bank, ensure_ascii=False), encoding="utf-8")
    bank = load_item_bank(path, default_framework())
    assert bank.item_ids == load_item_bank().item_ids


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="does not exist"):
        load_item_bank(tmp_path / "nope.json")


def test_q_matrix_refuses_codes_that_drop_a_point() -> None:
    with pytest.raises(FrameworkError, match="Q001"):
        load_item_bank().q_matrix(["B1"])
