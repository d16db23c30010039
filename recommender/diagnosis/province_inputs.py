"""Province tables -> the inputs of the diagnosis model (peer groups, catalog weights, completions)."""

from __future__ import annotations

import pandas as pd

from competency_model.catalog import Catalog
from competency_model.errors import NengliError

__all__ = [
    "PEER_GROUPS",
    "WEIGHT_COLUMNS",
    "catalog_weights",
    "completions_of",
    "group_labels",
    "latest_moment",
]

WEIGHT_COLUMNS = ("item_id", "point", "weight", "kind")

PEER_GROUPS: dict[str, tuple[str, ...]] = {
    "environment": (),
    "environment_stage": ("stage",),
    "environment_research_group": ("research_group",),
}


def group_labels(
    teachers: pd.DataFrame, schools: pd.DataFrame, peer_group: str = "environment"
) -> list[str]:
    """Peer group of each teacher: the school environment, optionally x stage or 教研组."""
    if peer_group not in PEER_GROUPS:
        raise NengliError(f"peer_group={peer_group!r}; choose one of {sorted(PEER_GROUPS)}")
    environment = teachers["school_id"].map(
        schools.drop_duplicates("school_id").set_index("school_id")["environment"]
    )
    parts = [environment.astype(str)] + [teachers[c].astype(str) for c in PEER_GROUPS[peer_group]]
    return ["|".join(values) for values in zip(*parts, strict=True)]


def catalog_weights(catalog: Catalog) -> pd.DataFrame:
    """Long table item_id, point, weight, kind (online/practice) from a catalog."""
    rows = [
        (item.item_id, code, float(weight), "online" if item.is_online else "practice")
        for item in catalog.items
        for code, weight in item.points.items()
    ]
    return pd.DataFrame(rows, columns=list(WEIGHT_COLUMNS))


def completions_of(events: pd.DataFrame) -> pd.DataFrame:
    """The ``complete`` events: teacher_id, item_id, timestamp."""
    done = events[events["event"] == "complete"]
    return done[["teacher_id", "item_id", "timestamp"]]


def latest_moment(*series: pd.Series) -> pd.Timestamp:
    """The latest timestamp among ``series`` (the moment a province's diagnosis describes)."""
    stamps = [s.max() for s in series if len(s)]
    stamps = [s for s in stamps if pd.notna(s)]
    # Without any dated evidence the moment does not matter: nothing decays.
    return max(stamps) if stamps else pd.Timestamp("2000-01-01")
