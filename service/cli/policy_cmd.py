"""``nengli policy …``: list and show regional policies, and check selections and plans against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from competency_model.errors import PolicyError
from service.cli.framework_cmd import FileOption, resolve_framework

if TYPE_CHECKING:
    from competency_model.plan import Violation
    from competency_model.policy import Policy


def _render(policy: Policy) -> str:
    from competency_model.policy import RULE_FIELDS

    lines = [f"{policy.name}: {policy.label_zh} / {policy.label_en}"]
    for field in RULE_FIELDS:
        value: Any = getattr(policy, field)
        if field == "rollout":
            value = ", ".join(f"{s.year}:{s.share:.0%}" for s in value) or "-"
        elif field == "environment_gating":
            value = "; ".join(f"{k}→{'+'.join(v)}" for k, v in value.items())
        prov = policy.provenance[field]
        source = f" [{', '.join(prov.sources)}]" if prov.sources else ""
        lines.append(f"  {field:<20} {value!s:<40} {prov.status}{source}")
    lines.append(f"  {'online_kinds':<20} {', '.join(policy.online_kinds)}")
    lines.append(f"  {'practice_kinds':<20} {', '.join(policy.practice_kinds)}")
    lines.append(
        "  (official = stated by a cited source; derived = computed from one; default = nengli's choice)"
    )
    return "\n".join(lines)


def _report(violations: list[Violation], as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                [v.model_dump(mode="json") for v in violations], ensure_ascii=False, indent=2
            )
        )
    elif not violations:
        typer.echo("OK: no violations / 符合规则")
    else:
        for v in violations:
            typer.echo(f"- [{v.rule}] {v.message_zh} / {v.message_en}")
    if violations:
        raise typer.Exit(code=1)


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``policy`` command group."""
    group = typer.Typer(
        help="Regional policies: hour rules, point selection.", no_args_is_help=True
    )
    app.add_typer(group, name="policy")

    @group.command("list")
    def list_policies() -> None:
        """Names of the shipped policies."""
        from competency_model.policy import available_policies, load_policy

        for name in available_policies():
            policy = load_policy(name)
            typer.echo(f"{name:<12} {policy.label_zh}")

    @group.command("show")
    def show(
        name: Annotated[str, typer.Argument(help="Policy name (e.g. jiangsu) or a .json file.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Print a policy with the provenance (official / derived / default) of every rule."""
        from competency_model.policy import load_policy

        policy = load_policy(name)
        if as_json:
            typer.echo(json.dumps(policy.model_dump(mode="json"), ensure_ascii=False, indent=2))
        else:
            typer.echo(_render(policy))

    @group.command("check-selection")
    def check_selection(
        name: Annotated[str, typer.Argument(help="Policy name or file.")],
        points: Annotated[
            str, typer.Option("--points", help="Comma-separated codes, e.g. A1,A3,B6.")
        ],
        environment: Annotated[
            str | None, typer.Option("--environment", help="School environment (A/B/C).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print violations as JSON.")] = False,
        file: FileOption = None,
    ) -> None:
        """Check chosen points; exit 1 and list every violation if any rule is broken."""
        from competency_model.policy import validate_selection

        codes = [c.strip() for c in points.split(",") if c.strip()]
        _report(validate_selection(codes, environment, name, resolve_framework(file)), as_json)

    @group.command("check-plan")
    def check_plan(
        plan_file: Annotated[Path, typer.Argument(help="Plan JSON file.")],
        name: Annotated[
            str | None, typer.Option("--policy", help="Default: the plan's own.")
        ] = None,
        environment: Annotated[
            str | None, typer.Option("--environment", help="School environment (A/B/C).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print violations as JSON.")] = False,
        file: FileOption = None,
    ) -> None:
        """Check a plan file; exit 1 and list every violation if any rule is broken."""
        from competency_model.policy import validate_plan

        try:
            plan = json.loads(plan_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise PolicyError(f"cannot read plan file {str(plan_file)!r}: {error}") from None
        policy = name or plan.get("policy") or "national"
        framework = resolve_framework(file)
        _report(validate_plan(plan, policy, framework, environment), as_json)
