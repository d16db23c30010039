"""Assign peer reviewers (互评) to evidence submissions within each school.

Rules, in order of priority:

1. a reviewer is a colleague of the **same school**, never the submitter, never twice on one
   submission;
2. the review **load is balanced**: within a school, reviewer loads differ by at most one whenever
   the submissions allow it (a teacher who reviews ten portfolios while a colleague reviews none
   is the first complaint a school team hears);
3. below the fair share of reviews, a colleague from the submitter's **教研组** (research group)
   is preferred — they teach the subject and know the lesson — so cross-group reviews happen
   mainly when balance needs them (a one-person group, a group with too few members); every
   group carries load in proportion to its size.

Ties are broken with a seeded generator, so the same input and seed always give the same
assignment and different seeds spread the work differently.

Algorithm: a greedy pass gives each submission (in seeded order) colleagues under the fair-share
cap, same group first, then least loaded; a repair pass moves single reviews from the most- to the least-loaded colleague
until no move helps; a swap pass then exchanges reviewers between two submissions whenever that
brings more reviews inside a research group (loads are unchanged by a swap). When every teacher
has at most one submission per round, loads end within one of each other (the busier reviewer
always has a submission the idler one neither owns nor reviews); when one teacher submits
several, balance is as close as the no-self rule allows.

Example
-------
>>> team = [Colleague(teacher_id=t, school_id="S1", research_group=g)
...         for t, g in [("T1", "数学"), ("T2", "数学"), ("T3", "语文"), ("T4", "语文")]]
>>> result = assign_peers({"e1": "T1", "e2": "T3"}, team, reviewers_per_submission=1, seed=0)
>>> result.reviewers["e1"], result.reviewers["e2"]
(['T2'], ['T4'])
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from competency_model.errors import InfeasibleError, NotFoundError

__all__ = ["Colleague", "PeerAssignment", "assign_peers"]


class Colleague(BaseModel):
    """A teacher who can submit evidence and review colleagues' evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    teacher_id: str = Field(min_length=1)
    school_id: str = Field(min_length=1)
    research_group: str | None = None


class PeerAssignment(BaseModel):
    """Reviewers per submission, and the resulting load per teacher and per research group."""

    model_config = ConfigDict(extra="forbid")

    reviewers: dict[str, list[str]]
    #: Reviews per teacher of the schools involved (existing load included), zeros kept.
    load: dict[str, int]
    #: Reviews carried by each research group (``""`` for teachers without one).
    group_load: dict[str, int]
    #: Assignments where reviewer and submitter are in different research groups.
    cross_group: int


def assign_peers(
    submissions: Mapping[str, str],
    colleagues: Sequence[Colleague],
    *,
    reviewers_per_submission: int = 2,
    seed: int = 0,
    existing_load: Mapping[str, int] | None = None,
) -> PeerAssignment:
    """Assign ``reviewers_per_submission`` peers to each submission.

    Parameters
    ----------
    submissions
        Submission id (e.g. one teacher's evidence for one point) → the submitting teacher id.
    colleagues
        Every teacher who may review, with school and research group.
    reviewers_per_submission
        Peers per submission (two in the usual 互评).
    seed
        Seed of the tie-breaking generator.
    existing_load
        Reviews teachers already carry this cycle, so assignments made in several rounds stay
        balanced overall.

    Raises
    ------
    NotFoundError
        A submitter is not among ``colleagues``.
    InfeasibleError
        A school has too few other teachers to give every submission enough distinct peers.
    """
    if reviewers_per_submission < 1:
        raise InfeasibleError(
            f"reviewers_per_submission = {reviewers_per_submission}; use at least 1"
        )
    by_id = {c.teacher_id: c for c in colleagues}
    per_school: dict[str, dict[str, str]] = defaultdict(dict)
    for submission_id, teacher_id in sorted(submissions.items()):
        owner = by_id.get(teacher_id)
        if owner is None:
            raise NotFoundError(
                f"submission {submission_id!r}: teacher {teacher_id!r} is not among the "
                "colleagues given; add the teacher to the school roster first",
                details={"submission_id": submission_id, "teacher_id": teacher_id},
            )
        per_school[owner.school_id][submission_id] = teacher_id
    reviewers: dict[str, list[str]] = {}
    load: dict[str, int] = {}
    for school_id in sorted(per_school):
        pool = sorted(
            (c for c in colleagues if c.school_id == school_id), key=lambda c: c.teacher_id
        )
        if len(pool) - 1 < reviewers_per_submission:
            raise InfeasibleError(
                f"school {school_id!r} has {len(pool)} teacher(s); each submission needs "
                f"{reviewers_per_submission} peers other than the submitter — lower "
                "reviewers_per_submission or invite reviewers from the school's roster",
                details={"school_id": school_id, "teachers": len(pool)},
            )
        rng = random.Random(f"{seed}:{school_id}")
        school_load = {c.teacher_id: int((existing_load or {}).get(c.teacher_id, 0)) for c in pool}
        groups = {c.teacher_id: c.research_group or "" for c in pool}
        assigned = _greedy(
            per_school[school_id], groups, school_load, reviewers_per_submission, rng
        )
        _repair(assigned, per_school[school_id], groups, school_load)
        _swap_into_groups(assigned, per_school[school_id], groups)
        reviewers.update(assigned)
        load.update(school_load)
    group_of = {c.teacher_id: c.research_group or "" for c in colleagues}
    group_load: dict[str, int] = defaultdict(int)
    for teacher_id, n in load.items():
        group_load[group_of[teacher_id]] += n
    cross = sum(group_of[r] != group_of[submissions[s]] for s, rs in reviewers.items() for r in rs)
    return PeerAssignment(
        reviewers=dict(sorted(reviewers.items())),
        load=load,
        group_load=dict(sorted(group_load.items())),
        cross_group=cross,
    )


