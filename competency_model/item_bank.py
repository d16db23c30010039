"""The diagnostic item bank: questionnaire items and their Q-matrix over the competency points.

Two kinds of item measure a teacher's 微能力点 mastery. *Scenario* items describe a short classroom
situation with four options, exactly one of which is good practice; they are scored 1/0 and follow
a DINA-like model (the teacher answers right when she masters every point in the item's Q row,
up to guessing and slipping). *Self-rating* items ask the teacher to rate herself on a 4-point
frequency or 5-point agreement scale; they are cheap but biased by over-confidence, which is why
the bank holds both.

Every item's ``points`` list is its Q-matrix row. The shipped bank has a single-point scenario item
for every point, so the scenario Q-matrix contains an identity block and every one of the
2**30 attribute profiles is identifiable in principle (:meth:`ItemBank.identifiability`).

Example
-------
>>> from competency_model.framework import default_framework
>>> bank = load_item_bank()
>>> bank.q_matrix(default_framework().codes).shape
(90, 30)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, ValidationError

from competency_model.errors import FrameworkError, first_validation_problem
from competency_model.framework import Framework, default_framework

__all__ = [
    "ITEM_BANK_PATH",
    "Identifiability",
    "Item",
    "ItemBank",
    "default_item_bank",
    "load_item_bank",
]

ITEM_BANK_PATH = Path(__file__).parent / "data" / "item_bank.json"
#: Scenario items always offer this many options (one correct).
SCENARIO_OPTIONS = 4
MAX_POINTS_PER_ITEM = 3

ItemKind = Literal["scenario", "self_rating"]


class Item(BaseModel):
    """One questionnaire item.

    Attributes
    ----------
    item_id
        Stable id such as ``Q001``; responses refer to it.
    kind
        ``"scenario"`` (scored 0/1) or ``"self_rating"`` (scored 1..``scale_max``).
    stem_zh
        The question text.
    options_zh
        Scenario: the four options. Self-rating: the scale anchors, lowest first.
    correct_option
        Scenario only: 0-based index of the correct option.
    scale_max
        Self-rating only: 4 or 5.
    points
        The Q-matrix row: 1–3 point codes the item measures.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    kind: ItemKind
    stem_zh: str
    options_zh: list[str]
    correct_option: int | None = None
    scale_max: int | None = None
    points: list[str]

    @property
    def max_response(self) -> int:
        """The largest valid response (1 for scenario items, ``scale_max`` for self-ratings)."""
        return 1 if self.kind == "scenario" else int(self.scale_max or 0)


class Identifiability(BaseModel):
    """What the Q-matrix can tell apart (see :meth:`ItemBank.identifiability`).

    Attributes
    ----------
    complete
        True when every point has a single-point scenario item (the Q-matrix contains an
        identity block), so all ``2**n_points`` attribute profiles are distinguishable.
    n_points
        Number of points considered.
    distinguishable_classes
        Number of latent classes the scenario items separate under a conjunctive (DINA) rule;
        exact when ``complete`` or when the points were few enough to enumerate, else ``None``.
    points_without_single_item
        Points only ever measured together with other points.
    jointly_measured
        Groups of points whose scenario Q columns are identical: the bank cannot tell them apart.
    unmeasured
        Points no item measures.
    """

    complete: bool
    n_points: int
    distinguishable_classes: int | None
    points_without_single_item: list[str]
    jointly_measured: list[list[str]]
    unmeasured: list[str]


