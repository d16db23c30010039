"""``nengli recommend``: top courses or tasks from the trained hybrid recommender, with reasons."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from competency_model.catalog import default_catalog
from service.cli.main import app


def _args(trained, teacher_id: str, *extra: str) -> list[str]:
    return [
        "recommend",
        teacher_id,
        "--data",
        str(trained.data_dir),
        "--model",
        str(trained.model_dir),
        *extra,
    ]


def _items(trained, *extra: str) -> list[dict]:
    result = CliRunner().invoke(app, _args(trained, trained.teacher_id, "--json", *extra))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["items"]


@pytest.mark.parametrize(("kind", "prefix"), [("course", "CRS-"), ("task", "TSK-")])
def test_json_lists_k_distinct_items_of_the_kind_with_reasons(trained_province, kind, prefix):
    items = _items(trained_province, "--kind", kind, "--k", "5")
    catalog = default_catalog()
    assert 0 < len(items) <= 5
    assert len({item["item_id"] for item in items}) == len(items)
    for item in items:
        assert item["item_id"].startswith(prefix)
        assert item["title_zh"] == catalog.get(item["item_id"]).title_zh
        assert item["hours"] > 0 and item["points"]
        assert item["reasons_zh"] and item["reasons_en"]
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)


def test_completed_items_are_not_recommended(trained_province) -> None:
    events = trained_province.province.events
    done = set(
        events.loc[
            (events["teacher_id"].astype(str) == trained_province.teacher_id)
            & (events["event"] == "complete"),
            "item_id",
        ].astype(str)
    )
    recommended = {item["item_id"] for item in _items(trained_province, "--k", "20")}
    assert not recommended & done


def test_no_personalized_uses_popularity_only(trained_province) -> None:
    items = _items(trained_province, "--no-personalized", "--k", "5")
    assert items
    assert all(set(item["signals"]) == {"popularity"} for item in items)


@pytest.mark.parametrize(("lang", "field"), [("zh", "reasons_zh"), ("en", "reasons_en")])
def test_table_prints_reasons_in_the_chosen_language(trained_province, lang, field) -> None:
    items = _items(trained_province, "--k", "3")
    result = CliRunner().invoke(
        app, _args(trained_province, trained_province.teacher_id, "--k", "3", "--lang", lang)
    )
    assert result.exit_code == 0, result.output
    for item in items:
        assert item["item_id"] in result.output and item["title_zh"] in result.output
        for reason in item[field]:
            assert f"- {reason}" in result.output


def test_unknown_teacher_exits_2_with_message(trained_province, run_main) -> None:
    result = run_main(_args(trained_province, "T9999999"))
    assert result.exit_code == 2
    assert "T9999999" in result.stderr


def test_bad_kind_is_a_usage_error(trained_province) -> None:
    result = CliRunner().invoke(
        app, _args(trained_province, trained_province.teacher_id, "--kind", "video")
    )
    assert result.exit_code == 2


def test_missing_model_directory_exits_2_naming_train(trained_province, run_main, tmp_path):
    args = _args(trained_province, trained_province.teacher_id)
    args[args.index("--model") + 1] = str(tmp_path / "absent")
    result = run_main(args)
    assert result.exit_code == 2
    assert "nengli train" in result.stderr


def test_teacher_added_after_training_gets_a_cold_start_list(trained_province, tmp_path) -> None:
    """As the API does: profile plus a diagnosis of their answers, or the school's generic list."""
    import dataclasses

    import pandas as pd

    from competency_model.province import write_province

    province = trained_province.province
    newcomer = province.teachers.iloc[[0]].assign(teacher_id="T9999999")
    answers = province.responses.loc[
        province.responses["teacher_id"] == trained_province.teacher_id
    ].assign(teacher_id="T9999999")
    grown = dataclasses.replace(
        province,
        teachers=pd.concat([province.teachers, newcomer], ignore_index=True),
        responses=pd.concat([province.responses, answers], ignore_index=True),
    )
    data_dir = tmp_path / "grown"
    write_province(grown, data_dir)
    base = [
        "recommend",
        "T9999999",
        "--data",
        str(data_dir),
        "--model",
        str(trained_province.model_dir),
    ]
    personal = CliRunner().invoke(app, [*base, "--json", "--k", "5"])
    assert personal.exit_code == 0, personal.output
    body = json.loads(personal.output)
    assert body["cold_start"] is True and 0 < len(body["items"]) <= 5
    assert all(len(item["signals"]) > 1 for item in body["items"])  # profile and diagnosis signals
    generic = CliRunner().invoke(app, [*base, "--json", "--k", "5", "--no-personalized"])
    assert generic.exit_code == 0, generic.output
    assert all(
        set(item["signals"]) == {"popularity"} for item in json.loads(generic.output)["items"]
    )
    text = CliRunner().invoke(app, [*base, "--k", "3"])
    assert text.exit_code == 0 and "新教师" in text.output
