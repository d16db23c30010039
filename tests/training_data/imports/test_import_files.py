"""Whole imports: reject vs quarantine, atomic merge, idempotent re-import, file-level errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_model.errors import ImportRowError
from competency_model.province import Province, read_province, write_province
from training_data.imports import (
    QUARANTINE_NAME,
    REPORT_NAME,
    existing_teacher_ids,
    import_files,
    write_import,
)


def _all_exports(samples: SimpleNamespace, write_csv: Callable[..., Path]) -> list[Path]:
    return [
        write_csv("teachers.csv", samples.TEACHERS_ZH, "gbk"),
        write_csv("schools.csv", samples.SCHOOLS_ZH, "utf-8-sig"),
        write_csv("completions.csv", samples.COMPLETIONS_ZH, "utf-8"),
        write_csv("grades.csv", samples.GRADES_ZH, "gbk"),
    ]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_clean_batch_writes_a_readable_province(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    result = import_files(
        _all_exports(samples, write_csv), known_teacher_ids=set(), now=samples.NOW
    )
    report = write_import(result, tmp_path / "out")
    province = read_province(tmp_path / "out")
    assert len(province.teachers) == 3 and len(province.schools) == 2
    assert len(province.events) == 3 and len(province.grades) == 2
    assert province.truth_mastery is None
    assert report.written and report.inserted["teachers"] == 3
    assert "姓名" not in province.teachers.columns
    saved = json.loads((tmp_path / "out" / REPORT_NAME).read_text(encoding="utf-8"))
    assert saved["accepted"] == report.accepted


def test_reject_mode_writes_nothing_when_a_row_is_bad(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    write_import(import_files([write_csv("t.csv", samples.TEACHERS_ZH)], now=samples.NOW), out)
    before = _snapshot(out)
    bad = [*samples.TEACHERS_ZH, ["T004", "赵六", "S01", "大学", "数学", "3"]]
    result = import_files([write_csv("t2.csv", bad)], now=samples.NOW)
    with pytest.raises(ImportRowError, match="row 5") as info:
        write_import(result, out, mode="reject")
    assert info.value.details["rejected"][0]["field"] == "stage"
    assert _snapshot(out) == before


def test_reject_mode_creates_no_directory(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    bad = [samples.TEACHERS_ZH[0], ["T004", "赵六", "S01", "大学", "数学", "3"]]
    with pytest.raises(ImportRowError):
        write_import(import_files([write_csv("t.csv", bad)], now=samples.NOW), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "in"]


def test_quarantine_mode_writes_good_rows_and_quarantines_bad_ones(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    bad = [*samples.TEACHERS_ZH, ["T004", "赵六", "S01", "大学", "数学", "3"]]
    result = import_files([write_csv("t.csv", bad)], now=samples.NOW)
    report = write_import(result, tmp_path / "out", mode="quarantine")
    assert report.accepted == 3 and report.rejected == 1
    assert read_province(tmp_path / "out").teachers["teacher_id"].tolist() == [
        "T001",
        "T002",
        "T003",
    ]
    raw = (tmp_path / "out" / QUARANTINE_NAME).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel shows the Chinese reasons
    quarantine = pd.read_csv(tmp_path / "out" / QUARANTINE_NAME, encoding="utf-8-sig", dtype=str)
    assert quarantine[["_file", "_row", "teacher_id", "stage"]].values.tolist() == [
        ["t.csv", "5", "T004", "大学"]
    ]
    assert "未知学段" in quarantine["_reasons_zh"].iloc[0]
    assert "unknown stage" in quarantine["_reasons_en"].iloc[0]


def test_clean_import_removes_a_stale_quarantine_file(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    bad = [*samples.TEACHERS_ZH, ["T004", "赵六", "S01", "大学", "数学", "3"]]
    write_import(
        import_files([write_csv("t.csv", bad)], now=samples.NOW),
        tmp_path / "out",
        mode="quarantine",
    )
    write_import(
        import_files([write_csv("t2.csv", samples.TEACHERS_ZH)], now=samples.NOW),
        tmp_path / "out",
        mode="quarantine",
    )
    assert not (tmp_path / "out" / QUARANTINE_NAME).exists()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_reimporting_the_same_files_adds_no_rows(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path, fmt: str
) -> None:
    paths = _all_exports(samples, write_csv)
    out = tmp_path / "out"
    write_import(import_files(paths, known_teacher_ids=set(), now=samples.NOW), out, format=fmt)
    first = read_province(out)
    again = import_files(paths, known_teacher_ids=existing_teacher_ids(out), now=samples.NOW)
    report = write_import(again, out)
    second = read_province(out)
    for name, frame in first.tables().items():
        pd.testing.assert_frame_equal(second.tables()[name], frame)
    assert set(report.inserted.values()) == {0} and set(report.updated.values()) == {0}
    assert report.unchanged["events"] == 3


def test_changed_row_updates_instead_of_duplicating(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    write_import(import_files([write_csv("t.csv", samples.TEACHERS_ZH)], now=samples.NOW), out)
    moved = [samples.TEACHERS_ZH[0], ["T002", "李四", "S02", "初中", "语文", "4"]]
    report = write_import(import_files([write_csv("t2.csv", moved)], now=samples.NOW), out)
    teachers = read_province(out).teachers.set_index("teacher_id")
    assert len(teachers) == 3 and teachers.loc["T002", "school_id"] == "S02"
    assert report.updated["teachers"] == 1 and report.inserted["teachers"] == 0


def test_import_merges_into_a_simulated_province_and_keeps_its_truth(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    truth = pd.DataFrame({"teacher_id": ["T900"], "A1": [1]})
    teachers = pd.DataFrame(
        {
            "teacher_id": ["T900"],
            "school_id": ["S01"],
            "stage": ["小学"],
            "subject": ["数学"],
            "years_of_service": [2],
            "research_group": ["小学数学组"],
        }
    )
    write_province(Province(teachers=teachers, truth_mastery=truth), out, format="csv")
    write_import(import_files([write_csv("t.csv", samples.TEACHERS_ZH)], now=samples.NOW), out)
    merged = read_province(out)
    assert len(merged.teachers) == 4 and merged.truth_mastery is not None
    assert (out / "teachers.csv").is_file()  # the existing format is kept


def test_conflicting_duplicates_in_one_batch_reject_the_later_row(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [
        *samples.TEACHERS_ZH,
        ["T001", "张三", "S02", "小学", "数学", "12"],
        ["T002", "李四", "S01", "初中", "语文", "3"],
    ]
    result = import_files([write_csv("t.csv", rows)], now=samples.NOW)
    assert len(result.tables["teachers"]) == 3  # the exact repeat of T002 is simply dropped
    assert [(r.row, r.field) for r in result.report.rejected_rows] == [(5, "teacher_id")]
    assert "row 2" in result.report.rejected_rows[0].reason_en


@pytest.mark.parametrize(
    ("rows", "missing"),
    [
        # Issue 14 made 教龄, 考核日期 and 城乡类型 optional (defaulted, and reported as such);
        # what stays required are the ids and, for a teacher, the stage.
        ([["教师编号", "学校编号", "学科", "教龄"], ["T1", "S1", "数学", "3"]], "stage"),
        ([["教师编号", "学段", "学科"], ["T1", "小学", "数学"]], "school_id"),
    ],
)
def test_missing_required_column_is_named(
    samples: SimpleNamespace, write_csv: Callable[..., Path], rows: list[list[str]], missing: str
) -> None:
    with pytest.raises(ImportRowError, match=missing) as info:
        import_files([write_csv("x.csv", rows)], now=samples.NOW)
    assert missing in info.value.details["missing_columns"]


def test_unrecognisable_table_is_a_file_error(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    with pytest.raises(ImportRowError, match="cannot tell which table"):
        import_files(
            [write_csv("x.csv", [["教师编号", "学校编号"], ["T1", "S1"]])], now=samples.NOW
        )


def test_directory_import_skips_lock_and_hidden_files(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("teachers.csv", samples.TEACHERS_ZH)
    (path.parent / "~$teachers.xlsx").write_bytes(b"lock")
    (path.parent / ".DS_Store").write_bytes(b"junk")
    (path.parent / "readme.md").write_text("not data", encoding="utf-8")
    result = import_files([path.parent], now=samples.NOW)
    assert [f.file for f in result.report.files] == ["teachers.csv"]


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportRowError, match="nothing to import"):
        import_files([tmp_path])


def test_unknown_mode_is_refused(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    result = import_files([write_csv("t.csv", samples.TEACHERS_ZH)], now=samples.NOW)
    with pytest.raises(ImportRowError, match="mode"):
        write_import(result, tmp_path / "out", mode="ignore")  # type: ignore[arg-type]


def test_large_file_is_processed_in_bounded_chunks(
    samples: SimpleNamespace, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from training_data.imports import sources

    monkeypatch.setattr(sources, "CHUNK_ROWS", 500)
    seen: list[int] = []
    real = sources.Chunk.__init__

    def spy(self: sources.Chunk, cells: pd.DataFrame, row_numbers: object) -> None:
        seen.append(len(cells))
        real(self, cells, row_numbers)  # type: ignore[arg-type]

    monkeypatch.setattr(sources.Chunk, "__init__", spy)
    rows = [samples.TEACHERS_ZH[0]] + [
        [f"T{i:05d}", "", "S01", "小学", "数学", str(i % 40)] for i in range(2_100)
    ]
    result = import_files([write_csv("big.csv", rows)], now=samples.NOW)
    assert max(seen) <= 500 and sum(seen) == 2_100
    assert len(result.tables["teachers"]) == 2_100


_STAGES = st.sampled_from(["小学", "初中", "高中", "大学", "", "primary"])
_YEARS = st.integers(min_value=-3, max_value=55)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(_STAGES, _YEARS), min_size=1, max_size=25))
def test_exactly_the_invalid_rows_are_rejected(
    samples: SimpleNamespace, write_csv: Callable[..., Path], rows: list[tuple[str, int]]
) -> None:
    body = [
        [f"T{i:03d}", "", "S01", stage, "数学", str(years)] for i, (stage, years) in enumerate(rows)
    ]
    result = import_files([write_csv("t.csv", [samples.TEACHERS_ZH[0], *body])], now=samples.NOW)
    bad = {
        i + 2
        for i, (stage, years) in enumerate(rows)
        if stage in ("大学", "") or not 0 <= years <= 50
    }
    assert {r.row for r in result.report.rejected_rows} == bad
    assert result.report.accepted + result.report.rejected == len(rows)
    assert len(result.tables["teachers"]) == len(rows) - len(bad)


def test_corrected_quarantine_file_can_be_imported_again(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    bad = [*samples.TEACHERS_ZH, ["T004", "赵六", "S01", "大学", "数学", "3"]]
    write_import(import_files([write_csv("t.csv", bad)], now=samples.NOW), out, mode="quarantine")
    quarantine = pd.read_csv(out / QUARANTINE_NAME, encoding="utf-8-sig", dtype=str)
    quarantine.loc[0, "stage"] = "高中"
    fixed = tmp_path / "fixed.csv"
    quarantine.to_csv(fixed, index=False, encoding="utf-8-sig")
    report = write_import(import_files([fixed], now=samples.NOW), out)
    assert report.inserted["teachers"] == 1
    assert len(read_province(out).teachers) == 4


def test_conflicting_progress_is_quarantined_with_its_cells_and_repeats_merge(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    header, first = samples.COMPLETIONS_ZH[0], samples.COMPLETIONS_ZH[1]
    clash = [*first[:5], "2024-02-01 08:00", first[6]]  # same completion, other enrolment
    log = [
        ["teacher_id", "course_id", "event", "value", "timestamp"],
        ["T001", "CRS-0001", "progress", "0.5", "2024-03-05 10:00"],
        ["T001", "CRS-0001", "progress", "0.6", "2024-03-05 10:00"],
    ]
    result = import_files(
        [write_csv("c.csv", [header, first, clash]), write_csv("l.csv", log)], now=samples.NOW
    )
    rejected = {(r.file, r.row) for r in result.report.rejected_rows}
    assert rejected == {("l.csv", 3)}
    events = result.tables["events"]
    assert len(events) == 4 and events["value"].dropna().tolist() == [0.5]
    assert result.quarantine["value"].tolist() == [0.6]


def test_a_province_written_by_nengli_imports_back_unchanged(tmp_path: Path) -> None:
    """Round trip: ``nengli generate --format csv`` output is a valid platform export."""
    from training_data.simulator import simulate_province

    province = simulate_province(60, 2, seed=5)
    source = tmp_path / "source"
    write_province(province, source, format="csv")
    names = ["schools", "teachers", "responses", "grades", "events"]
    result = import_files([source / f"{name}.csv" for name in names])
    assert result.report.rejected == 0
    for name in names:
        assert len(result.tables[name]) == len(getattr(province, name)), name
    assert set(result.tables["responses"]["item_id"]) <= set(province.responses["item_id"])
