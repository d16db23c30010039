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


def test_readyz_reports_model_version(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz", headers=keys.header("admin"))
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
        old = second.get("/readyz", headers=keys.header("admin")).json()["model"]["version"]
        assert first.get("/readyz", headers=keys.header("admin")).json()["model"]["version"] == old
        metadata = json.loads((copy / "metadata.json").read_text(encoding="utf-8"))
        metadata["note"] = "retrained"  # a new metadata.json is a new model version
        (copy / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        reloaded = first.post("/v1/admin/reload", headers=keys.header("admin"))
        assert reloaded.status_code == 200, reloaded.text
        new = reloaded.json()["version"]
        assert new != old
        deadline = time.monotonic() + 10
        while second.get("/readyz", headers=keys.header("admin")).json()["model"]["version"] != new:
            assert time.monotonic() < deadline, "the other worker never followed the reload"
            time.sleep(0.05)
        # A directory that no longer loads: the requesting worker answers 503 and keeps its
        # model; nothing is recorded, so the other worker keeps its model too.
        (copy / "diagnosis.npz").unlink()
        assert_problem(first.post("/v1/admin/reload", headers=keys.header("admin")), 503)
        time.sleep(0.3)
        assert second.get("/readyz", headers=keys.header("admin")).json()["model"]["version"] == new


def _break_als_factors(directory: Path) -> None:
    """ALS factors 3×2, with the file hash and the metadata's shapes made consistent."""
    import json

    import numpy as np

    from recommender.artifacts import file_sha256

    path = directory / "cf_als.npz"
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["user_factors"] = np.ones((3, 2), dtype=arrays["user_factors"].dtype)
    np.savez(path, **arrays)
    metadata = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
    metadata["files"]["cf_als.npz"] = file_sha256(path)
    metadata["arrays"]["cf_als.npz"]["user_factors"]["shape"] = [3, 2]
    (directory / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")


def _metadata_is_a_list(directory: Path) -> None:
    (directory / "metadata.json").write_text("[]", encoding="utf-8")


def _truncate_social(directory: Path) -> None:
    """Half of social.npz, its new hash written into metadata.json."""
    import json

    from recommender.artifacts import file_sha256

    path = directory / "social.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    metadata = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
    metadata["files"]["social.npz"] = file_sha256(path)
    (directory / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")


@pytest.mark.parametrize(
    "damage",
    [_break_als_factors, _metadata_is_a_list, _truncate_social],
    ids=["als-factors-3x2", "metadata-list", "truncated-npz"],
)
def test_a_broken_model_never_goes_live(
    settings, model_dir: Path, tmp_path: Path, keys: Keys, world: World, damage
) -> None:  # type: ignore[no-untyped-def]
    """Issue 17 row 9: reload answers 503 problem+json and the old model keeps answering."""
    from starlette.testclient import TestClient

    from service.app import create_app

    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    app = create_app(settings.model_copy(update={"model_dir": copy}))
    url = f"/v1/teachers/{world.teacher}/recommendations?k=3"
    with TestClient(app, raise_server_exceptions=False) as client:
        before = client.get("/readyz", headers=keys.header("admin")).json()["model"]["version"]
        damage(copy)
        assert_problem(client.post("/v1/admin/reload", headers=keys.header("admin")), 503)
        assert (
            client.get("/readyz", headers=keys.header("admin")).json()["model"]["version"] == before
        )
        response = client.get(url, headers=keys.header("teacher"))
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 3


def test_a_broken_model_directory_at_start_up_answers_503(
    settings, model_dir: Path, tmp_path: Path, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from service.app import create_app

    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    _break_als_factors(copy)
    app = create_app(settings.model_copy(update={"model_dir": copy}))
    with TestClient(app, raise_server_exceptions=False) as client:
        url = f"/v1/teachers/{world.teacher}/recommendations?k=3"
        assert_problem(client.get(url, headers=keys.header("teacher")), 503)
