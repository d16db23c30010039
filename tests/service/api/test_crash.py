"""Crash safety: kill -9 a live server in the middle of a large import, restart, re-import.

The import is one database transaction, so after the kill the database holds either none of
the file's events or all of them (never a part), and importing the file again after the restart
leaves each event exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
from sqlalchemy import func, select

from service.auth import Principal, create_key
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.db.models import Event, ImportRun
from service.db.stores.province import store_tables

pytestmark = pytest.mark.slow

N_TEACHERS = 100
N_EVENTS = 25_000
ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _events_csv(path: Path) -> None:
    lines = ["event_id,teacher_id,item_id,event,value,timestamp"]
    start = pd.Timestamp("2023-03-01 08:00:00")
    for i in range(N_EVENTS):
        teacher = f"T{(i % N_TEACHERS) + 1:07d}"
        item = f"CRS-{(i % 40) + 1:04d}"
        when = start + pd.Timedelta(seconds=37 * i)  # unique, so no row is an exact repeat
        lines.append(f"E{i:09d},{teacher},{item},progress,{(i % 10) / 10:.1f},{when}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _start(url: str, model_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NENGLI_DATABASE_URL": url,
        "NENGLI_MODEL_DIR": str(model_dir),
        "NENGLI_MAX_BODY_BYTES": str(50_000_000),
        "NENGLI_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start within 30 s")


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        events = session.scalar(select(func.count()).select_from(Event))
        distinct = session.scalar(select(func.count(func.distinct(Event.event_id))))
        runs = session.scalar(select(func.count()).select_from(ImportRun))
    engine.dispose()
    return int(events or 0), int(distinct or 0), int(runs or 0)


def test_kill_during_import_leaves_nothing_partial(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    engine = make_engine(url)
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        token = create_key(session, "platform", "江苏")[0]
        admin = Principal(key_id="setup", role="admin", scope=None)
        store_tables(
            session,
            admin,
            {
                "schools": pd.DataFrame(
                    [
                        {
                            "school_id": "S000001",
                            "region": "江苏",
                            "environment": "smart",
                            "chosen_points": "A1;B2",
                            "rollout_batch": 1,
                        }
                    ]
                ),
                "teachers": pd.DataFrame(
                    [
                        {
                            "teacher_id": f"T{i:07d}",
                            "school_id": "S000001",
                            "stage": "小学",
                            "subject": "数学",
                            "years_of_service": 5,
                            "research_group": "小学数学组",
                        }
                        for i in range(1, N_TEACHERS + 1)
                    ]
                ),
            },
        )
        session.commit()
    engine.dispose()
    csv_path = tmp_path / "events.csv"
    _events_csv(csv_path)
    body = csv_path.read_bytes()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    port = _free_port()
    server = _start(url, tmp_path / "model", port)
    outcome: list[object] = []

    def upload() -> None:
        try:
            outcome.append(
                httpx.post(
                    f"http://127.0.0.1:{port}/v1/imports?filename=events.csv",
                    content=body,
                    headers=headers,
                    timeout=120,
                ).status_code
            )
        except httpx.TransportError as error:
            outcome.append(error)

    busy = psutil.Process(server.pid)
    baseline = sum(busy.cpu_times()[:2])
    thread = threading.Thread(target=upload)
    thread.start()
    # Kill once the server has spent 0.6 s of CPU on the request: well inside the import,
    # which needs several seconds of CPU, on any machine.
    deadline = time.monotonic() + 60
    while sum(busy.cpu_times()[:2]) - baseline < 0.6 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    thread.join(timeout=30)
    assert isinstance(outcome[0], httpx.TransportError), "the kill must interrupt the import"
    events, distinct, runs = _counts(url)
    assert (events, runs) in ((0, 0), (N_EVENTS, 1)), "a killed import must leave all or nothing"
    assert events == distinct

    server = _start(url, tmp_path / "model", port)
    try:
        for _ in range(2):  # the second import is a pure replay
            response = httpx.post(
                f"http://127.0.0.1:{port}/v1/imports?filename=events.csv",
                content=body,
                headers=headers,
                timeout=120,
            )
            assert response.status_code == 200, response.text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    events, distinct, _ = _counts(url)
    assert events == distinct == N_EVENTS
