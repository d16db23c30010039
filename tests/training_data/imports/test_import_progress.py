"""``import_files`` reports one stage per file, with its table, and the rows it read."""

from __future__ import annotations

from pathlib import Path

from training_data.imports import import_files

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "exports" / "utf8"


class Recorder:
    """A :class:`~competency_model.progress.ProgressReporter` that keeps what it heard."""

    def __init__(self) -> None:
        self.stages: list[str] = []
        self.counted: dict[str, int] = {}

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append(name)
        self.counted[name] = 0

    def advance(self, amount: int = 1) -> None:
        self.counted[self.stages[-1]] += amount


def test_one_stage_per_file_with_its_rows() -> None:
    recorder = Recorder()
    result = import_files([EXAMPLES], progress=recorder)
    per_file = {report.file: report for report in result.report.files}
    file_stages = [s for s in recorder.stages if s.startswith("读取")]
    assert len(file_stages) == len(per_file) == 4
    for name in file_stages:
        file = next(f for f in per_file if f in name)
        assert per_file[file].table in name
        assert recorder.counted[name] == per_file[file].rows  # every data row counted once
    assert recorder.stages[-1].startswith("核对")  # the batch-level checks come last
