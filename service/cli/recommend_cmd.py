"""``nengli recommend TEACHER_ID``: top courses or practice tasks with the reasons behind them.

The list comes from the hybrid recommender in the model directory (:func:`load_recommender`,
sha256-verified). The province directory is read for two things the model cannot know: whether
the teacher exists at all (a clear error instead of "not in this model") and which items the
teacher completed after training, which are excluded at once as the service does. A teacher added
after training is ranked like the API's cold start: from their profile and a diagnosis of their
answers (or, with ``--no-personalized``, their school's non-personalised list).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from competency_model.errors import NengliError, NotFoundError
from service.cli.progress import QuietOption, cli_progress

if TYPE_CHECKING:
    from competency_model.catalog import Kind as CatalogKind

__all__ = ["Kind", "Language", "register"]


class Kind(StrEnum):
    """What to recommend: online courses, practice tasks, or both in one ranking."""

    course = "course"
    task = "task"
    all = "all"


class Language(StrEnum):
    """Language of the printed reasons."""

    zh = "zh"
    en = "en"


def _all_teachers(model: Path | None, out: Path | None, kind: str, k: int, quiet: bool) -> None:
    """``--all-teachers``: every known teacher's top ``k`` as Parquet, with a progress bar."""
    from recommender.bundle import load_recommender
    from recommender.outputs import write_recommendations
    from recommender.ranking.filters import ListKind
    from service.cli._common import require_model_dir
    from service.settings import get_settings

    if out is None:
        raise NengliError(
            "--all-teachers 需要 --out FILE.parquet / --all-teachers needs --out FILE.parquet"
        )
    with cli_progress(quiet) as progress:
        progress.stage("载入模型 loading the model")
        recommender = load_recommender(require_model_dir(model or get_settings().model_dir))
        total = len(recommender.teachers_.teacher_ids)
        progress.stage("推荐 ranking every teacher", total=total)
        rows = write_recommendations(
            recommender, out, cast(ListKind, kind), k, progress=progress.advance
        )
    typer.echo(f"{rows} rows for {total} teachers ({kind}, k={k}) -> {out}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli recommend`` to the CLI."""

    @app.command("recommend")
    def recommend(
        teacher_id: Annotated[
            str | None, typer.Argument(help="Teacher id, e.g. T0000001 (or --all-teachers).")
        ] = None,
        data: Annotated[Path | None, typer.Option("--data", help="Province directory.")] = None,
        model: Annotated[
            Path | None, typer.Option("--model", help="Trained model directory (nengli train).")
        ] = None,
        kind: Annotated[Kind, typer.Option("--kind", help="course or task.")] = Kind.course,
        k: Annotated[int, typer.Option("--k", min=1, help="How many items.")] = 10,
        personalized: Annotated[
            bool,
            typer.Option(
                "--personalized/--no-personalized",
                help="--no-personalized: policy, environment and popularity only.",
            ),
        ] = True,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        lang: Annotated[
            Language, typer.Option("--lang", help="Language of the reasons: zh or en.")
        ] = Language.zh,
        all_teachers: Annotated[
            bool,
            typer.Option("--all-teachers", help="Every teacher of the model, to --out (Parquet)."),
        ] = False,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="With --all-teachers: teacher_id, item_id, rank, score."),
        ] = None,
        quiet: QuietOption = False,
    ) -> None:
        """Recommend courses or practice tasks for a teacher, each with its reasons."""
        from recommender.bundle import load_recommender
        from recommender.ranking import TeacherProfile
        from service.cli._common import (
            diagnose_teachers,
            load_province_and_model,
            require_model_dir,
        )
        from service.db.stores.records import completed_items, completion_events
        from service.usecases.recommendations import (
            Serving,
            knows,
            recommend_known,
            recommend_unknown,
        )
        from service.usecases.teacher_models import mastery_of

        if all_teachers:
            _all_teachers(model, out, kind.value, k, quiet or as_json)
            return
        if teacher_id is None:
            raise NengliError(
                "请给出教师编号或 --all-teachers / give a TEACHER_ID or --all-teachers --out FILE"
            )
        province, model_dir, framework, catalog = load_province_and_model(data, model)
        teachers = province.teachers["teacher_id"].astype(str)
        if not (teachers == teacher_id).any():
            raise NotFoundError(
                f"teacher {teacher_id!r} is not in the teachers table of {data or 'the data dir'}"
                f" ({len(teachers)} teachers, e.g. {teachers.iloc[0] if len(teachers) else 'none'})",
                details={"teacher_id": teacher_id},
            )
        recommender = load_recommender(require_model_dir(model_dir))
        completed = completed_items(completion_events(province.events, teacher_id)["item_id"])
        decision = knows(recommender, teacher_id, personalized)
        cold_start = decision.cold_start
        if decision.mode is Serving.KNOWN:
            # the use cases pass the kind straight to the recommender, which also ranks "all"
            items = recommend_known(
                recommender, decision, cast("CatalogKind", kind.value), k, personalized, completed
            )
        else:  # added after training: rank from the profile and a fresh diagnosis, as the API does
            row = province.teachers.loc[teachers == teacher_id].iloc[0]
            mastery = None
            if decision.mode is Serving.COLD_START:
                diagnosis, _ = diagnose_teachers(
                    province, [teacher_id], model_dir, framework, catalog
                )
                mastery = mastery_of(diagnosis)
            profile = TeacherProfile(
                school_id=str(row["school_id"]),
                stage=str(row["stage"]),
                subject=str(row["subject"]),
                research_group=str(row.get("research_group") or ""),
            )
            items = recommend_unknown(
                recommender,
                decision,
                profile,
                completed,
                cast("CatalogKind", kind.value),
                k,
                mastery,
            )
        if as_json:
            payload = {
                "teacher_id": teacher_id,
                "kind": kind.value,
                "personalized": personalized,
                "model_version": recommender.model_version,
                "cold_start": cold_start,
                "items": [item.model_dump(mode="json") for item in items],
            }
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        mode = "个性化" if personalized else "非个性化（政策+环境+热度）"
        if cold_start:
            mode += "，新教师（模型训练后加入：按档案与诊断推荐）"
        typer.echo(f"教师 {teacher_id}  {kind.value}  {mode}  model {recommender.model_version}")
        for rank, item in enumerate(items, start=1):
            points = ",".join(item.points)
            typer.echo(
                f"{rank:>2}. {item.item_id}  {item.title_zh}  {item.hours:g}h  "
                f"[{points}]  score {item.score:.3f}"
            )
            reasons = item.reasons_zh if lang is Language.zh else item.reasons_en
            for reason in reasons:
                typer.echo(f"      - {reason}")
        if not items:
            typer.echo("(no eligible items: all filtered by policy, environment or history)")