def _greedy(
    submissions: Mapping[str, str],
    groups: Mapping[str, str],
    load: dict[str, int],
    k: int,
    rng: random.Random,
) -> dict[str, list[str]]:
    order = sorted(submissions)
    rng.shuffle(order)
    # Nobody needs more than the fair share ``cap``; below it, a research-group colleague is
    # preferred over a less loaded one from another group, so groups keep their reviews inside.
    cap = math.ceil((sum(load.values()) + k * len(order)) / len(load))
    out: dict[str, list[str]] = {}
    for submission_id in order:
        owner = submissions[submission_id]
        candidates = [t for t in load if t != owner]
        keyed = sorted(
            candidates,
            key=lambda t: (load[t] >= cap, groups[t] != groups[owner], load[t], rng.random()),
        )
        chosen = keyed[:k]
        for t in chosen:
            load[t] += 1
        out[submission_id] = sorted(chosen)
    return out


def _repair(
    assigned: dict[str, list[str]],
    submissions: Mapping[str, str],
    groups: Mapping[str, str],
    load: dict[str, int],
) -> None:
    while max(load.values()) - min(load.values()) > 1:
        if not _move_one(assigned, submissions, groups, load):
            return  # only existing (earlier-round) load is unbalanced; nothing here can move


def _move_one(
    assigned: dict[str, list[str]],
    submissions: Mapping[str, str],
    groups: Mapping[str, str],
    load: dict[str, int],
) -> bool:
    busy = sorted(load, key=lambda t: (-load[t], t))
    idle = sorted(load, key=lambda t: (load[t], t))
    for heavy in busy:
        for light in idle:
            if load[heavy] - load[light] < 2:
                break
            movable = [
                s
                for s, rs in sorted(assigned.items())
                if heavy in rs and light not in rs and submissions[s] != light
            ]
            if not movable:
                continue
            # Prefer a submission from the light reviewer's own research group.
            best = min(movable, key=lambda s: groups[submissions[s]] != groups[light])
            assigned[best] = sorted([r for r in assigned[best] if r != heavy] + [light])
            load[heavy] -= 1
            load[light] += 1
            return True
    return False


def _swap_into_groups(
    assigned: dict[str, list[str]], submissions: Mapping[str, str], groups: Mapping[str, str]
) -> None:
    """Exchange reviewers between submissions while that reduces cross-group reviews."""
    improved = True
    while improved:
        improved = False
        for s1 in sorted(assigned):
            for r1 in list(assigned[s1]):
                if groups[r1] != groups[submissions[s1]] and _swap_one(
                    s1, r1, assigned, submissions, groups
                ):
                    improved = True


def _swap_one(
    s1: str,
    r1: str,
    assigned: dict[str, list[str]],
    submissions: Mapping[str, str],
    groups: Mapping[str, str],
) -> bool:
    """Give submission ``s1`` a same-group reviewer in exchange for its cross-group ``r1``."""
    owner1 = submissions[s1]
    for s2 in sorted(assigned):
        owner2 = submissions[s2]
        if s2 == s1 or r1 == owner2 or r1 in assigned[s2]:
            continue
        for r2 in assigned[s2]:
            if groups[r2] != groups[owner1] or r2 == owner1 or r2 in assigned[s1]:
                continue
            # s1 gains a same-group reviewer; the swap must not cost s2 more than that.
            before = 1 + int(groups[r2] != groups[owner2])
            after = int(groups[r1] != groups[owner2])
            if after < before:
                assigned[s1] = sorted([r for r in assigned[s1] if r != r1] + [r2])
                assigned[s2] = sorted([r for r in assigned[s2] if r != r2] + [r1])
                return True
    return False
