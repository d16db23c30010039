"""``make demo``: a simulated province, imported, trained and served, with a key and curl examples.

Run ``python -m service.demo --dir var/demo --teachers 3000 --schools 40``. Everything lives under
``--dir`` (province tables, SQLite database, model directory), so the demo never touches another
deployment's data. A second run reuses what exists (``--fresh`` rebuilds). Before serving, the
three printed ``curl`` commands are executed in-process, so what is printed is known to work.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from competency_model.errors import ModelError
from service.app import create_app
from service.auth import Principal, create_key
from service.db.models import School, Teacher
from service.db.stores.province import store_province
from service.settings import Settings

log = logging.getLogger("nengli.demo")
#: Teachers tried, in id order, until one has three working example requests.
CANDIDATES = 50


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo keeps its province, database and model."""

    root: Path

    @property
    def province(self) -> Path:
        return self.root / "province"

    @property
    def database(self) -> Path:
        return self.root / "nengli.sqlite"

    @property
    def model(self) -> Path:
        return self.root / "model"


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def build(paths: DemoPaths, teachers: int, schools: int, seed: int, fresh: bool) -> Settings:
    """Generate, import and train unless a previous run left them in place."""
    from competency_model.province import write_province
    from recommender.training import train_model_dir
    from training_data.simulator import simulate_province

    # The demo talks to a person on the terminal: the service's INFO JSON lines (migrations,
    # model loads) would bury the examples it prints, so it logs warnings unless
    # NENGLI_LOG_LEVEL asks for more.
    settings = Settings(
        database_url=f"sqlite:///{paths.database}",
        model_dir=paths.model,
        data_dir=paths.province,
    )
    if "NENGLI_LOG_LEVEL" not in os.environ:
        settings = settings.model_copy(update={"log_level": "WARNING"})
    if fresh:
        for leftover in (
            paths.database,
            Path(f"{paths.database}-wal"),
            Path(f"{paths.database}-shm"),
        ):
            leftover.unlink(missing_ok=True)
    if fresh or not (paths.province / "province.json").is_file():
        started = time.perf_counter()
        province = simulate_province(teachers, schools, seed=seed)
        write_province(province, paths.province)
        _say(
            f"simulated {teachers} teachers in {schools} schools ({time.perf_counter() - started:.1f} s)"
            f" -> {paths.province}"
        )
    if fresh or not paths.database.is_file():
        started = time.perf_counter()
        app = create_app(settings)  # migrates the database
        state = app.state.nengli
        with state.sessions() as session:
            # Batch by batch from the Parquet files: memory stays bounded at any --teachers.
            counts = store_province(session, Principal("demo", "admin", None), paths.province)
            session.commit()
        state.engine.dispose()
        _say(
            f"imported into {paths.database}: {counts['inserted']} ({time.perf_counter() - started:.1f} s)"
        )
    if fresh or not (paths.model / "metadata.json").is_file():
        started = time.perf_counter()
        _say("training the diagnosis and recommender models (this takes a while)…")
        train_model_dir(paths.province, paths.model, seed=seed)
        _say(f"model written to {paths.model} ({time.perf_counter() - started:.1f} s)")
    return settings


def examples(base: str, token: str, teacher_id: str, school_id: str) -> list[tuple[str, str]]:
    """Three (path, curl command) pairs a platform integrator would try first."""
    paths = [
        f"/v1/teachers/{teacher_id}/recommendations?kind=course&k=5",
        f"/v1/teachers/{teacher_id}/learning-path?policy=jiangsu",
        f"/v1/schools/{school_id}/portrait",
    ]
    return [(p, f"curl -s -H 'Authorization: Bearer {token}' '{base}{p}'") for p in paths]


def main(argv: list[str] | None = None) -> None:
    """Build the demo, print a key and working curl examples, then serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("var/demo"))
    parser.add_argument("--teachers", type=int, default=3000)
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--fresh", action="store_true", help="Rebuild everything under --dir.")
    parser.add_argument("--no-serve", action="store_true", help="Stop after printing the examples.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    paths = DemoPaths(args.dir.resolve())
    paths.root.mkdir(parents=True, exist_ok=True)
    settings = build(paths, args.teachers, args.schools, args.seed, args.fresh)

    app = create_app(settings)
    state = app.state.nengli
    try:
        state.registry.reload()
    except ModelError as error:
        # A model left by an older nengli (or a damaged one): rebuild it rather than fail.
        _say(f"the model in {paths.model} cannot be used ({error.message}); retraining")
        from recommender.training import train_model_dir

        train_model_dir(paths.province, paths.model, seed=args.seed)
        state.registry.reload()
    with state.sessions() as session:
        pairs = session.execute(
            select(Teacher.teacher_id, School.school_id, School.region)
            .join(School, School.school_id == Teacher.school_id)
            .order_by(Teacher.teacher_id)
            .limit(CANDIDATES)
        ).all()
        if not pairs:
            sys.exit("[demo] the demo database has no teacher")
        token = create_key(session, "platform", pairs[0].region, label="make demo")[0]
        session.commit()
    base = f"http://{args.host}:{args.port}"
    headers = {"Authorization": f"Bearer {token}"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    commands: list[tuple[str, str]] = []
    failures: list[str] = []
    with TestClient(app) as client:
        # Some simulated teachers have no policy-compliant path (their school's environment
        # and subject leave too few catalog hours); show one whose three examples all work.
        for teacher_id, school_id, _region in pairs:
            candidate = examples(base, token, teacher_id, school_id)
            answers = [client.get(path, headers=headers) for path, _ in candidate]
            bad = [
                (path, r)
                for (path, _), r in zip(candidate, answers, strict=True)
                if r.status_code != 200
            ]
            if not bad:
                commands = candidate
                break
            failures.append(f"GET {bad[0][0]} -> {bad[0][1].status_code} {bad[0][1].text[:200]}")
    if not commands:
        sys.exit("[demo] no teacher had three working examples; first failure: " + failures[0])
    print()
    print(f"Platform API key for {pairs[0].region} (shown once, store it):")
    print(f"  {token}")
    print()
    print("Try (each was just checked to answer 200):")
    for _, command in commands:
        print(f"  {command} | python3 -m json.tool")
    print()
    print(
        f"OpenAPI docs: {base}/docs    dashboard: {base}/ui/    model: {state.registry.require().version}"
    )
    print(json.dumps({"dir": str(paths.root), "database": str(paths.database)}, ensure_ascii=False))
    if args.no_serve:
        return
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