class ItemBank:
    """An ordered collection of :class:`Item` with Q-matrix helpers.

    Parameters
    ----------
    items
        The items, in bank order (the row order of :meth:`q_matrix`).
    """

    def __init__(self, items: Sequence[Item]) -> None:
        self.items: list[Item] = list(items)
        self._by_id = {item.item_id: item for item in self.items}

    def __len__(self) -> int:
        return len(self.items)

    @property
    def item_ids(self) -> list[str]:
        """Item ids in bank order."""
        return [item.item_id for item in self.items]

    def get(self, item_id: str) -> Item:
        """Return the item with ``item_id``; :class:`FrameworkError` names it if unknown."""
        try:
            return self._by_id[item_id]
        except KeyError:
            raise FrameworkError(
                f"unknown item {item_id!r}; the bank has {self.items[0].item_id}…"
                f"{self.items[-1].item_id}"
                if self.items
                else f"unknown item {item_id!r}; bank is empty"
            ) from None

    def of_kind(self, kind: ItemKind) -> ItemBank:
        """The sub-bank of one kind, in bank order."""
        return ItemBank([item for item in self.items if item.kind == kind])

    def q_matrix(self, codes: Sequence[str]) -> NDArray[np.int8]:
        """Items × points 0/1 matrix; column order = ``codes``.

        Raises
        ------
        FrameworkError
            If an item measures a point missing from ``codes`` (the columns would lose it).
        """
        column = {code: j for j, code in enumerate(codes)}
        q = np.zeros((len(self.items), len(column)), dtype=np.int8)
        for i, item in enumerate(self.items):
            for code in item.points:
                if code not in column:
                    raise FrameworkError(
                        f"item {item.item_id} measures point {code!r}, which is not among the "
                        f"{len(column)} codes asked for; pass the framework's codes"
                    )
                q[i, column[code]] = 1
        return q

    def scale_max_array(self) -> NDArray[np.int64]:
        """Largest valid response per item (1 for scenario items)."""
        return np.array([item.max_response for item in self.items], dtype=np.int64)

    def identifiability(self, codes: Sequence[str], max_enumerate: int = 16) -> Identifiability:
        """Report which attribute profiles the scenario items can distinguish.

        Under a conjunctive model two profiles are indistinguishable when every item's ideal
        response (master all its points or not) is the same for both. A single-point item per
        point makes the map from profiles to ideal responses injective. Without that, the count
        is found by enumeration when ``len(codes) <= max_enumerate``.
        """
        scenario = self.of_kind("scenario")
        q = scenario.q_matrix(codes).astype(bool)
        all_q = self.q_matrix(codes).astype(bool)
        single = np.asarray(q[q.sum(axis=1) == 1].any(axis=0), dtype=bool).tolist()
        measured = np.asarray(all_q.any(axis=0), dtype=bool).tolist()
        without = [c for c, s in zip(codes, single, strict=True) if not s]
        unmeasured = [c for c, m in zip(codes, measured, strict=True) if not m]
        groups: dict[bytes, list[str]] = {}
        for j, code in enumerate(codes):
            if q[:, j].any():
                groups.setdefault(q[:, j].tobytes(), []).append(code)
        joint = [g for g in groups.values() if len(g) > 1]
        complete = not without
        n = len(codes)
        classes: int | None = 2**n if complete else None
        if not complete and n <= max_enumerate:
            profiles = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
            # ideal response: item i answered right iff its required points ⊆ profile
            missing = (~profiles).astype(np.int32) @ q.T.astype(np.int32)
            ideal = missing == 0
            classes = int(np.unique(np.packbits(ideal, axis=1), axis=0).shape[0])
        return Identifiability(
            complete=complete,
            n_points=n,
            distinguishable_classes=classes,
            points_without_single_item=without,
            jointly_measured=joint,
            unmeasured=unmeasured,
        )


