"""``make bench`` runs every benchmark small: a script left out of it silently stops being run."""

from __future__ import annotations

from pathlib import Path

from bench.run_all import BENCHMARKS

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_every_benchmark_script_is_run_by_make_bench() -> None:
    scripts = {path.stem for path in BENCH.glob("bench_*.py")}

    assert scripts - set(BENCHMARKS) == set()
    assert set(BENCHMARKS) - scripts == set()


def test_every_benchmark_has_a_small_size() -> None:
    for name in BENCHMARKS:
        assert '"--small"' in (BENCH / f"{name}.py").read_text(encoding="utf-8"), name
