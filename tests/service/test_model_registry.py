"""Model loading: hashes verified, reload swaps atomically, a bad directory keeps the old model."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from competency_model.errors import ModelError
from recommender.bundle import load_bundle
from service.model_registry import ModelRegistry
from tests.service.conftest import Keys, World, assert_problem


def test_readyz_reports_model_version(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["model"]["loaded"] is True
    assert body["model"]["version"] == client.app.state.nengli.registry.current.version


def test_tampered_model_is_refused(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    with open(copy / "ranker.npz", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelError, match="sha256"):
        load_bundle(copy)


def test_failed_reload_keeps_serving_old_model(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    registry = ModelRegistry(copy)
    first = registry.reload()
    (copy / "diagnosis.npz").unlink()
    with pytest.raises(ModelError):
        registry.reload()
    assert registry.current is first and "missing" in (registry.last_error or "")


def test_reload_under_load_drops_no_request(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    url = f"/v1/teachers/{world.teacher}/recommendations?k=3"
    statuses: list[int] = []

    def hammer() -> None:
        for _ in range(15):
            statuses.append(client.get(url, headers=keys.header("teacher")).status_code)

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for worker in workers:
        worker.start()
    reloads = [client.post("/v1/admin/reload", headers=keys.header("admin")) for _ in range(3)]
    for worker in workers:
        worker.join()
    assert [r.status_code for r in reloads] == [200, 200, 200]
    assert reloads[-1].json()["version"] == reloads[-1].json()["previous_version"]
    assert statuses == [200] * 45


def test_reload_needs_admin(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.post("/v1/admin/reload", headers=keys.header("platform")), 403)


def test_every_worker_follows_a_reload_sent_to_one(
    settings, model_dir: Path, tmp_path: Path, keys: Keys
) -> None:  # type: ignore[no-untyped-def]
    """Two apps on one database stand for two worker processes: the reload reaches one."""
    import json
    import time

    from starlette.testclient import TestClient

    from service.app import create_app

    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    fast = settings.model_copy(update={"model_dir": copy, "reload_poll_seconds": 0.1})
    with (
        TestClient(create_app(fast)) as first,
        TestClient(create_app(fast)) as second,
    ):
        old = second.get("/readyz").json()["model"]["version"]
        assert first.get("/readyz").json()["model"]["version"] == old
        metadata = json.loads((copy / "metadata.json").read_text(encoding="utf-8"))
        metadata["note"] = "retrained"  # a new metadata.json is a new model version
        (copy / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        reloaded = first.post("/v1/admin/reload", headers=keys.header("admin"))
        assert reloaded.status_code == 200, reloaded.text
        new = reloaded.json()["version"]
        assert new != old
        deadline = time.monotonic() + 10
        while second.get("/readyz").json()["model"]["version"] != new:
            assert time.monotonic() < deadline, "the other worker never followed the reload"
            time.sleep(0.05)
        # A directory that no longer loads: the requesting worker answers 503 and keeps its
        # model; nothing is recorded, so the other worker keeps its model too.
        (copy / "diagnosis.npz").unlink()
        assert_problem(first.post("/v1/admin/reload", headers=keys.header("admin")), 503)
        time.sleep(0.3)
        assert second.get("/readyz").json()["model"]["version"] == new
