"""Time and peak memory of importing a large platform export (GBK CSV, Chinese headers).

Usage::

    python -m bench.bench_import --small                 # 20,000 completion rows, seconds
    nice -n 10 python -m bench.bench_import --rows 200000

Generates (streaming, seeded) a teachers file and a completions export with enrol + complete
times where about 1% of rows are bad (unknown course, impossible date), imports both with
``import_files`` and merges them with ``write_import(mode="quarantine")``. Prints one JSON
object: seconds per phase, peak RSS (MiB, ``resource.getrusage``), rows, rejected rows, bytes.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from competency_model.catalog import default_catalog
from training_data.imports import import_files, write_import


def _write_exports(directory: Path, rows: int, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    n_teachers = max(10, rows // 10)
    teachers = directory / "teachers.csv"
    with teachers.open("w", encoding="gbk", newline="") as handle:
        handle.write("教师编号,姓名,学校编号,学段,学科,教龄\n")
        for i in range(n_teachers):
            handle.write(f"T{i:07d},教师{i},S{i // 80:05d},小学,数学,{i % 35}\n")
    course_ids = [item.item_id for item in default_catalog().courses]
    completions = directory / "completions.csv"
    with completions.open("w", encoding="gbk", newline="") as handle:
        handle.write("教师编号,姓名,课程编号,学时,报名时间,完成时间\n")
        teacher = rng.integers(0, n_teachers, rows)
        course = rng.integers(0, len(course_ids), rows)
        day = rng.integers(0, 300, rows)
        bad = rng.random(rows) < 0.01
        for i in range(rows):
            course_id = "CRS-9999" if bad[i] and i % 2 else course_ids[course[i]]
            done = "2024-02-30" if bad[i] and not i % 2 else f"2024-{1 + day[i] // 31:02d}-20"
            handle.write(
                f"T{teacher[i]:07d},教师,{course_id},2,2024-01-{1 + day[i] % 28:02d} 08:00,{done}\n"
            )
    return teachers, completions


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark and print/return its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="completion rows")
    parser.add_argument("--small", action="store_true", help="20,000 rows")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = 20_000 if args.small else args.rows
    workdir = Path(tempfile.mkdtemp(prefix="nengli-bench-import-"))
    try:
        started = time.perf_counter()
        teachers, completions = _write_exports(workdir, rows, args.seed)
        generated = time.perf_counter()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = import_files([teachers, completions], known_teacher_ids=set())
        imported = time.perf_counter()
        report = write_import(result, workdir / "province", mode="quarantine")
        written = time.perf_counter()
        output = {
            "benchmark": "import",
            "rows": rows,
            "teachers": len(result.tables["teachers"]),
            "events": len(result.tables["events"]),
            "accepted_rows": report.accepted,
            "rejected_rows": report.rejected,
            "input_bytes": teachers.stat().st_size + completions.stat().st_size,
            "seconds_generate": round(generated - started, 2),
            "seconds_import": round(imported - generated, 2),
            "seconds_write": round(written - imported, 2),
            "peak_rss_mib_before_import": round(rss_before, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "python": platform.python_version(),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(output))
    return output


if __name__ == "__main__":
    main(sys.argv[1:])
