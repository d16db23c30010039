"""``nengli diagnose TEACHER_ID``: one teacher's 30-point diagnosis from the trained model.

The mastery comes only from the model directory written by ``nengli train`` (``diagnosis.npz``,
every file's sha256 verified), through the same :func:`service.cli._common.diagnose_teachers`
that ``nengli path`` uses. Unlike ``nengli path`` this command never fits a model on the fly: a
diagnosis shown to a teacher must come from the parameters the service would also use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from competency_model.errors import NengliError, NotFoundError
from service.cli.progress import QuietOption, cli_progress

if TYPE_CHECKING:
    import pandas as pd

    from competency_model.framework import Framework

__all__ = ["diagnosis_table_rows", "register"]


def diagnosis_table_rows(diagnosis: pd.DataFrame, framework: Framework) -> list[dict[str, Any]]:
    """One JSON-ready row per point: framework labels joined to the teacher's diagnosis.

    Parameters
    ----------
    diagnosis
        Long diagnosis frame of one teacher (``DiagnosisModel.diagnose`` output).
    framework
        The framework the model was trained with; gives names, environment and dimension.
    """
    from service.cli.framework_cmd import point_rows
    from service.usecases.teacher_models import diagnosis_rows

    labels = {row["code"]: row for row in point_rows(framework)}
    rows = []
    for estimate in diagnosis_rows(diagnosis):
        code = estimate.pop("point")
        point = labels[code]
        rows.append(
            {
                "code": code,
                "name": framework.point(code).display_name_zh,
                "name_en": point["name_en"],
                "verification": point["verification"],
                "environment": point["environment"],
                "environment_letter": point["environment_letter"],
                "dimension": point["dimension"],
                "dimension_zh": point["dimension_zh"],
                **estimate,
            }
        )
    return rows


def _width(text: str) -> int:
    # CJK characters take two terminal columns
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["code", "name", "env", "dimension", "mastery", "sd", "evidence", "note"]
    body = [
        [
            row["code"],
            row["name"],
            row["environment"],
            row["dimension_zh"],
            f"{row['mastery_probability']:.3f}",
            f"{row['sd']:.3f}",
            str(row["evidence_count"]),
            "证据不足/insufficient" if row["insufficient_evidence"] else "",
        ]
        for row in rows
    ]
    widths = [max(_width(v) for v in column) for column in zip(header, *body, strict=True)]
    lines = []
    for values in [header, *body]:
        cells = [v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _all_teachers(province: Any, model_dir: Path, out: Path, quiet: bool) -> None:
    """``--all-teachers``: every teacher × point as Parquet, with a progress bar."""
    from recommender.bundle import load_bundle
    from recommender.outputs import write_mastery

    total = len(province.teachers)
    with cli_progress(quiet) as progress:
        progress.stage("载入模型 loading the model")
        bundle = load_bundle(model_dir)
        progress.stage("诊断 diagnosing every teacher", total=total)
        rows = write_mastery(bundle.diagnosis, province, out, progress=progress.advance)
    typer.echo(f"{rows} rows for {total} teachers -> {out}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli diagnose`` to the CLI."""

    @app.command("diagnose")
    def diagnose(
        teacher_id: Annotated[
            str | None, typer.Argument(help="Teacher id, e.g. T0000001 (or --all-teachers).")
        ] = None,
        data: Annotated[Path | None, typer.Option("--data", help="Province directory.")] = None,
        model: Annotated[
            Path | None, typer.Option("--model", help="Trained model directory (nengli train).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print JSON instead of a table.")
        ] = False,
        all_teachers: Annotated[
            bool,
            typer.Option("--all-teachers", help="Every teacher of --data, to --out (Parquet)."),
        ] = False,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="With --all-teachers: teacher_id, point, mastery_probability, sd, "
                "evidence_count.",
            ),
        ] = None,
        quiet: QuietOption = False,
    ) -> None:
        """Show a teacher's mastery probability, uncertainty and evidence for every point."""
        from service.cli._common import (
            diagnose_teachers,
            load_province_and_model,
            require_model_dir,
        )

        if not all_teachers and teacher_id is None:
            raise NengliError(
                "请给出教师编号或 --all-teachers / give a TEACHER_ID or --all-teachers --out FILE"
            )
        if all_teachers and out is None:
            raise NengliError(
                "--all-teachers 需要 --out FILE.parquet / --all-teachers needs --out FILE.parquet"
            )
        province, model_dir, framework, catalog = load_province_and_model(data, model)
        model_dir = require_model_dir(model_dir)
        if all_teachers:
            assert out is not None
            _all_teachers(province, model_dir, out, quiet or as_json)
            return
        assert teacher_id is not None
        known = province.teachers["teacher_id"].astype(str)
        if not (known == teacher_id).any():
            raise NotFoundError(
                f"teacher {teacher_id!r} is not in the teachers table of {data or 'the data dir'}"
                f" ({len(known)} teachers, e.g. {known.iloc[0] if len(known) else 'none'})",
                details={"teacher_id": teacher_id},
            )
        diagnosis, source = diagnose_teachers(province, [teacher_id], model_dir, framework, catalog)
        rows = diagnosis_table_rows(diagnosis, framework)
        if as_json:
            payload = {"teacher_id": teacher_id, "source": source, "points": rows}
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        typer.echo(f"教师 {teacher_id}  (mastery: {source})")
        typer.echo(_table(rows))
        insufficient = sum(row["insufficient_evidence"] for row in rows)
        typer.echo(
            f"\n{len(rows)} points; {insufficient} with insufficient evidence. "
            "Names marked （未核实） were not confirmed by a public source, （弱核实） only weakly."
        )
