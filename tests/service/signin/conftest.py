"""A real OpenID Connect provider and a live nengli server that signs in against it.

The provider is panva's ``oidc-provider`` (the npm package, certified by the OpenID
Foundation) on the machine's Node.js, installed from the committed lock file into
``provider/node_modules`` the first time; the server is the real app under uvicorn. Both listen
on 127.0.0.1 only. Without Node.js and npm the sign-in tests skip with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
MAPPING = Path(__file__).resolve().parents[3] / "examples" / "oidc-claims-mapping.json"
CLIENT_ID, CLIENT_SECRET = "nengli-dashboard", "test-client-secret-not-for-production"

#: The identity provider's people (login name → claims), as a province's IdP would hold them.
ACCOUNTS: dict[str, dict[str, object]] = {
    "zhang.teacher": {"nengli_role": "教师", "teacher_id": "T0000001", "name": "张老师"},
    "li.principal": {"nengli_role": "学校管理员", "school_id": "S000001", "name": "李校长"},
    "wang.province": {"nengli_role": "省级管理员", "region": "江苏", "name": "王主任"},
    "zhao.parent": {"nengli_role": "家长", "name": "赵家长"},
    "qian.nosschool": {"nengli_role": "学校管理员", "name": "钱老师"},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_provider_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the real OIDC provider (oidc-provider)")
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(f"npm ci of the test OIDC provider failed:\n{done.stderr[-2000:]}")


@dataclass(frozen=True)
class Provider:
    issuer: str


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    issuer: str


@pytest.fixture(scope="session")
def app_port() -> int:
    return free_port()


@contextmanager
def run_provider(
    directory: Path, port: int, redirect_uris: list[str], accounts: dict[str, dict[str, object]]
) -> Iterator[Provider]:
    """Run oidc-provider on ``port`` of 127.0.0.1 with nengli's client and ``accounts``."""
    _ensure_provider_installed()
    config = directory / "provider.json"
    config.write_text(
        json.dumps(
            {
                "clients": [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "redirect_uris": redirect_uris,
                        "grant_types": ["authorization_code"],
                        "response_types": ["code"],
                    }
                ],
                "accounts": accounts,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    log = config.with_suffix(".log")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["node", "provider.mjs", str(port), str(config)],
            cwd=PROVIDER_DIR,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the OIDC provider did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Provider(issuer=issuer)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory, app_port: int) -> Iterator[Provider]:
    """oidc-provider on a free port with the test accounts, for the live server below."""
    with run_provider(
        tmp_path_factory.mktemp("oidc"),
        free_port(),
        [f"http://127.0.0.1:{app_port}/auth/callback"],
        ACCOUNTS,
    ) as provider:
        yield provider


def sign_in_environment(issuer: str, port: int) -> dict[str, str]:
    """``NENGLI_`` settings of a server on ``port`` whose dashboard signs in at ``issuer``."""
    return {
        "NENGLI_OIDC_ISSUER": issuer,
        "NENGLI_OIDC_CLIENT_ID": CLIENT_ID,
        "NENGLI_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "NENGLI_OIDC_SCOPES": "openid profile nengli",
        "NENGLI_OIDC_CLAIMS_MAPPING": str(MAPPING),
        "NENGLI_OIDC_REDIRECT_URL": f"http://127.0.0.1:{port}/auth/callback",
        "NENGLI_SESSION_SECRET": "test-session-secret-0123456789-abcdefghij",
        "NENGLI_SESSION_HTTPS_ONLY": "false",
    }


def sign_in_settings(tmp_path: Path, issuer: str, port: int) -> Settings:
    """Settings of a server whose dashboard signs in at ``issuer``."""
    names = {
        key.removeprefix("NENGLI_").lower(): value
        for key, value in sign_in_environment(issuer, port).items()
    }
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'signin.sqlite'}",
        model_dir=tmp_path / "no-model",
        reload_poll_seconds=0,
        **names,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, oidc_provider: Provider, app_port: int
) -> Iterator[LiveServer]:
    """The real app under uvicorn on 127.0.0.1, configured to sign in at the provider."""
    settings = sign_in_settings(tmp_path_factory.mktemp("server"), oidc_provider.issuer, app_port)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=app_port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{app_port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the nengli server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(base_url=base_url, issuer=oidc_provider.issuer)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class DemoServer:
    """A demo province behind a live nengli server whose sign-in points at ``provider_port``."""

    root: Path
    base_url: str
    admin_key: str
    teacher_id: str
    school_id: str
    region: str
    provider_port: int


@contextmanager
def demo_server(root: Path) -> Iterator[DemoServer]:
    """Build the dashboard browser test's demo in ``root`` and serve it until the block ends.

    The provider itself is left to the caller (``run_provider``), whose accounts depend on the
    teacher and school picked here.
    """
    from tests.service.api import test_ui_browser as ui

    admin_key, candidates = ui._build(root)
    port, provider_port = free_port(), free_port()
    env = {
        **os.environ,
        "NENGLI_DATABASE_URL": ui._database_url(root),
        "NENGLI_MODEL_DIR": str(root / "model"),
        "NENGLI_LOG_LEVEL": "WARNING",
        **sign_in_environment(f"http://127.0.0.1:{provider_port}", port),
    }
    log = root / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", ui.SERVER, str(port)], env=env, stdout=sink, stderr=sink
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        ui._wait_until_up(base_url, server, log)
        teacher_id, school_id = ui._pick_teacher(base_url, admin_key, candidates)
        region = httpx.get(
            f"{base_url}/v1/schools/{school_id}",
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=ui.HTTP_TIMEOUT,
        ).json()["region"]
        yield DemoServer(root, base_url, admin_key, teacher_id, school_id, region, provider_port)
    finally:
        server.terminate()
        server.wait(timeout=10)
