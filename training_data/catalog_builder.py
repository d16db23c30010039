"""Generate the shipped sample catalog from the topic templates, deterministically.

Why generate rather than hand-write 720 rows: the templates carry the domain judgement (which
technique develops which point), while stage/subject pairing, 学时 and ids follow simple, stated
rules that would be error-prone to type. The output is committed as
``competency_model/data/catalog.json``; a test rebuilds it and checks the file is unchanged, so the
data in the repository is always reproducible from this module and its seed.

Per point the builder emits 11 online courses (5 topics × {学科通用, one stage+subject} + one
live case-review session) and 4 practice tasks (3 classroom practice tasks + 1 教研组
school-based research task) — 330 courses and 120 tasks, ``CRS-0001…0330`` / ``TSK-0001…0120``
for the national framework. Then, so that three points can fill a plan (Jiangsu: ≥25 practice
and ≥25 video 学时 of 50) as real schools' plans do, every point gets 4 point-generic video
courses and 5 point-generic practice/research tasks for all stages and subjects, numbered after
the topic-based items (``CRS-0331…``, ``TSK-0121…``) and drawn from a second random stream, so
the earlier ids and rows never move when this part changes. Last, from a third stream, every point
gets one item of each regional practice kind (a teacher's own 在线教学资源制作与在线教学, Jiangsu
§三(六); 集中培训 and 应用考核, Chongqing §一(一)): activities a school records and the hour rules of
those regions count, numbered after every other task. No item is longer than the smallest
``max_weekly_hours`` of the shipped policies: a plan puts one item in one week.

Usage::

    python -m training_data.catalog_builder            # rewrite the shipped catalog
    python -m training_data.catalog_builder --check    # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from competency_model.catalog import CATALOG_PATH, GENERAL_SUBJECT, STAGES, SUBJECTS_BY_STAGE
from competency_model.framework import Framework, default_framework
from competency_model.policy import available_policies, load_policy
from training_data.catalog_templates import (
    COURSE_TOPICS,
    GENERAL_COURSE_FORMATS,
    GENERAL_TASK_FORMATS,
    RESEARCH_FORMATS,
    SUBJECT_FAMILIES,
    TASK_TOPICS,
)

__all__ = ["DEFAULT_SEED", "build_catalog", "catalog_json", "main", "max_item_hours"]

DEFAULT_SEED = 20200414  # date of 苏教师〔2020〕5号; any fixed value would do
CATALOG_VERSION = "2026.3"  # 2026.3: regional practice kinds; 2026.2: point-generic items
_ENV_ORDER = ("multimedia", "blended", "smart")
#: How often a stage-specific item targets each stage (primary and junior teachers dominate).
_STAGE_WEIGHTS = {"幼儿园": 0.05, "小学": 0.40, "初中": 0.28, "高中": 0.18, "中职": 0.09}
_LEVELS = ("入门", "进阶", "高阶")
#: (min, max) 学时 per level; online courses 1–4 h, live 1.5–3 h, practice 2–6 h, research 4–6 h.
#: Nothing exceeds 6 h: every shipped policy caps a week at 6 h and an item sits in one week.
_ONLINE_HOURS = {"入门": (1.0, 2.0), "进阶": (2.0, 3.0), "高阶": (3.0, 4.0)}
_PRACTICE_HOURS = {"入门": (2.0, 4.0), "进阶": (3.0, 6.0), "高阶": (4.0, 6.0)}
_LIVE_HOURS = (1.5, 3.0)
_RESEARCH_HOURS = (4.0, 6.0)
#: The regional practice kinds (see competency_model.catalog.REGIONAL_PRACTICE_KINDS): title and
#: 学时 range. Each leaves the point's own evidence, the artefacts its assessment asks for.
_REGIONAL_FORMATS: tuple[tuple[str, str, tuple[float, float]], ...] = (
    ("online_production", "【在线教学】制作并实施「{name}」在线教学资源", (3.0, 6.0)),
    ("centralized_training", "【集中培训】「{name}」专题集中培训", (4.0, 6.0)),
    ("application_assessment", "【应用考核】「{name}」应用考核", (2.0, 4.0)),
)


def _parse_topic(topic: str) -> tuple[str, str | None, str | None]:
    """Split ``"text|B8@sci"`` into (text, secondary point, subject family)."""
    family = None
    if "@" in topic:
        topic, family = topic.split("@", 1)
    secondary = None
    if "|" in topic:
        topic, secondary = topic.split("|", 1)
    return topic, secondary, family


def _hours(rng: np.random.Generator, low: float, high: float) -> float:
    """A half-hour multiple in [low, high] — platforms credit 学时 in halves."""
    steps = int(round((high - low) * 2))
    return low + 0.5 * int(rng.integers(0, steps + 1))


def _specific_stages(environment: str) -> list[str]:
    # Kindergartens mostly have multimedia rooms at best, so stage-specific B/C items are
    # never written for 幼儿园 (its teachers still get the 学科通用 ones).
    return list(STAGES) if environment == "multimedia" else [s for s in STAGES if s != "幼儿园"]


def _stage_subject(
    rng: np.random.Generator, environment: str, family: str | None
) -> tuple[str, str]:
    stages = [s for s in _STAGE_WEIGHTS if s in _specific_stages(environment)]
    if family is not None:
        stages = [s for s in stages if SUBJECT_FAMILIES[family] & set(SUBJECTS_BY_STAGE[s])]
    weights = np.array([_STAGE_WEIGHTS[s] for s in stages])
    stage = stages[int(rng.choice(len(stages), p=weights / weights.sum()))]
    subjects = list(SUBJECTS_BY_STAGE[stage])
    if family is not None:
        subjects = [s for s in subjects if s in SUBJECT_FAMILIES[family]]
    return stage, subjects[int(rng.integers(0, len(subjects)))]


def _audience(stage: str, subject: str) -> str:
    return stage if subject == GENERAL_SUBJECT else f"{stage}{subject}"


def _richest(framework: Framework, codes: list[str]) -> str:
    return max((framework.point(c).environment for c in codes), key=_ENV_ORDER.index)


def _point_courses(
    framework: Framework, code: str, rng: np.random.Generator
) -> list[dict[str, Any]]:
    point = framework.point(code)
    items: list[dict[str, Any]] = []
    for index, topic in enumerate(COURSE_TOPICS[code]):
        text, secondary, family = _parse_topic(topic)
        points = {code: 0.7, secondary: 0.3} if secondary else {code: 1.0}
        environment = _richest(framework, list(points))
        level = _LEVELS[min(index // 2, 2)]
        general_stages = list(STAGES)  # 学科通用 items serve every stage
        if family is None:
            items.append(
                {
                    "title_zh": f"{text}（学科通用）",
                    "points": points,
                    "kind": "online_video",
                    "stages": general_stages,
                    "subjects": [GENERAL_SUBJECT],
                    "environment": environment,
                    "level": level,
                    "hours": _hours(rng, *_ONLINE_HOURS[level]),
                }
            )
        stage, subject = _stage_subject(rng, environment, family)
        specific_level = _LEVELS[min(_LEVELS.index(level) + int(rng.random() < 0.4), 2)]
        items.append(
            {
                "title_zh": f"{_audience(stage, subject)}：{text}",
                "points": points,
                "kind": "live" if rng.random() < 0.12 else "online_video",
                "stages": [stage],
                "subjects": [subject],
                "environment": environment,
                "level": specific_level,
                "hours": _hours(rng, *_ONLINE_HOURS[specific_level]),
            }
        )
        if family is not None:
            # Subject-bound topics get a second subject-specific course instead of a general one.
            stage2, subject2 = _stage_subject(rng, environment, family)
            if (stage2, subject2) == (stage, subject):
                stage2 = "高中" if stage != "高中" else "初中"
                subject2 = next(
                    s for s in SUBJECTS_BY_STAGE[stage2] if s in SUBJECT_FAMILIES[family]
                )
            items.append(
                {
                    "title_zh": f"{_audience(stage2, subject2)}：{text}",
                    "points": points,
                    "kind": "online_video",
                    "stages": [stage2],
                    "subjects": [subject2],
                    "environment": environment,
                    "level": level,
                    "hours": _hours(rng, *_ONLINE_HOURS[level]),
                }
            )
    items.append(
        {
            "title_zh": f"名师直播｜{code}{point.name_zh}：典型案例点评与答疑",
            "points": {code: 1.0},
            "kind": "live",
            "stages": list(STAGES),
            "subjects": [GENERAL_SUBJECT],
            "environment": point.environment,
            "level": "进阶",
            "hours": _hours(rng, *_LIVE_HOURS),
        }
    )
    return items


def _point_tasks(
    framework: Framework, code: str, rng: np.random.Generator, ordinal: int
) -> list[dict[str, Any]]:
    point = framework.point(code)
    artifacts = [artifact.name_zh for artifact in point.artifacts]
    items: list[dict[str, Any]] = []
    for index, topic in enumerate(TASK_TOPICS[code]):
        text, _, family = _parse_topic(topic)
        level = _LEVELS[index]
        if index == 0:
            title, stages, subjects = (
                f"【实践】{text}（学科通用）",
                list(STAGES),
                [GENERAL_SUBJECT],
            )
        else:
            stage, subject = _stage_subject(rng, point.environment, family)
            title, stages, subjects = (
                f"【实践】{_audience(stage, subject)}：{text}",
                [stage],
                [subject],
            )
        items.append(
            {
                "title_zh": title,
                "points": {code: 1.0},
                "kind": "practice",
                "stages": stages,
                "subjects": subjects,
                "environment": point.environment,
                "level": level,
                "hours": _hours(rng, *_PRACTICE_HOURS[level]),
                "artifacts": artifacts,
            }
        )
    stage, subject = _stage_subject(rng, point.environment, None)
    group = "幼儿园教研组" if stage == "幼儿园" else f"{stage}{subject}组"
    research = RESEARCH_FORMATS[ordinal % len(RESEARCH_FORMATS)].format(
        name=f"{code}{point.name_zh}"
    )
    items.append(
        {
            "title_zh": f"【校本研修】{group}：{research}",
            "points": {code: 1.0},
            "kind": "school_research",
            "stages": [stage],
            "subjects": [subject],
            "environment": point.environment,
            "level": "进阶",
            "hours": _hours(rng, *_RESEARCH_HOURS),
            "artifacts": artifacts,
        }
    )
    return items


def _evidence(artifacts: list[str], which: str) -> list[str]:
    """The slice of a point's artifacts a generic task yields (see GENERAL_TASK_FORMATS)."""
    if which == "design" or (which == "process" and len(artifacts) < 2):
        return artifacts[:1]
    return artifacts[1:] if which == "process" else list(artifacts)


