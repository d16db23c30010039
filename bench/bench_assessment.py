"""Benchmark the school-based assessment domain logic at school scale; prints one JSON document.

* ``peer_assignment``: :func:`assign_peers` for one school where every teacher submits evidence
  for three points (time, load spread, share of reviews kept inside the 教研组);
* ``portfolios``: :func:`build_portfolio` for every teacher of the school (three assessed points
  with self, two peer and school reviews each, plus completed courses) and the one-file school
  exports (JSON, HTML, XLSX) with their sizes.

Usage::

    python -m bench.bench_assessment --small            # about a second
    nice -n 10 python -m bench.bench_assessment --teachers 300
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from datetime import UTC, date, datetime, timedelta

from competency_model import default_framework, load_policy
from competency_model.assessment import (
    Colleague,
    EvidenceRecord,
    Review,
    TeacherProfile,
    assign_peers,
    build_portfolio,
    school_export,
)
from competency_model.catalog import default_catalog

POINTS = ("A1", "A6", "B6")
GROUPS = ("语文组", "数学组", "英语组", "科学组", "艺体组", "综合组")


def _school(n_teachers: int, seed: int) -> list[Colleague]:
    rng = random.Random(seed)
    return [
        Colleague(teacher_id=f"T{i:05d}", school_id="S1", research_group=rng.choice(GROUPS))
        for i in range(n_teachers)
    ]


def bench_peer_assignment(n_teachers: int, seed: int) -> dict[str, object]:
    """Assign two peers to each of ``3 × n_teachers`` submissions of one school."""
    team = _school(n_teachers, seed)
    submissions = {f"{c.teacher_id}-{p}": c.teacher_id for c in team for p in POINTS}
    start = time.perf_counter()
    result = assign_peers(submissions, team, reviewers_per_submission=2, seed=seed)
    seconds = time.perf_counter() - start
    loads = list(result.load.values())
    total = 2 * len(submissions)
    return {
        "teachers": n_teachers,
        "submissions": len(submissions),
        "seconds": round(seconds, 3),
        "load_min": min(loads),
        "load_max": max(loads),
        "within_group_share": round(1 - result.cross_group / total, 4),
    }


def _records(team: list[Colleague], at: datetime) -> tuple[list[EvidenceRecord], list[Review]]:
    fw = default_framework()
    evidence: list[EvidenceRecord] = []
    reviews: list[Review] = []
    rng = random.Random(1)
    for c in team:
        for point in POINTS:
            sub = f"{c.teacher_id}-{point}"
            for n, artifact in enumerate(fw.point(point).artifacts):
                eid = f"{sub}-{n}"
                video = artifact.max_minutes is not None
                evidence.append(
                    EvidenceRecord(
                        evidence_id=eid,
                        submission_id=sub,
                        teacher_id=c.teacher_id,
                        point=point,
                        submitted_at=at,
                        artifact=artifact.name_zh,
                        title=artifact.name_zh,
                        media="video" if video else "document",
                        duration_minutes=8 if video else None,
                        file_ref=f"f/{eid}",
                        lesson="课题",
                        class_name="一班",
                    )
                )
                for role, who in (
                    ("self", c.teacher_id),
                    ("peer", "P1"),
                    ("peer", "P2"),
                    ("school", "school"),
                ):
                    reviews.append(
                        Review(
                            evidence_id=eid,
                            reviewer_id=who,
                            role=role,  # type: ignore[arg-type]
                            rating=rng.choice(["优秀", "合格", "合格", "不合格"]),  # type: ignore[arg-type]
                            comment="评语",
                            created_at=at + timedelta(hours=1),
                        )
                    )
    return evidence, reviews


def bench_portfolios(n_teachers: int, seed: int) -> dict[str, object]:
    """Build every portfolio of a school and export the school in each format."""
    team = _school(n_teachers, seed)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    fw = default_framework()
    policy = load_policy("jiangsu")
    catalog = {i.item_id: i for i in default_catalog().items}
    evidence, reviews = _records(team, at)
    courses = [i.item_id for i in default_catalog().courses[:8]]
    by_teacher: dict[str, list[EvidenceRecord]] = {}
    for record in evidence:
        by_teacher.setdefault(record.teacher_id, []).append(record)
    review_of: dict[str, list[Review]] = {}
    owner = {r.evidence_id: r.teacher_id for r in evidence}
    for review in reviews:
        review_of.setdefault(owner[review.evidence_id], []).append(review)
    start = time.perf_counter()
    portfolios = [
        build_portfolio(
            TeacherProfile(
                teacher_id=c.teacher_id, school_id="S1", research_group=c.research_group
            ),
            policy=policy,
            framework=fw,
            catalog=catalog,
            cycle_start=date(2025, 9, 1),
            as_of=at + timedelta(days=1),
            chosen_points=list(POINTS),
            events=[
                {"teacher_id": c.teacher_id, "item_id": i, "event": "complete", "timestamp": at}
                for i in courses
            ],
            evidence=by_teacher[c.teacher_id],
            reviews=review_of[c.teacher_id],
        )
        for c in team
    ]
    build_seconds = time.perf_counter() - start
    exports = {}
    for fmt in ("json", "html", "xlsx"):
        start = time.perf_counter()
        data = school_export(portfolios, "S1", fmt)  # type: ignore[arg-type]
        exports[fmt] = {"seconds": round(time.perf_counter() - start, 3), "bytes": len(data)}
    return {
        "teachers": n_teachers,
        "evidence_items": len(evidence),
        "reviews": len(reviews),
        "build_seconds": round(build_seconds, 3),
        "exports": exports,
    }


def main() -> None:
    """Parse arguments, run both benchmarks, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=300, help="teachers of the school")
    parser.add_argument("--small", action="store_true", help="30 teachers (seconds)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = 30 if args.small else args.teachers
    print(
        json.dumps(
            {
                "benchmark": "assessment",
                "python": platform.python_version(),
                "date": datetime.now(UTC).strftime("%Y-%m-%d"),
                "peer_assignment": bench_peer_assignment(n, args.seed),
                "portfolios": bench_portfolios(n, args.seed),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
