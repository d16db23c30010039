"""The dashboards' one-pass JSON gives the bytes FastAPI's own encoding gives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

import numpy as np
import pandas as pd
import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.api.table_json import TableResponse
from service.usecases.planning import json_rows


class _Level(Enum):
    GOOD = "合格"


class _Step(BaseModel):
    year: int
    share: float


def _fastapi_bytes(payload: object) -> bytes:
    return bytes(JSONResponse(jsonable_encoder(payload)).body)


def test_rows_of_every_kind_encode_as_fastapi_encodes_them() -> None:
    frame = pd.DataFrame(
        {
            "school_id": ["S000001", "S000002"],
            "n_teachers": [12, 0],
            "mean_hours": [12.5, np.nan],
            "compliant": [True, False],
            "city": ["南京", None],
        }
    )
    payload = {
        "region": "江苏",
        "rows": json_rows(frame),
        "as_of": date(2026, 12, 3),
        "at": datetime(2026, 12, 3, 8, tzinfo=UTC),
        "level": _Level.GOOD,
        "step": _Step(year=2024, share=0.3),
        "money": Decimal("1.5"),
        "whole": Decimal("2"),
        "tags": {"A1"},
        "nested": {"ids": ("a", "b")},
    }
    assert bytes(TableResponse(payload).body) == _fastapi_bytes(payload)


def test_numpy_scalars_encode_as_their_python_values() -> None:
    numbers = {"count": np.int64(7), "share": np.float32(0.5), "flag": np.bool_(True)}
    expected = {"count": 7, "share": 0.5, "flag": True}
    assert bytes(TableResponse(numbers).body) == _fastapi_bytes(expected)


def test_a_value_json_cannot_hold_is_refused_as_before() -> None:
    with pytest.raises(ValueError):
        TableResponse({"mean_hours": float("nan")})
    with pytest.raises(ValueError):
        JSONResponse(jsonable_encoder({"mean_hours": float("nan")}))
