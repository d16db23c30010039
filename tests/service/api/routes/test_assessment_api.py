"""School-based assessment over HTTP: evidence, reviews, portfolio, school view, tenancy, feedback.

Runs on the session's app, database and models (see ``conftest.py``).
"""

from __future__ import annotations

import io
import itertools
import warnings
from typing import Any

import pytest
from openpyxl import load_workbook

from competency_model import default_framework
from service.auth import create_key
from tests.service.conftest import Keys, World, assert_problem, put_teacher

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

FW = default_framework()
EVIDENCE_PATH = "/v1/teachers/{teacher_id}/evidence"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def api(client: TestClient, world: World) -> TestClient:
    """The session's app (``create_app`` mounts the assessment router) with the tenancy world."""
    return client


def token(api: TestClient, role: str, scope: str | None) -> dict[str, str]:
    """A fresh key of ``role`` for ``scope`` as an Authorization header."""
    with api.app.state.nengli.sessions() as session:  # type: ignore[attr-defined]
        secret, _ = create_key(session, role, scope)
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def new_teacher(api: TestClient, keys: Keys, school: str) -> str:
    teacher_id = f"TA{next(_ids):05d}"
    put_teacher(api, keys.header("admin"), teacher_id, school)
    return teacher_id


def items_for(point: str, *, clip_minutes: float = 8.0) -> list[dict[str, Any]]:
    """One valid metadata record per artifact of ``point`` (videos as clips)."""
    out = []
    for artifact in FW.point(point).artifacts:
        item: dict[str, Any] = {
            "artifact": artifact.name_zh,
            "title": f"{artifact.name_zh}（分数的初步认识）",
            "file_ref": f"platform://files/{point}/{len(out)}",
            "lesson": "分数的初步认识",
            "class_name": "三年级2班",
        }
        if artifact.max_minutes is not None or "视频" in artifact.name_zh:
            item.update(media="video", duration_minutes=clip_minutes)
        out.append(item)
    return out


def submit(
    api: TestClient, headers: dict[str, str], teacher_id: str, point: str = "A6", **extra: Any
) -> Any:
    body = {"point": point, "items": items_for(point), **extra}
    return api.post(EVIDENCE_PATH.format(teacher_id=teacher_id), json=body, headers=headers)


def review(
    api: TestClient, headers: dict[str, str], evidence_id: str, role: str, rating: str, **extra: Any
) -> Any:
    body = {"role": role, "rating": rating, "comment": "依据评价要点评定", **extra}
    return api.post(f"/v1/evidence/{evidence_id}/reviews", json=body, headers=headers)


# ------------------------------------------------------------------ evidence validation
def test_valid_submission_is_stored_with_two_peers_of_the_school(
    api: TestClient, keys: Keys, world: World
) -> None:
    teacher = new_teacher(api, keys, world.school)
    response = submit(api, keys.header("school"), teacher)
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["items"]) == 3 and len(body["peer_reviewers"]) == 2
    assert teacher not in body["peer_reviewers"]
    for peer in body["peer_reviewers"]:
        got = api.get(f"/v1/teachers/{peer}", headers=keys.header("admin")).json()
        assert got["school_id"] == world.school


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda items: items[1].update(duration_minutes=12), "video_too_long"),
        (lambda items: items.pop(), "missing_required"),
        (lambda items: items[0].update(file_ref=None), "missing_reference"),
        (lambda items: items[0].update(lesson=""), "missing_context"),
        (lambda items: items[0].update(artifact="学情分析报告"), "unknown_artifact"),
    ],
    ids=["clip-over-10-min", "missing-required", "no-reference", "no-lesson", "wrong-artifact"],
)
def test_invalid_evidence_is_rejected_with_the_reason(
    api: TestClient, keys: Keys, world: World, mutate: Any, rule: str
) -> None:
    items = items_for("A6")
    mutate(items)
    response = api.post(
        EVIDENCE_PATH.format(teacher_id=world.teacher),
        json={"point": "A6", "items": items},
        headers=keys.header("teacher"),
    )
    body = assert_problem(response, 422)
    found = [v["rule"] for v in body["violations"]] + [
        v["rule"] for vs in body["item_violations"].values() for v in vs
    ]
    assert rule in found


def test_file_content_is_refused(api: TestClient, keys: Keys, world: World) -> None:
    items = items_for("A6")
    items[1]["video_base64"] = "AAAA"
    response = api.post(
        EVIDENCE_PATH.format(teacher_id=world.teacher),
        json={"point": "A6", "items": items},
        headers=keys.header("teacher"),
    )
    assert_problem(response, 422)


