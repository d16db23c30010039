"""The area a school or district view asks about: a school, or a region narrowed to a city and
a district — as SQL conditions on the schools, shared by every dashboard read
(:mod:`service.db.stores.teacher_rows`, the trends and the rollout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func

from service.db.models import School
from service.db.stores.region_aggregates import UNKNOWN

__all__ = ["Area"]


@dataclass(frozen=True)
class Area:
    """A school, or a region optionally narrowed to a city and a district (``UNKNOWN``: blank)."""

    region: str | None = None
    city: str | None = None
    district: str | None = None
    school_id: str | None = None

    def conditions(self) -> list[Any]:
        """SQL conditions on :class:`School` selecting the area's schools."""
        where: list[Any] = []
        if self.school_id is not None:
            where.append(School.school_id == self.school_id)
        if self.region is not None:
            where.append(School.region == self.region)
        if self.city is not None:
            where.append(func.coalesce(School.city, UNKNOWN) == self.city)
        if self.district is not None:
            where.append(func.coalesce(School.district, UNKNOWN) == self.district)
        return where
