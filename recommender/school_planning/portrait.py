"""数字画像: mastery portraits of a school, a district or the whole region, as data and figures.

A portrait answers three questions an administrator asks: where are we weak (heatmap of mean
mastery, point × 教研组 for a school, point × school for a district, point × district for a
region), how spread out are teachers (per-point distribution), and who is left behind (the
urban − rural and environment gaps per point). The data are plain DataFrames so the API, the
CLI and notebooks share them; figures are drawn from the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from competency_model.errors import NotFoundError
from competency_model.framework import ENVIRONMENTS
from recommender.diagnosis.levels import GAP_BELOW

__all__ = ["Portrait", "Scope", "build_portrait", "environment_gap", "urban_rural_gap"]

Scope = Literal["school", "district", "region"]
_COLUMN_OF: dict[str, str] = {
    "school": "research_group",
    "district": "school_id",
    "region": "district",
}
_FILTER_OF: dict[str, str] = {"school": "school_id", "district": "district", "region": "region"}


@dataclass
class Portrait:
    """Portrait data of one scope (``school``/``district``/``region``) and key."""

    scope: str
    key: str
    n_teachers: int
    n_schools: int
    heatmap: pd.DataFrame
    distribution: pd.DataFrame
    urban_rural: pd.DataFrame
    environment: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (frames as ``{column: {row: value}}``, NaN as ``None``)."""

        def frame(df: pd.DataFrame) -> dict[str, object]:
            return {
                str(k): v for k, v in df.astype(object).where(df.notna(), None).to_dict().items()
            }

        return {
            "scope": self.scope,
            "key": self.key,
            "n_teachers": self.n_teachers,
            "n_schools": self.n_schools,
            "heatmap": frame(self.heatmap),
            "distribution": frame(self.distribution),
            "urban_rural": frame(self.urban_rural),
            "environment": frame(self.environment),
        }


def urban_rural_gap(joined: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Per point: mean mastery of urban and rural teachers and the gap (urban − rural)."""
    means = joined.groupby("urban_rural")[codes].mean().T
    result = pd.DataFrame(index=codes)
    result["urban"] = means["urban"] if "urban" in means else np.nan
    result["rural"] = means["rural"] if "rural" in means else np.nan
    result["gap"] = result["urban"] - result["rural"]
    return result


def environment_gap(joined: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Per point: mean mastery by school environment, plus smart − multimedia where both exist."""
    means = joined.groupby("environment")[codes].mean().T
    result = pd.DataFrame(index=codes)
    for env in ENVIRONMENTS:
        result[env] = means[env] if env in means else np.nan
    result["gap"] = result["smart"] - result["multimedia"]
    return result


def _distribution(joined: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    values = joined[codes]
    table = values.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).T
    table.columns = ["p10", "p25", "median", "p75", "p90"]
    table.insert(0, "mean", values.mean())
    # 薄弱 share by the one level rule (recommender.diagnosis.levels), NaN cells not counted
    table["share_below_0.5"] = (values < GAP_BELOW).mean()
    return table


def build_portrait(
    scope: Scope,
    key: str,
    teacher_mastery: pd.DataFrame,
    schools: pd.DataFrame,
    codes: list[str],
) -> Portrait:
    """Portrait of one school / district / region.

    Parameters
    ----------
    scope
        ``school`` (heatmap columns = 教研组), ``district`` (columns = schools) or ``region``
        (columns = districts).
    key
        The school id, district name or region name.
    teacher_mastery
        :func:`~recommender.school_planning.mastery.attach_teachers` output.
    schools
        The province ``schools`` table (district, region, urban_rural, environment).
    codes
        Point codes (rows of the heatmap).

    Raises
    ------
    NotFoundError
        When no teacher falls in the scope.
    """
    if scope not in _COLUMN_OF:
        raise NotFoundError(f"unknown portrait scope {scope!r}; use school, district or region")
    info = schools[["school_id", "district", "region", "urban_rural", "environment"]].astype(
        {"school_id": str}
    )
    joined = teacher_mastery.reset_index().merge(info, on="school_id", how="left")
    selected = joined.loc[joined[_FILTER_OF[scope]].astype(str) == str(key)]
    if selected.empty:
        raise NotFoundError(f"no diagnosed teachers in {scope} {key!r}")
    heatmap = selected.groupby(_COLUMN_OF[scope])[codes].mean().T
    heatmap.columns = [str(c) for c in heatmap.columns]
    return Portrait(
        scope=scope,
        key=str(key),
        n_teachers=len(selected),
        n_schools=int(selected["school_id"].nunique()),
        heatmap=heatmap,
        distribution=_distribution(selected, codes),
        urban_rural=urban_rural_gap(selected, codes),
        environment=environment_gap(selected, codes),
    )
