"""The lazy package faces keep every public name importable, and only what is asked is loaded."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FACES = ["competency_model", "training_data", "training_data.simulator", "recommender"]


@pytest.mark.parametrize("package", FACES)
def test_every_public_name_resolves(package: str) -> None:
    face = importlib.import_module(package)
    assert set(face.__all__) == set(face._EXPORTS)
    for name in face.__all__:
        value = getattr(face, name)
        assert getattr(importlib.import_module(face._EXPORTS[name]), name) is value
    assert set(face.__all__) <= set(dir(face))


@pytest.mark.parametrize("package", FACES)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    face = importlib.import_module(package)
    with pytest.raises(AttributeError, match="no_such_name"):
        face.no_such_name  # noqa: B018


def test_a_submodule_is_reached_through_the_face() -> None:
    import competency_model

    assert competency_model.framework.default_framework is not None


def test_importing_the_face_loads_none_of_its_modules() -> None:
    probe = "import sys, competency_model; print('competency_model.catalog' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"
