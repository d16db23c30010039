"""``nengli framework …``: validate, show and export the competency framework.

The framework shown is the one the service uses: ``NENGLI_FRAMEWORK_FILE`` if set (a full
framework or an overlay), else the shipped national framework; ``--file`` overrides both.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from competency_model.framework import Framework

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file", help="Framework or overlay file (default: NENGLI_FRAMEWORK_FILE or national)."
    ),
]


class GraphFormat(StrEnum):
    """Export formats of ``nengli framework graph``."""

    dot = "dot"
    json = "json"


def resolve_framework(file: Path | None = None) -> Framework:
    """The framework for a CLI call: ``--file``, else settings, else the national framework."""
    from competency_model.framework_files import active_framework, load_framework
    from service.settings import get_settings

    return load_framework(file) if file else active_framework(get_settings().framework_file)


def point_rows(framework: Framework) -> list[dict[str, Any]]:
    """One JSON-ready row per point, with the verification status spelled out."""
    from competency_model.framework import (
        DIMENSION_LABELS_ZH,
        ENVIRONMENT_LETTERS,
        VERIFICATION_LABELS,
    )

    return [
        {
            "code": p.code,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
            "environment": p.environment,
            "environment_letter": ENVIRONMENT_LETTERS[p.environment],
            "dimension": p.dimension,
            "dimension_zh": DIMENSION_LABELS_ZH[p.dimension],
            "verification": p.verification.status,
            "verification_label": VERIFICATION_LABELS[p.verification.status],
            "sources": p.verification.sources,
        }
        for p in framework.points
    ]


def summary(framework: Framework) -> dict[str, Any]:
    """Counts per environment, dimension, verification status and edge kind."""
    return {
        "name": framework.name,
        "version": framework.version,
        "point_count": len(framework.points),
        "environments": dict(Counter(p.environment for p in framework.points)),
        "dimensions": dict(Counter(p.dimension for p in framework.points)),
        "verification": dict(Counter(p.verification.status for p in framework.points)),
        "edges": dict(Counter(e.kind for e in framework.edges)),
        "overlays": framework.overlays,
        "retired": framework.retired,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    def width(text: str) -> int:  # CJK characters take two terminal columns
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    columns = [
        ("code", "code"),
        ("name", "name_zh"),
        ("env", "environment"),
        ("dimension", "dimension_zh"),
        ("status", "verification_label"),
    ]
    widths = [max(width(h), *(width(str(r[k])) for r in rows)) for h, k in columns]
    lines = []
    for values in [[h for h, _ in columns]] + [[str(r[k]) for _, k in columns] for r in rows]:
        cells = [v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``framework`` command group."""
    group = typer.Typer(
        help="The competency framework: validate, show, export.", no_args_is_help=True
    )
    app.add_typer(group, name="framework")

    @group.command("validate")
    def validate(
        file: Annotated[Path, typer.Argument(help="Framework or overlay JSON file.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Check a framework or overlay file; exit 2 with the offending entry if it is invalid."""
        from competency_model.framework_files import load_framework

        info = summary(load_framework(file))
        if as_json:
            typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
            return
        typer.echo(
            f"OK {info['name']} {info['version']}: {info['point_count']} points "
            f"{info['environments']}, edges {info['edges']}, verification {info['verification']}"
        )

    @group.command("show")
    def show(
        as_json: Annotated[
            bool, typer.Option("--json", help="Print JSON instead of a table.")
        ] = False,
        file: FileOption = None,
    ) -> None:
        """List the points: code, name, environment, dimension, verification status."""
        framework = resolve_framework(file)
        rows = point_rows(framework)
        if as_json:
            payload = {**summary(framework), "points": rows}
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        typer.echo(_table(rows))
        info = summary(framework)
        typer.echo(
            f"\n{info['point_count']} points; verification {info['verification']}. "
            "Names marked 未核实/unverified were not confirmed by a public source."
        )

    @group.command("graph")
    def graph(
        fmt: Annotated[
            GraphFormat, typer.Option("--format", help="dot or json.")
        ] = GraphFormat.dot,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write to a file.")
        ] = None,
        file: FileOption = None,
    ) -> None:
        """Export the competency graph (points + typed edges with rationale)."""
        from competency_model.graph import CompetencyGraph

        g = CompetencyGraph(resolve_framework(file))
        text = (
            g.to_dot()
            if fmt is GraphFormat.dot
            else json.dumps(g.to_json(), ensure_ascii=False, indent=2) + "\n"
        )
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output}")
