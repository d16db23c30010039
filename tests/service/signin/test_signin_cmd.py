"""``nengli signin check-mapping``: a valid file is shown, an invalid one is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.service.signin.conftest import MAPPING


def _nengli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_valid_mapping_is_listed() -> None:
    done = _nengli("signin", "check-mapping", str(MAPPING))
    assert done.returncode == 0, done.stderr
    assert "学校管理员 → school" in done.stdout
    assert "teacher_id" in done.stdout


def test_an_invalid_mapping_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"role_claim": "r", "roles": {"校长": {"role": "principal"}}}', "utf-8")
    done = _nengli("signin", "check-mapping", str(bad))
    assert done.returncode == 2
    assert done.stderr.startswith("error: claims mapping")
    assert "roles.校长.role" in done.stderr
    assert "Traceback" not in done.stderr
