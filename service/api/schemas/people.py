"""Schools and teachers as the API accepts and returns them (no personal names, by design)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from competency_model.errors import FrameworkError
from competency_model.framework import normalize_environment
from service.api.schemas.common import ID_PATTERN, StrictModel

Stage = Literal["幼儿园", "小学", "初中", "高中", "中职"]
Environment = Literal["multimedia", "blended", "smart"]


class SchoolUpdate(StrictModel):
    """Body of ``PUT /v1/schools/{id}``; platform keys may omit ``region`` (their own)."""

    region: str | None = Field(default=None, min_length=1, max_length=64, examples=["江苏"])
    city: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, max_length=64)
    urban_rural: Literal["urban", "rural"] | None = None
    environment: str = Field(
        description="multimedia | blended | smart (A/B/C and the Chinese labels are accepted)",
        examples=["blended"],
    )
    chosen_points: list[str] = Field(default_factory=list, max_length=30, examples=[["A1", "B2"]])
    rollout_batch: int | None = Field(default=None, ge=1, le=3)

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        try:
            return normalize_environment(value)
        except FrameworkError as error:
            raise ValueError(error.message) from None

    @field_validator("chosen_points")
    @classmethod
    def _points(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("chosen_points contains a code twice")
        for code in value:
            if not code or len(code) > 8:
                raise ValueError(f"chosen point {code!r} is not a competency code like 'A1'")
        return value


class SchoolPublic(BaseModel):
    """A school as returned by the API."""

    model_config = ConfigDict(from_attributes=True)

    school_id: str
    region: str
    city: str | None
    district: str | None
    urban_rural: str | None
    environment: Environment
    chosen_points: list[str]
    rollout_batch: int | None
    updated_at: datetime

    @field_validator("chosen_points", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [code for code in value.split(";") if code]
        return value


class TeacherUpdate(StrictModel):
    """Body of ``PUT /v1/teachers/{id}``; names and contact data are refused (extra fields)."""

    school_id: str = Field(pattern=ID_PATTERN, examples=["S000001"])
    stage: Stage = Field(examples=["小学"])
    subject: str = Field(min_length=1, max_length=32, examples=["数学"])
    years_of_service: int | None = Field(default=None, ge=0, le=60)
    research_group: str | None = Field(default=None, max_length=64, examples=["小学数学组"])


class TeacherPublic(BaseModel):
    """A teacher as returned by the API."""

    model_config = ConfigDict(from_attributes=True)

    teacher_id: str
    school_id: str
    stage: str
    subject: str
    years_of_service: int | None
    research_group: str | None
    updated_at: datetime