def test_task_must_be_a_practice_task_of_the_point(
    api: TestClient, keys: Keys, world: World
) -> None:
    response = submit(api, keys.header("teacher"), world.teacher, task_id="CRS-0001")
    body = assert_problem(response, 422)
    assert [v["rule"] for v in body["violations"]] == ["task_for_point"]


# ------------------------------------------------------------------ tenancy
@pytest.mark.parametrize("role", ["teacher", "school", "other_platform"])
def test_foreign_teacher_evidence_is_404(
    api: TestClient, keys: Keys, world: World, role: str
) -> None:
    # teacher: a colleague; school: a teacher of a sibling school; platform: another region's.
    foreign = world.teacher if role == "other_platform" else world.sibling_teacher
    headers = keys.header(role)
    assert_problem(api.get(EVIDENCE_PATH.format(teacher_id=foreign), headers=headers), 404)
    assert_problem(submit(api, headers, foreign), 404)
    assert_problem(api.get(f"/v1/teachers/{foreign}/portfolio", headers=headers), 404)


@pytest.mark.parametrize(
    ("role", "own"),
    [
        ("school", True),
        ("school", False),
        ("platform", True),
        ("other_platform", False),
        ("teacher", False),
    ],
)
def test_school_assessment_scope(
    api: TestClient, keys: Keys, world: World, role: str, own: bool
) -> None:
    school = world.school if own or role == "other_platform" else world.sibling_school
    response = api.get(f"/v1/schools/{school}/assessment", headers=keys.header(role))
    if own:
        assert response.status_code == 200, response.text
        assert response.json()["school_id"] == school
    else:
        assert_problem(response, 404)


def test_evidence_is_visible_to_assigned_peers_only(
    api: TestClient, keys: Keys, world: World
) -> None:
    teacher = new_teacher(api, keys, world.school)
    body = submit(api, keys.header("school"), teacher).json()
    evidence_id = body["items"][0]["evidence_id"]
    peer = body["peer_reviewers"][0]
    outsider = new_teacher(api, keys, world.school)  # same school, not assigned
    assert_problem(
        api.get(f"/v1/evidence/{evidence_id}/reviews", headers=token(api, "teacher", outsider)), 404
    )
    assert_problem(
        api.get(f"/v1/evidence/{evidence_id}/reviews", headers=keys.header("other_platform")), 404
    )
    peer_headers = token(api, "teacher", peer)
    seen = api.get(f"/v1/evidence/{evidence_id}/reviews", headers=peer_headers)
    assert seen.status_code == 200 and seen.json()["evidence"]["evidence_id"] == evidence_id
    tasks = api.get(f"/v1/teachers/{peer}/review-assignments", headers=peer_headers).json()
    assert evidence_id in {row["evidence_id"] for row in tasks["data"]}


def test_review_rules_over_http(api: TestClient, keys: Keys, world: World) -> None:
    teacher = new_teacher(api, keys, world.school)
    body = submit(api, keys.header("school"), teacher).json()
    evidence_id = body["items"][0]["evidence_id"]
    peer = token(api, "teacher", body["peer_reviewers"][0])
    assert_problem(review(api, peer, evidence_id, "self", "优秀"), 422)  # not the owner
    assert_problem(review(api, keys.header("school"), evidence_id, "peer", "合格"), 403)
    assert_problem(review(api, peer, evidence_id, "school", "优秀"), 403)  # a colleague's key
    assert review(api, peer, evidence_id, "peer", "合格").status_code == 201
    assert_problem(review(api, peer, evidence_id, "peer", "优秀"), 409)  # second review
    assert review(api, keys.header("school"), evidence_id, "school", "合格").status_code == 201
    own = token(api, "teacher", teacher)
    assert_problem(review(api, own, evidence_id, "self", "优秀"), 409)  # closed after final


def test_reviews_are_append_only_in_the_database(api: TestClient, keys: Keys, world: World) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    teacher = new_teacher(api, keys, world.school)
    evidence_id = submit(api, keys.header("school"), teacher).json()["items"][0]["evidence_id"]
    assert review(api, keys.header("school"), evidence_id, "school", "合格").status_code == 201
    with api.app.state.nengli.sessions() as session:  # type: ignore[attr-defined]
        with pytest.raises(DatabaseError):
            session.execute(text("UPDATE evidence_reviews SET rating = '优秀'"))
            session.commit()
        session.rollback()


