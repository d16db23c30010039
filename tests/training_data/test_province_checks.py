"""A half-formed province is stopped before training, in one line, instead of crashing inside."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from competency_model.errors import DatasetError
from competency_model.province import Province, empty_table, write_province
from recommender.diagnosis.province_inputs import group_labels
from training_data.province_checks import province_problems, require_trainable

ROOT = Path(__file__).parents[2]


def _teachers_only() -> Province:
    teachers = pd.DataFrame(
        {
            "teacher_id": ["T1", "T2"],
            "school_id": ["S1", "S1"],
            "stage": ["小学", "小学"],
            "subject": ["数学", "语文"],
            "years_of_service": [3, 5],
            "research_group": ["小学数学组", "小学语文组"],
        }
    )
    return Province(teachers=teachers).normalized()


def test_the_old_crash_is_what_a_province_without_schools_gives_the_diagnosis() -> None:
    province = _teachers_only()
    with pytest.raises(TypeError, match="expected str instance, float found"):
        group_labels(province.teachers, empty_table("schools"))


def test_province_without_schools_is_refused_naming_the_fix() -> None:
    with pytest.raises(DatasetError, match="missing from the schools table") as info:
        require_trainable(_teachers_only())
    assert "'S1'" in info.value.message and "nengli import" in info.value.message


def test_records_of_unknown_teachers_are_a_problem() -> None:
    province = _teachers_only()
    grades = pd.DataFrame(
        {"teacher_id": ["T9"], "point": ["A1"], "grade": ["合格"], "assessed_at": ["2024-06-30"]}
    )
    problems = province_problems(Province(teachers=province.teachers, grades=grades).normalized())
    assert any(p.startswith("grades: 1 row(s) name teachers missing") for p in problems)


@pytest.mark.parametrize("categorical", [False, True])
def test_events_of_unknown_teachers_are_a_problem(categorical: bool) -> None:
    """Also when the events are read column-wise (ids as categoricals, checked per id)."""
    province = _teachers_only()
    events = pd.DataFrame(
        {
            "teacher_id": ["T1", "T9", "T9", "T2"],
            "item_id": ["CRS-0001"] * 4,
            "event": ["enrol"] * 4,
            "value": [None] * 4,
            "timestamp": ["2024-06-30"] * 4,
        }
    )
    if categorical:
        events["teacher_id"] = pd.Categorical(events["teacher_id"], categories=["T2", "T9", "T1"])
    problems = province_problems(Province(teachers=province.teachers, events=events))
    assert "events: 2 row(s) name teachers missing from the teachers table (first: 'T9')" in (
        "\n".join(problems)
    )


def test_train_stops_with_one_line_and_exit_2(tmp_path: Path) -> None:
    write_province(_teachers_only(), tmp_path / "p")
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "train", "--data", str(tmp_path / "p")]
        + ["--out", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "cannot be trained on" in done.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_a_partial_province_imported_with_inferred_schools_trains(tmp_path: Path) -> None:
    from training_data.imports import ImportOptions, import_files, write_import

    dialect = ROOT / "tests" / "training_data" / "imports" / "dialects" / "partial"
    write_import(import_files([dialect], options=ImportOptions(region="江苏")), tmp_path / "p")
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "train", "--data", str(tmp_path / "p")]
        + ["--out", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m" / "metadata.json").is_file()
