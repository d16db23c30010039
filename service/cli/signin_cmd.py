"""``nengli signin check-mapping FILE``: validate an identity provider's claims mapping.

A province edits this file when its identity system names roles differently; checking it before
deployment means a bad file is a one-line error here, not a server that refuses to start.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``signin`` command group."""
    group = typer.Typer(help="Sign-in through the province's identity provider (OIDC).")
    app.add_typer(group, name="signin")

    @group.command("check-mapping")
    def check_mapping(
        file: Annotated[Path, typer.Argument(help="Claims mapping JSON file.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the mapping as JSON.")] = False,
    ) -> None:
        """Validate a claims → role mapping and show what each provider role becomes."""
        from service.signin.mapping import load_claims_mapping

        mapping = load_claims_mapping(file)  # NengliError → one line, exit 2 (main)
        rows = [
            {"provider_role": name, "role": rule.role, "scope_claim": rule.scope_claim}
            for name, rule in mapping.roles.items()
        ]
        if as_json:
            typer.echo(
                json.dumps(
                    {"role_claim": mapping.role_claim, "roles": rows}, ensure_ascii=False, indent=2
                )
            )
            return
        typer.echo(f"角色声明 / role claim: {mapping.role_claim}")
        for row in rows:
            scope = f"  范围 / scope ← {row['scope_claim']}" if row["scope_claim"] else ""
            typer.echo(f"  {row['provider_role']} → {row['role']}{scope}")