# ------------------------------------------------------------------ end to end
def _recommended(api: TestClient, headers: dict[str, str], teacher: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/teachers/{teacher}/recommendations?kind=course&k=100", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _best_rank(items: list[dict[str, Any]], point: str) -> int:
    """Rank of the first course on ``point`` (len(items) if none is listed)."""
    return next((i for i, item in enumerate(items) if point in item["points"]), len(items))


def _mastery(api: TestClient, headers: dict[str, str], teacher: str, point: str) -> float:
    response = api.get(f"/v1/teachers/{teacher}/diagnosis", headers=headers)
    assert response.status_code == 200, response.text
    return next(p["mastery_probability"] for p in response.json()["points"] if p["point"] == point)


def test_end_to_end_path_to_rating_to_new_recommendations(
    api: TestClient, keys: Keys, world: World
) -> None:
    teacher = new_teacher(api, keys, world.school)
    me = token(api, "teacher", teacher)
    school = keys.header("school")

    # 1. the learning path names practice tasks; take the one whose point has a course in view
    path = api.get(f"/v1/teachers/{teacher}/learning-path?policy=jiangsu", headers=me)
    assert path.status_code == 200, path.text
    before = _recommended(api, me, teacher)
    practice = [i for i in path.json()["items"] if i["kind"] == "practice"]
    task = min(practice, key=lambda i: (_best_rank(before, i["points"][0]), i["week"]))
    point = task["points"][0]
    assert _best_rank(before, point) < len(before)
    mastery_before = _mastery(api, me, teacher, point)

    # 2. evidence of that task
    submitted = submit(api, me, teacher, point=point, task_id=task["id"])
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    evidence_ids = [i["evidence_id"] for i in body["items"]]
    peers = [token(api, "teacher", p) for p in body["peer_reviewers"]]
    assert len(peers) == 2

    # 3. self, two peers, then the school team (one item below 合格)
    for eid in evidence_ids:
        assert review(api, me, eid, "self", "优秀").status_code == 201
        for peer in peers:
            assert review(api, peer, eid, "peer", "合格").status_code == 201
    ratings = ["合格"] * (len(evidence_ids) - 1) + ["不合格"]
    responses = [
        review(api, school, e, "school", r) for e, r in zip(evidence_ids, ratings, strict=True)
    ]
    assert all(r.status_code == 201 for r in responses), responses[-1].text
    assert all(r.json()["feedback"] is None for r in responses[:-1])  # not final before the last
    final = responses[-1].json()
    assert final["point_review"]["status"] == "final"
    assert final["point_review"]["school_result"] == "不合格"
    assert final["point_review"]["self_result"] == "优秀" and final["point_review"]["disagreement"]
    feedback = final["feedback"]
    assert feedback["grade"] == "不合格" and feedback["grade_stored"]
    assert feedback["remedial_courses"], feedback
    assert all(point in c["points"] for c in feedback["remedial_courses"])
    new_task = feedback["new_practice_task"]
    assert (
        new_task is not None and new_task["item_id"] != task["id"] and point in new_task["points"]
    )

    # 4. the portfolio shows the round, the reviews and the result
    portfolio = api.get(f"/v1/teachers/{teacher}/portfolio?policy=jiangsu", headers=me)
    assert portfolio.status_code == 200, portfolio.text
    doc = portfolio.json()
    assert doc["results"] == {point: "不合格"}
    assert doc["rounds"][0]["review"]["items"][-1]["school_rating"] == "不合格"
    assert "failed_points" in doc["status"]["risks"] and doc["status"]["status"] == "at_risk"

    # 5. diagnosis and recommendations follow the rating at once: the failed point's mastery
    # drops, so its courses score higher than before and move up (or stay on top)
    assert _mastery(api, me, teacher, point) < mastery_before
    after = _recommended(api, me, teacher)
    assert _best_rank(after, point) <= _best_rank(before, point)
    old_scores = {i["item_id"]: i["score"] for i in before if point in i["points"]}
    new_scores = {i["item_id"]: i["score"] for i in after if point in i["points"]}
    common = old_scores.keys() & new_scores.keys()
    assert common and all(new_scores[item] > old_scores[item] for item in common)


def test_known_teacher_rating_is_folded_into_the_recommender(
    api: TestClient, keys: Keys, world: World
) -> None:
    from sqlalchemy import select

    from service.db.models import Teacher

    state = api.app.state.nengli  # type: ignore[attr-defined]
    recommender = state.registry.current.recommender
    with state.sessions() as session:
        ids = session.scalars(
            select(Teacher.teacher_id)
            .where(Teacher.school_id == world.school)
            .order_by(Teacher.teacher_id)
        ).all()
    teacher = next(t for t in ids if t != world.teacher and t.startswith("T0"))
    recommender.row_of(teacher)  # known to the model (trained on the simulated province)
    before = [r.item_id for r in recommender.recommend(teacher, k=10, kind="task")]
    task = state.catalog.get(before[0])
    point = max(task.points, key=task.points.get)
    body = submit(api, keys.header("school"), teacher, point=point, task_id=task.item_id)
    assert body.status_code == 201, body.text
    for item in body.json()["items"]:
        response = review(api, keys.header("school"), item["evidence_id"], "school", "优秀")
        assert response.status_code == 201, response.text
    assert response.json()["feedback"]["folded_in"] is True
    after = [r.item_id for r in recommender.recommend(teacher, k=10, kind="task")]
    assert task.item_id not in after
    # Another worker (its own app and model copy, no fold-in) drops the task too: the rated
    # task is stored as a completion, which every worker reads.
    from service.app import create_app

    with TestClient(create_app(state.settings)) as other_worker:
        listed = other_worker.get(
            f"/v1/teachers/{teacher}/recommendations?kind=task&k=10",
            headers=keys.header("school"),
        )
    assert listed.status_code == 200, listed.text
    assert task.item_id not in {item["item_id"] for item in listed.json()["data"]}
    assert other_worker.app.state.nengli.registry.current.recommender.revision == 0


def _rate_all(api: TestClient, headers: dict[str, str], body: dict[str, Any], rating: str) -> Any:
    for item in body["items"]:
        response = review(api, headers, item["evidence_id"], "school", rating)
        assert response.status_code == 201, response.text
    return response.json()


def test_resubmission_after_a_fail_replaces_the_result(
    api: TestClient, keys: Keys, world: World
) -> None:
    teacher = new_teacher(api, keys, world.school)
    school = keys.header("school")
    first = _rate_all(api, school, submit(api, school, teacher).json(), "不合格")
    assert first["feedback"]["grade"] == "不合格"
    second = _rate_all(api, school, submit(api, school, teacher).json(), "合格")
    assert second["feedback"]["grade"] == "合格" and second["feedback"]["remedial_courses"] == []
    doc = api.get(f"/v1/teachers/{teacher}/portfolio", headers=school).json()
    assert doc["results"] == {"A6": "合格"} and len(doc["rounds"]) == 2
    listed = api.get(EVIDENCE_PATH.format(teacher_id=teacher), headers=school).json()
    assert [s["review"]["school_result"] for s in listed["data"]] == ["不合格", "合格"]


def test_school_revision_is_kept_in_the_history(api: TestClient, keys: Keys, world: World) -> None:
    teacher = new_teacher(api, keys, world.school)
    school = keys.header("school")
    body = submit(api, school, teacher).json()
    _rate_all(api, school, body, "合格")
    evidence_id = body["items"][0]["evidence_id"]
    revised = review(api, school, evidence_id, "school", "优秀")
    assert revised.status_code == 201
    assert revised.json()["feedback"] is None  # 合格 + 优秀 items: the point stays 合格
    summary = api.get(f"/v1/evidence/{evidence_id}/reviews", headers=school).json()["summary"]
    assert [h["rating"] for h in summary["school_history"]] == ["合格", "优秀"]
    assert summary["school_rating"] == "优秀"


# ------------------------------------------------------------------ exports
@pytest.mark.parametrize(("fmt", "media"), [("html", "text/html"), ("xlsx", "application/vnd")])
def test_portfolio_exports(api: TestClient, keys: Keys, world: World, fmt: str, media: str) -> None:
    response = api.get(
        f"/v1/teachers/{world.teacher}/portfolio?format={fmt}", headers=keys.header("school")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)


def test_school_export_is_one_workbook(api: TestClient, keys: Keys, world: World) -> None:
    response = api.get(
        f"/v1/schools/{world.school}/assessment?format=xlsx", headers=keys.header("school")
    )
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    teachers = [row[0].value for row in book[book.sheetnames[0]].iter_rows(min_row=2)]
    assert world.teacher in teachers and len(teachers) == len(set(teachers))
