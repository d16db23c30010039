"""Self / peer / school reviews: the official rating rule, disagreement, audit and review rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model import RatingRule, default_framework
from competency_model.assessment import (
    Review,
    check_review,
    peer_consensus,
    summarize_item,
    summarize_point,
)

RULE = default_framework().point("A6").rating_rule
RATINGS = ["优秀", "合格", "不合格"]
RANK = {"优秀": 2, "合格": 1, "不合格": 0}
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def review(eid: str, who: str, role: str, rating: str, minutes: int = 0) -> Review:
    return Review(
        evidence_id=eid,
        reviewer_id=who,
        role=role,  # type: ignore[arg-type]
        rating=rating,  # type: ignore[arg-type]
        comment="依据评价要点评定",
        created_at=T0 + timedelta(minutes=minutes),
    )


def official(ratings: list[str], missing: int) -> str:
    """The rule as the source states it, written independently of the implementation."""
    if missing or not ratings or any(r == "不合格" for r in ratings):
        return "不合格"
    return "优秀" if all(r == "优秀" for r in ratings) else "合格"


def school_result(ratings: list[str], missing: int = 0) -> str | None:
    ids = [f"E{i}" for i in range(len(ratings))]
    reviews = [review(e, "school-team", "school", r) for e, r in zip(ids, ratings, strict=True)]
    return summarize_point("T1", "A6", ids, reviews, RULE, missing_required=missing).school_result


@pytest.mark.parametrize(
    "ratings", [list(c) for n in (1, 2, 3) for c in itertools.product(RATINGS, repeat=n)]
)
def test_point_result_follows_the_rule_on_every_small_combination(ratings: list[str]) -> None:
    assert school_result(ratings) == official(ratings, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(RATINGS), min_size=1, max_size=8), st.integers(0, 2))
def test_point_result_follows_the_rule(ratings: list[str], missing: int) -> None:
    assert school_result(ratings, missing) == official(ratings, missing)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(RATINGS), min_size=1, max_size=8), st.data())
def test_improving_an_item_never_lowers_the_result(ratings: list[str], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(ratings) - 1))
    better = list(ratings)
    better[i] = data.draw(st.sampled_from([r for r in RATINGS if RANK[r] >= RANK[ratings[i]]]))
    assert RANK[RULE.aggregate(better)] >= RANK[RULE.aggregate(ratings)]


@settings(max_examples=100, deadline=None)
@given(st.permutations(["优秀", "合格", "优秀", "不合格", "合格"]))
def test_result_does_not_depend_on_item_order(ratings: list[str]) -> None:
    assert school_result(ratings) == "不合格"


def test_the_point_uses_the_framework_rule_object() -> None:
    assert isinstance(RULE, RatingRule) and RULE.aggregate(["优秀", "优秀"]) == "优秀"


@pytest.mark.parametrize(
    ("peers", "expected"),
    [
        (["优秀"], "优秀"),
        (["优秀", "合格"], "合格"),
        (["优秀", "优秀", "不合格"], "优秀"),
        (["合格", "不合格"], "不合格"),
        ([], None),
    ],
)
def test_peer_consensus_is_the_cautious_median(peers: list[str], expected: str | None) -> None:
    assert peer_consensus(peers) == expected


def test_disagreement_between_peers_and_school_is_visible() -> None:
    reviews = [
        review("E1", "T2", "peer", "优秀"),
        review("E1", "T3", "peer", "优秀"),
        review("E1", "school", "school", "合格", 5),
    ]
    summary = summarize_item("E1", reviews)
    assert summary.disagreement and summary.peer_school_gap == -1
    assert summary.school_rating == "合格"


def test_agreement_is_not_flagged() -> None:
    reviews = [review("E1", p, "peer", "合格") for p in ("T2", "T3")]
    reviews.append(review("E1", "school", "school", "合格", 5))
    assert not summarize_item("E1", reviews).disagreement


def test_latest_school_rating_is_final_and_history_is_kept() -> None:
    reviews = [
        review("E1", "school", "school", "不合格", 1),
        review("E1", "school", "school", "合格", 9),
    ]
    summary = summarize_item("E1", reviews)
    assert summary.school_rating == "合格"
    assert [h.rating for h in summary.school_history] == ["不合格", "合格"]


def test_point_status_moves_through_the_stages() -> None:
    ids = ["E1", "E2"]
    reviews: list[Review] = []

    def status() -> str:
        return summarize_point("T1", "A6", ids, reviews, RULE).status

    assert status() == "awaiting_self"
    reviews += [review(e, "T1", "self", "优秀") for e in ids]
    assert status() == "awaiting_peers"
    reviews += [review(e, p, "peer", "合格") for e in ids for p in ("T2", "T3")]
    assert status() == "awaiting_school"
    reviews += [review(e, "school", "school", "优秀", 3) for e in ids]
    point = summarize_point("T1", "A6", ids, reviews, RULE)
    assert (point.status, point.self_result, point.peer_result, point.school_result) == (
        "final",
        "优秀",
        "合格",
        "优秀",
    )
    assert point.disagreement


def test_missing_required_item_fails_the_point_even_if_all_excellent() -> None:
    assert school_result(["优秀", "优秀"], missing=1) == "不合格"


ASSIGNED = {"T2", "T3"}


@pytest.mark.parametrize(
    ("who", "role", "rule"),
    [
        ("T2", "self", "self_review_by_other"),
        ("T1", "peer", "peer_is_owner"),
        ("T9", "peer", "peer_not_assigned"),
        ("T1", "school", "school_is_owner"),
    ],
)
def test_review_by_the_wrong_person_is_rejected(who: str, role: str, rule: str) -> None:
    found = check_review(review("E1", who, role, "合格"), owner_id="T1", assigned_peers=ASSIGNED)
    assert [v.rule for v in found] == [rule]


@pytest.mark.parametrize(("who", "role"), [("T1", "self"), ("T2", "peer"), ("school", "school")])
def test_review_by_the_right_person_is_accepted(who: str, role: str) -> None:
    new = review("E1", who, role, "合格")
    assert check_review(new, owner_id="T1", assigned_peers=ASSIGNED) == []


def test_second_peer_review_by_same_colleague_is_rejected() -> None:
    first = review("E1", "T2", "peer", "合格")
    found = check_review(first, owner_id="T1", assigned_peers=ASSIGNED, existing=[first])
    assert [v.rule for v in found] == ["duplicate_review"]


@pytest.mark.parametrize(("who", "role"), [("T1", "self"), ("T3", "peer")])
def test_self_and_peer_reviews_close_after_the_school_rating(who: str, role: str) -> None:
    final = review("E1", "school", "school", "合格")
    found = check_review(
        review("E1", who, role, "优秀", 5), owner_id="T1", assigned_peers=ASSIGNED, existing=[final]
    )
    assert [v.rule for v in found] == ["rating_closed"]


def test_school_may_revise_its_rating() -> None:
    final = review("E1", "school", "school", "合格")
    again = review("E1", "school", "school", "优秀", 5)
    assert check_review(again, owner_id="T1", assigned_peers=ASSIGNED, existing=[final]) == []


@pytest.mark.parametrize("comment", ["", "   "])
def test_review_needs_a_comment(comment: str) -> None:
    with pytest.raises(ValueError):
        Review(
            evidence_id="E1",
            reviewer_id="T2",
            role="peer",
            rating="合格",
            comment=comment,
            created_at=T0,
        )
