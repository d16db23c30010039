"""The batch pipeline on Ray gives the single-process lists and diagnoses, even after a crash.

One local Ray with 2 CPUs is started for the module; three small provinces run through the
pipeline once in this process and once on Ray, and their lists and diagnoses must be equal
(model versions are per artifact, so they are compared with the manifest, not across runs).
The last test kills the process of a running partition with SIGKILL: Ray re-runs the task and
the batch must still be complete and identical.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from recommender.batch import read_batch, run_batch, run_partitions
from recommender.batch.synthetic import simulate_country

ray = pytest.importorskip("ray")

REGIONS = ("甲省", "乙省", "丙省")


@pytest.fixture(scope="module")
def country():
    return simulate_country(REGIONS, teachers=120, schools=2, seed=3)


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_run(country, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    run_batch(country, out, lambda tasks: run_partitions(tasks, "local"), "local", top_n=5)
    return out


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return (
        frame.drop(columns="model_version")
        .sort_values(list(frame.columns.drop(["model_version"]))[:4])
        .reset_index(drop=True)
    )


def _assert_same(local: Path, other: Path) -> None:
    local_lists, local_diagnosis = read_batch(local)
    lists, diagnosis = read_batch(other)
    assert set(lists["partition"]) == {"甲省", "乙省", "丙省"}
    assert lists["teacher_id"].nunique() == 3 * 120
    assert set(lists["kind"]) == {"course", "task", "all"}
    pd.testing.assert_frame_equal(_comparable(local_lists), _comparable(lists))
    pd.testing.assert_frame_equal(_comparable(local_diagnosis), _comparable(diagnosis))
    manifest = json.loads((other / "manifest.json").read_text("utf-8"))
    versions = {p["key"]: p["model_version"] for p in manifest["partitions"]}
    tagged = lists.groupby("partition")["model_version"].unique()
    assert {key: list(v) for key, v in tagged.items()} == {k: [v] for k, v in versions.items()}


def test_ray_batch_equals_the_single_process_batch(ray_cluster, country, local_run, tmp_path):
    result = run_batch(country, tmp_path, lambda t: run_partitions(t, "ray"), "ray", top_n=5)
    assert {p.key for p in result.partitions} == set(REGIONS)
    _assert_same(local_run, tmp_path)


def _running_partition_pids() -> list[int]:
    import psutil

    pids = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any("run_partition" in part for part in child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:
            continue
    return pids


def test_a_killed_worker_still_yields_the_complete_identical_batch(
    ray_cluster, country, local_run, tmp_path
):
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_batch(country, tmp_path, lambda t: run_partitions(t, "ray"), "ray", top_n=5)
        except BaseException as error:  # surfaced below
            errors.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and worker.is_alive() and time.monotonic() < deadline:
        pids = _running_partition_pids()
        if pids:
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    worker.join()
    assert killed is not None, "no partition was seen running; nothing was killed"
    assert not errors, errors
    assert not list((tmp_path / "partitions").glob(".staging-*"))
    _assert_same(local_run, tmp_path)
