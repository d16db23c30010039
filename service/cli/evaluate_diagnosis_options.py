"""Validated options of ``nengli evaluate diagnosis``, apart so ``--help`` needs no pydantic."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["DiagnosisEvaluationOptions"]


class DiagnosisEvaluationOptions(BaseModel):
    """Validated options of ``nengli evaluate diagnosis``."""

    teachers: int = Field(2000, ge=100, le=200_000)
    seed: int = Field(0, ge=0)
    family: str | None = Field(None, min_length=1)
    subsets: list[str] = Field(default_factory=list)
    subsets_only: bool = False