def _general_point_courses(
    framework: Framework, code: str, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """The point-generic video courses: every stage, 学科通用, the point's own environment."""
    point = framework.point(code)
    return [
        {
            "title_zh": title.format(name=f"{code}{point.name_zh}") + "（学科通用）",
            "points": {code: 1.0},
            "kind": "online_video",
            "stages": list(STAGES),
            "subjects": [GENERAL_SUBJECT],
            "environment": point.environment,
            "level": level,
            "hours": _hours(rng, *_ONLINE_HOURS[level]),
        }
        for level, title in GENERAL_COURSE_FORMATS
    ]


def _general_point_tasks(
    framework: Framework, code: str, rng: np.random.Generator, ordinal: int
) -> list[dict[str, Any]]:
    """Five point-generic tasks: 课堂实践, 考核准备, one rotating practice, two research."""
    point = framework.point(code)
    artifacts = [artifact.name_zh for artifact in point.artifacts]
    practice = [f for f in GENERAL_TASK_FORMATS if f[0] == "practice"]
    research = [f for f in GENERAL_TASK_FORMATS if f[0] == "school_research"]
    chosen = [
        *practice[:2],
        practice[2 + ordinal % (len(practice) - 2)],
        research[ordinal % len(research)],
        research[(ordinal + 1) % len(research)],
    ]
    items = []
    for kind, level, which, title in chosen:
        low, high = _RESEARCH_HOURS if kind == "school_research" else _PRACTICE_HOURS[level]
        items.append(
            {
                "title_zh": title.format(name=f"{code}{point.name_zh}") + "（学科通用）",
                "points": {code: 1.0},
                "kind": kind,
                "stages": list(STAGES),
                "subjects": [GENERAL_SUBJECT],
                "environment": point.environment,
                "level": level,
                "hours": _hours(rng, low, high),
                "artifacts": _evidence(artifacts, which),
            }
        )
    return items


def _regional_point_tasks(
    framework: Framework, code: str, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """One item per regional practice kind: every stage, 学科通用, the point's own environment."""
    point = framework.point(code)
    own_evidence = [artifact.name_zh for artifact in point.artifacts]
    return [
        {
            "title_zh": title.format(name=f"{code}{point.name_zh}") + "（学科通用）",
            "points": {code: 1.0},
            "kind": kind,
            "stages": list(STAGES),
            "subjects": [GENERAL_SUBJECT],
            "environment": point.environment,
            "level": "进阶",
            "hours": _hours(rng, *hours),
            "artifacts": own_evidence,
        }
        for kind, title, hours in _REGIONAL_FORMATS
    ]


def max_item_hours() -> float:
    """The longest item any shipped policy can schedule: the smallest ``max_weekly_hours``."""
    return min(load_policy(name).max_weekly_hours for name in available_policies())


def build_catalog(seed: int = DEFAULT_SEED, framework: Framework | None = None) -> dict[str, Any]:
    """Build the catalog document (``{"name", "version", "seed", "items"}``) for ``seed``.

    Raises
    ------
    ValueError
        If a point of the framework has no templates, two items would share a title, or an
        item is longer than :func:`max_item_hours` (no policy could put it in a week).
    """
    framework = framework or default_framework()
    rng = np.random.default_rng(seed)
    courses: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for ordinal, code in enumerate(framework.codes):
        if code not in COURSE_TOPICS or code not in TASK_TOPICS:
            raise ValueError(
                f"no catalog templates for point {code}; add them to "
                "training_data/catalog_templates.py"
            )
        courses += _point_courses(framework, code, rng)
        tasks += _point_tasks(framework, code, rng, ordinal)
    # a second stream: the point-generic items never shift the topic-based rows above
    general_rng = np.random.default_rng([seed, 1])
    for ordinal, code in enumerate(framework.codes):
        courses += _general_point_courses(framework, code, general_rng)
        tasks += _general_point_tasks(framework, code, general_rng, ordinal)
    # a third stream, numbered after every other task: the regional practice kinds
    regional_rng = np.random.default_rng([seed, 2])
    for code in framework.codes:
        tasks += _regional_point_tasks(framework, code, regional_rng)
    items = []
    for prefix, group in (("CRS", courses), ("TSK", tasks)):
        for number, item in enumerate(group, start=1):
            item.setdefault("artifacts", [])
            items.append({"item_id": f"{prefix}-{number:04d}", **item})
    titles = [item["title_zh"] for item in items]
    duplicates = sorted({t for t in titles if titles.count(t) > 1})
    if duplicates:
        raise ValueError(f"duplicate catalog titles: {duplicates}")
    limit = max_item_hours()
    too_long = [item["item_id"] for item in items if item["hours"] > limit]
    if too_long:
        raise ValueError(
            f"items {too_long} last more than {limit:g} h, the smallest max_weekly_hours of the "
            "shipped policies; lower the hour ranges in training_data/catalog_builder.py"
        )
    return {
        "name": "nengli sample catalog",
        "version": CATALOG_VERSION,
        "seed": seed,
        "items": items,
    }


def catalog_json(seed: int = DEFAULT_SEED, framework: Framework | None = None) -> str:
    """The catalog serialised exactly as it is committed (stable key order, UTF-8 text)."""
    document = build_catalog(seed, framework)
    lines = [
        json.dumps({k: v for k, v in document.items() if k != "items"}, ensure_ascii=False)[:-1]
        + ', "items": ['
    ]
    rows = [json.dumps(item, ensure_ascii=False) for item in document["items"]]
    return "\n".join(lines + [",\n".join(rows), "]}"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the shipped catalog file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CATALOG_PATH)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = catalog_json(args.seed)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is stale; run python -m training_data.catalog_builder")
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(json.loads(text)['items'])} items to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
