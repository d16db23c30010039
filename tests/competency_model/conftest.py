"""Fixtures for the competency-model tests: a mutable copy of the shipped framework document."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from competency_model.framework import NATIONAL_FRAMEWORK_PATH

_NATIONAL = json.loads(NATIONAL_FRAMEWORK_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def national_doc() -> dict[str, Any]:
    """A deep copy of the national framework JSON that a test may break on purpose."""
    return copy.deepcopy(_NATIONAL)