def _check_item(item: Item, codes: set[str]) -> None:
    name = f"item {item.item_id}"
    if not item.points or len(item.points) > MAX_POINTS_PER_ITEM:
        raise FrameworkError(
            f"{name} has {len(item.points)} points in its Q row; give it 1 to "
            f"{MAX_POINTS_PER_ITEM} point codes"
        )
    if len(set(item.points)) != len(item.points):
        raise FrameworkError(f"{name} lists a point twice in {item.points}; list each once")
    unknown = [p for p in item.points if p not in codes]
    if unknown:
        raise FrameworkError(
            f"{name} measures unknown point(s) {unknown}; use codes of the framework "
            f"({', '.join(sorted(codes)[:3])}, …)"
        )
    if item.kind == "scenario":
        if len(item.options_zh) != SCENARIO_OPTIONS:
            raise FrameworkError(
                f"{name} is a scenario item with {len(item.options_zh)} options; give exactly "
                f"{SCENARIO_OPTIONS}"
            )
        if item.correct_option is None or not 0 <= item.correct_option < SCENARIO_OPTIONS:
            raise FrameworkError(
                f"{name} has correct_option={item.correct_option!r}; it must be an option index "
                f"0..{SCENARIO_OPTIONS - 1}"
            )
        if item.scale_max is not None:
            raise FrameworkError(f"{name} is a scenario item and must not set scale_max")
    else:
        if item.scale_max not in (4, 5):
            raise FrameworkError(
                f"{name} has scale_max={item.scale_max!r}; self-rating items use a 4- or "
                "5-point scale"
            )
        if item.correct_option is not None:
            raise FrameworkError(f"{name} is a self-rating item and must not set correct_option")
        if len(item.options_zh) not in (0, item.scale_max):
            raise FrameworkError(
                f"{name} has {len(item.options_zh)} scale labels for scale_max={item.scale_max}; "
                "give one label per scale point or none"
            )


def parse_item_bank(
    data: Any, framework: Framework | None = None, origin: str = "<data>"
) -> ItemBank:
    """Validate raw JSON data (``{"items": [...]}`` or a list of items) into an :class:`ItemBank`.

    Raises
    ------
    FrameworkError
        Naming the item (id or position) and the field at fault.
    """
    fw = framework if framework is not None else default_framework()
    raw = data.get("items") if isinstance(data, dict) else data
    if not isinstance(raw, list) or not raw:
        raise FrameworkError(f"{origin}: expected a non-empty list of items under 'items'")
    codes = set(fw.codes)
    items: list[Item] = []
    seen: set[str] = set()
    for position, entry in enumerate(raw):
        label = (
            entry.get("item_id", f"#{position + 1}")
            if isinstance(entry, dict)
            else f"#{position + 1}"
        )
        try:
            item = Item.model_validate(entry)
        except ValidationError as error:
            where, message, _ = first_validation_problem(error)
            raise FrameworkError(
                f"{origin}: item {label} field {where!r}: {message}",
                details={"item": label, "field": where},
            ) from None
        if item.item_id in seen:
            raise FrameworkError(
                f"{origin}: duplicate item id {item.item_id!r}; ids must be unique"
            )
        seen.add(item.item_id)
        try:
            _check_item(item, codes)
        except FrameworkError as error:
            raise FrameworkError(
                f"{origin}: {error.message}", details={"item": item.item_id}
            ) from None
        items.append(item)
    return ItemBank(items)


def load_item_bank(path: Path | str | None = None, framework: Framework | None = None) -> ItemBank:
    """Load and validate an item bank file (``None`` = the shipped bank).

    Parameters
    ----------
    path
        JSON file with ``{"items": [...]}``.
    framework
        Framework whose codes the Q rows must use; ``None`` = the shipped national framework.
    """
    if path is None and framework is None:
        return default_item_bank()
    source = Path(path) if path is not None else ITEM_BANK_PATH
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FrameworkError(f"item bank file {source} does not exist") from None
    except json.JSONDecodeError as error:
        raise FrameworkError(f"item bank file {source} is not valid JSON: {error}") from None
    return parse_item_bank(data, framework, origin=str(source.name))


@lru_cache(maxsize=1)
def default_item_bank() -> ItemBank:
    """The shipped bank validated against the shipped framework (cached)."""
    data = json.loads(ITEM_BANK_PATH.read_text(encoding="utf-8"))
    return parse_item_bank(data, None, origin=ITEM_BANK_PATH.name)
