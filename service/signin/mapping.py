"""How an identity provider's claims become a nengli role and scope.

A province's identity system (统一身份认证) says who a person is in its own words: a role claim
such as ``"学校管理员"`` and attributes such as the school's code. nengli's tenancy knows four
roles (``admin``, ``platform`` = a region, ``school``, ``teacher``). The mapping file is the one
place where the two vocabularies meet, so a province can change its claim names without a code
change, and a sign-in whose claims map to nothing is refused instead of guessed.

File format (JSON)::

    {
      "version": 1,
      "role_claim": "nengli_role",
      "roles": {
        "省级管理员": {"role": "platform", "scope_claim": "region"},
        "学校管理员": {"role": "school", "scope_claim": "school_id"},
        "教研组长":   {"role": "school", "scope_claim": "school_id"},
        "教师":       {"role": "teacher", "scope_claim": "teacher_id"},
        "系统管理员": {"role": "admin"}
      }
    }

``role_claim`` and ``scope_claim`` may be dotted paths into nested claims
(``"org.school_code"``); a claim holding a list of roles is read in file order of ``roles`` (the
first listed role the person holds wins, so list the widest first if that is your rule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from competency_model.errors import AuthError, NengliError, PermissionDenied
from service.auth import Principal

__all__ = ["ClaimsMapping", "RoleRule", "load_claims_mapping", "principal_from_claims"]

#: Roles that need a scope, and the tenancy object the scope names.
_SCOPED_ROLES = {"platform": "region", "school": "school", "teacher": "teacher"}


class RoleRule(BaseModel):
    """What one identity-provider role value becomes in nengli."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "platform", "school", "teacher"]
    scope_claim: str | None = Field(
        default=None, description="Claim holding the region / school id / teacher id."
    )
    label_zh: str | None = None

    @model_validator(mode="after")
    def _scope_claim_matches_role(self) -> RoleRule:
        if self.role == "admin" and self.scope_claim is not None:
            raise ValueError("role 'admin' takes no scope_claim")
        if self.role != "admin" and not self.scope_claim:
            raise ValueError(
                f"role {self.role!r} needs a scope_claim naming the claim that holds its "
                f"{_SCOPED_ROLES[self.role]} id"
            )
        return self


class ClaimsMapping(BaseModel):
    """A validated claims → role mapping (see the module docstring for the file format)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    role_claim: str = Field(min_length=1)
    roles: dict[str, RoleRule] = Field(min_length=1)


def load_claims_mapping(path: Path) -> ClaimsMapping:
    """Read and validate a mapping file.

    Raises
    ------
    NengliError
        The file is missing, is not JSON, or does not follow the format; the message names the
        file and the offending key.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise NengliError(f"claims mapping {path} not found") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NengliError(f"claims mapping {path} is not UTF-8 JSON: {error}") from error
    try:
        return ClaimsMapping.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(top)'}: {item['msg']}"
            for item in error.errors()
        )
        raise NengliError(f"claims mapping {path} is invalid: {problems}") from error


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def principal_from_claims(claims: dict[str, Any], mapping: ClaimsMapping) -> Principal:
    """The caller a set of verified claims stands for.

    The principal's ``key_id`` is ``oidc:<sub>`` so the read audit records the person, not a
    shared key.

    Raises
    ------
    AuthError
        The claims have no ``sub``.
    PermissionDenied
        No role value maps to a nengli role, or the mapped role's scope claim is missing.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthError("the identity provider's answer has no 'sub' claim")
    held = _claim(claims, mapping.role_claim)
    values = [held] if isinstance(held, str) else list(held) if isinstance(held, list) else []
    rule = next((mapping.roles[name] for name in mapping.roles if name in values), None)
    if rule is None:
        shown = ", ".join(str(value) for value in values) or "none"
        raise PermissionDenied(
            f"账号角色（{mapping.role_claim} = {shown}）未映射到 nengli 角色，请联系管理员 / "
            f"the account's role ({mapping.role_claim} = {shown}) maps to no nengli role; "
            f"known roles: {', '.join(mapping.roles)}"
        )
    scope: str | None = None
    if rule.scope_claim is not None:
        value = _claim(claims, rule.scope_claim)
        if not isinstance(value, str | int) or not str(value).strip():
            raise PermissionDenied(
                f"账号缺少 {rule.scope_claim} 属性 / the account has no {rule.scope_claim!r} "
                f"claim, which role {rule.role!r} needs"
            )
        scope = str(value).strip()
    return Principal(key_id=f"oidc:{subject}", role=rule.role, scope=scope)
