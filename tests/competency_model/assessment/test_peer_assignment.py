"""Peer-reviewer assignment: never oneself, same school, balanced load, group-aware, seeded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.assessment import Colleague, assign_peers
from competency_model.errors import InfeasibleError, NotFoundError


def school(school_id: str, groups: dict[str, int]) -> list[Colleague]:
    out = []
    for group, size in groups.items():
        for i in range(size):
            tid = f"{school_id}-{group}-{i}"
            out.append(Colleague(teacher_id=tid, school_id=school_id, research_group=group))
    return out


@st.composite
def rosters(draw: st.DrawFn) -> tuple[list[Colleague], dict[str, str], int]:
    colleagues: list[Colleague] = []
    for s in range(draw(st.integers(1, 3))):
        sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
        colleagues += school(f"S{s}", {f"G{g}": n for g, n in enumerate(sizes)})
    k = draw(st.integers(1, 3))
    by_school: dict[str, int] = {}
    for c in colleagues:
        by_school[c.school_id] = by_school.get(c.school_id, 0) + 1
    eligible = [c for c in colleagues if by_school[c.school_id] > k]
    chosen = draw(st.lists(st.sampled_from(eligible), unique=True)) if eligible else []
    submissions = {f"sub-{c.teacher_id}-{j}": c.teacher_id for c in chosen for j in range(2)}
    return colleagues, submissions, k


@settings(max_examples=150, deadline=None)
@given(rosters(), st.integers(0, 2**16))
def test_assignment_invariants(
    roster: tuple[list[Colleague], dict[str, str], int], seed: int
) -> None:
    colleagues, submissions, k = roster
    school_of = {c.teacher_id: c.school_id for c in colleagues}
    result = assign_peers(submissions, colleagues, reviewers_per_submission=k, seed=seed)
    assert set(result.reviewers) == set(submissions)
    for submission_id, reviewers in result.reviewers.items():
        owner = submissions[submission_id]
        assert owner not in reviewers  # never one's own
        assert len(set(reviewers)) == len(reviewers) == k
        assert {school_of[r] for r in reviewers} == {school_of[owner]}
    # Balanced: no single review can move from a colleague with 2+ more reviews to a less
    # loaded one without breaking the no-self / distinct-reviewer rules.
    for heavy, light in itertools.permutations(result.load, 2):
        if school_of[heavy] != school_of[light] or result.load[heavy] - result.load[light] < 2:
            continue
        for submission_id, reviewers in result.reviewers.items():
            if heavy in reviewers:
                assert light in reviewers or submissions[submission_id] == light
    assert sum(result.load.values()) == k * len(submissions)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.data(), st.integers(0, 99))
def test_loads_differ_by_at_most_one_with_one_submission_each(
    sizes: list[int], data: st.DataObject, seed: int
) -> None:
    team = school("S1", {f"G{g}": n for g, n in enumerate(sizes)})
    k = data.draw(st.integers(1, max(1, min(3, len(team) - 1))))
    if len(team) <= k:
        return
    chosen = data.draw(st.lists(st.sampled_from(team), unique=True, min_size=1))
    subs = {f"e-{c.teacher_id}": c.teacher_id for c in chosen}
    loads = assign_peers(subs, team, reviewers_per_submission=k, seed=seed).load.values()
    assert max(loads) - min(loads) <= 1


def test_same_seed_gives_same_assignment_and_seeds_differ() -> None:
    team = school("S1", {"数学": 6, "语文": 6})
    subs = {f"e{i}": c.teacher_id for i, c in enumerate(team)}
    first = assign_peers(subs, team, seed=7)
    assert assign_peers(subs, team, seed=7) == first
    others = {str(assign_peers(subs, team, seed=s).reviewers) for s in range(5)}
    assert len(others) > 1


@pytest.mark.parametrize("seed", range(5))
def test_colleagues_of_the_same_research_group_are_preferred(seed: int) -> None:
    # 24 reviews; a group-blind assignment would put about two thirds across groups.
    team = school("S1", {"数学": 4, "语文": 4, "英语": 4})
    subs = {f"e{i}": c.teacher_id for i, c in enumerate(team)}
    result = assign_peers(subs, team, reviewers_per_submission=2, seed=seed)
    assert result.cross_group <= 2
    assert result.group_load == {"数学": 8, "语文": 8, "英语": 8}


def test_a_lone_group_member_is_reviewed_across_groups() -> None:
    team = school("S1", {"数学": 5, "美术": 1})
    lone = "S1-美术-0"
    result = assign_peers({"e": lone}, team, reviewers_per_submission=2, seed=0)
    assert all(r.startswith("S1-数学") for r in result.reviewers["e"])
    assert result.cross_group == 2


def test_load_is_balanced_when_few_teachers_submit() -> None:
    team = school("S1", {"数学": 3, "语文": 3})
    subs = {f"e{i}": "S1-数学-0" for i in range(5)}
    result = assign_peers(subs, team, reviewers_per_submission=2, seed=3)
    others = [n for t, n in result.load.items() if t != "S1-数学-0"]
    assert result.load["S1-数学-0"] == 0 and max(others) - min(others) <= 1


def test_existing_load_steers_new_assignments() -> None:
    team = school("S1", {"数学": 4})
    busy = {"S1-数学-1": 5, "S1-数学-2": 5}
    result = assign_peers(
        {"e": "S1-数学-0"}, team, reviewers_per_submission=1, seed=0, existing_load=busy
    )
    assert result.reviewers["e"] == ["S1-数学-3"]


def test_too_small_a_school_is_infeasible() -> None:
    team = school("S1", {"数学": 2})
    with pytest.raises(InfeasibleError, match="S1"):
        assign_peers({"e": "S1-数学-0"}, team, reviewers_per_submission=2)


def test_unknown_submitter_is_named() -> None:
    with pytest.raises(NotFoundError, match="T404"):
        assign_peers({"e": "T404"}, school("S1", {"数学": 3}))


def test_zero_reviewers_is_refused() -> None:
    with pytest.raises(InfeasibleError):
        assign_peers({}, school("S1", {"数学": 3}), reviewers_per_submission=0)
