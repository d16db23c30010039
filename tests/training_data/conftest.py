"""Fixtures for the training_data tests (real-data skip logic lives here, not in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from competency_model.errors import DatasetError
from training_data.datasets import shared_datasets_dir


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The ../shared/datasets folder; skips (with the reason) when it is absent."""
    try:
        return shared_datasets_dir()
    except DatasetError as error:
        pytest.skip(f"realdata: {error.message}")
