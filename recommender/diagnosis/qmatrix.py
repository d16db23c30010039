"""What a Q-matrix can and cannot tell apart under the DINA rule.

Under DINA an examinee's ideal answers depend only on which items' requirement sets are
contained in their profile. Two profiles with the same ideal answers cannot be told apart by
any amount of data, so the number of *distinguishable* classes is the number of distinct ideal
response patterns. For FrcSub (20 items, 8 attributes) that is 58 of 256.

Counting by brute force enumerates 2**K profiles, impossible for the 30 competency points. The
distinct patterns are exactly the sets that are unions of Q-matrix rows (each pattern has a
unique "closure": the union of the rows it satisfies). That family factorises over connected
components of the attribute co-occurrence graph, and inside a component the attributes that
have a single-attribute item are free, so the count only enumerates the attributes that are
always measured together with others (:func:`count_distinguishable_classes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from competency_model.errors import NengliError
from recommender.diagnosis._checks import check_q_matrix
from recommender.diagnosis.dina import all_profiles, ideal_responses

__all__ = [
    "QMatrixReport",
    "analyse_q_matrix",
    "count_distinguishable_brute_force",
    "count_distinguishable_classes",
]

#: Above this many enumerated bits the exact count is refused rather than run for hours.
MAX_ENUMERATED_BITS = 24


def count_distinguishable_brute_force(q_matrix: ArrayLike) -> int:
    """Count distinct ideal response patterns by enumerating all 2**K profiles (K <= 20)."""
    q = check_q_matrix(q_matrix)
    if q.shape[1] > 20:
        raise NengliError(f"brute force over 2**{q.shape[1]} profiles refused; K must be <= 20")
    patterns = ideal_responses(q, all_profiles(q.shape[1]))  # items x profiles
    return int(np.unique(np.packbits(patterns, axis=0), axis=1).shape[1])


def count_distinguishable_classes(q_matrix: ArrayLike) -> int:
    """Number of attribute profiles the Q-matrix can tell apart under DINA.

    Exact for any K as long as, within each connected group of co-measured attributes, the
    attributes lacking a single-attribute item plus the single-item attributes they are
    measured with number at most :data:`MAX_ENUMERATED_BITS`.

    Examples
    --------
    >>> count_distinguishable_classes([[1, 0], [0, 1]])  # complete Q-matrix
    4
    >>> count_distinguishable_classes([[1, 1]])  # the two points only measured jointly
    2
    """
    q = check_q_matrix(q_matrix)
    total = 1
    for component in _components(q):
        total *= _count_component(q, component)
    return total


def _components(q: np.ndarray) -> list[list[int]]:
    """Connected components of attributes linked by appearing in the same item."""
    n = q.shape[1]
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for row in q:
        cols = np.flatnonzero(row)
        for col in cols[1:]:
            parent[find(int(col))] = find(int(cols[0]))
    groups: dict[int, list[int]] = {}
    for a in range(n):
        groups.setdefault(find(a), []).append(a)
    return list(groups.values())


def _count_component(q: np.ndarray, component: list[int]) -> int:
    rows = [frozenset(np.flatnonzero(r)) for r in q if set(np.flatnonzero(r)) <= set(component)]
    rows = [r for r in rows if r]
    if not rows:  # attribute measured by no item: mastery is invisible
        return 1
    singles = {next(iter(r)) for r in rows if len(r) == 1}
    joint = [a for a in component if a not in singles]
    # Single-item attributes that appear in some row together with a joint attribute: their
    # state matters when deciding whether a joint attribute is "covered".
    linked = sorted({a for r in rows if r & set(joint) for a in r if a in singles})
    free = len(singles) - len(linked)
    bits = joint + linked
    if len(bits) > MAX_ENUMERATED_BITS:
        raise NengliError(
            f"{len(joint)} attributes are only measured jointly in one connected group "
            f"({len(bits)} bits to enumerate, limit {MAX_ENUMERATED_BITS}); add "
            "single-point items so the count stays tractable"
        )
    local = {a: i for i, a in enumerate(bits)}
    sub_rows = [r for r in rows if r <= set(bits)]
    sub_q = np.zeros((len(sub_rows), len(bits)), dtype=np.int8)
    for i, r in enumerate(sub_rows):
        for a in r:
            sub_q[i, local[a]] = 1
    # A profile restricted to ``bits`` is a closed set iff every member is covered by a row
    # inside the set; single-item attributes are always covered by their own item.
    profiles = all_profiles(len(bits)).astype(bool)
    covered = np.zeros_like(profiles)
    for column in [local[s] for s in linked]:
        covered[:, column] = True
    if sub_q.shape[0]:
        contained = ideal_responses(sub_q, profiles).T  # profiles x rows
        covered |= (contained.astype(np.int64) @ sub_q.astype(np.int64)) > 0
    closed = np.all(~profiles | covered, axis=1)
    return int(closed.sum()) * 2**free


@dataclass(frozen=True)
class QMatrixReport:
    """Identifiability summary of a Q-matrix.

    Attributes
    ----------
    n_attributes, n_items
        Shape of the Q-matrix.
    n_profiles
        2**K, all possible profiles.
    n_distinguishable
        Profiles the items can tell apart (distinct ideal response patterns).
    unmeasured
        Attributes that no item measures.
    only_jointly_measured
        Attribute -> the attributes present in every item that measures it. An attribute in
        this map has no single-attribute item, so its mastery is confounded with the listed
        ones whenever those are not mastered.
    items_per_attribute
        Attribute -> number of items measuring it.
    """

    n_attributes: int
    n_items: int
    n_profiles: int
    n_distinguishable: int
    unmeasured: list[str] = field(default_factory=list)
    only_jointly_measured: dict[str, list[str]] = field(default_factory=dict)
    items_per_attribute: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every profile is distinguishable (each attribute has its own item)."""
        return self.n_distinguishable == self.n_profiles


def analyse_q_matrix(q_matrix: ArrayLike, names: Sequence[str] | None = None) -> QMatrixReport:
    """Report distinguishable classes and jointly measured attributes of a Q-matrix.

    Parameters
    ----------
    q_matrix
        0/1 array (items x attributes).
    names
        Attribute names (e.g. point codes ``"A1"``); defaults to ``"0", "1", ...``.
    """
    q = check_q_matrix(q_matrix)
    k = q.shape[1]
    labels = list(names) if names is not None else [str(i) for i in range(k)]
    if len(labels) != k:
        raise NengliError(f"{len(labels)} names given for a Q-matrix with {k} attributes")
    counts = q.sum(axis=0)
    single = q.sum(axis=1) == 1
    unmeasured = [labels[a] for a in range(k) if counts[a] == 0]
    joint: dict[str, list[str]] = {}
    for a in range(k):
        if counts[a] == 0 or (single & (q[:, a] == 1)).any():
            continue
        always = np.all(q[q[:, a] == 1] == 1, axis=0)
        joint[labels[a]] = [labels[b] for b in np.flatnonzero(always) if b != a]
    return QMatrixReport(
        n_attributes=k,
        n_items=q.shape[0],
        n_profiles=2**k,
        n_distinguishable=count_distinguishable_classes(q),
        unmeasured=unmeasured,
        only_jointly_measured=joint,
        items_per_attribute={labels[a]: int(counts[a]) for a in range(k)},
    )
