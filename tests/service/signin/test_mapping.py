"""The claims → role mapping: validated like any input, and nothing unmapped is guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from competency_model.errors import AuthError, NengliError, PermissionDenied
from service.signin.mapping import ClaimsMapping, load_claims_mapping, principal_from_claims

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "oidc-claims-mapping.json"


@pytest.fixture
def mapping() -> ClaimsMapping:
    return load_claims_mapping(EXAMPLE)


def test_the_shipped_example_mapping_is_valid(mapping: ClaimsMapping) -> None:
    assert {rule.role for rule in mapping.roles.values()} == {
        "admin",
        "platform",
        "school",
        "teacher",
    }


@pytest.mark.parametrize(
    ("claims", "role", "scope"),
    [
        ({"sub": "u1", "nengli_role": "教师", "teacher_id": "T0000001"}, "teacher", "T0000001"),
        ({"sub": "u2", "nengli_role": "学校管理员", "school_id": "S000001"}, "school", "S000001"),
        ({"sub": "u3", "nengli_role": "教研组长", "school_id": "S000002"}, "school", "S000002"),
        ({"sub": "u4", "nengli_role": "省级管理员", "region": "江苏"}, "platform", "江苏"),
        ({"sub": "u5", "nengli_role": "系统管理员"}, "admin", None),
        # A list of roles: the first role listed in the file that the person holds wins.
        (
            {
                "sub": "u6",
                "nengli_role": ["教师", "学校管理员"],
                "school_id": "S1",
                "teacher_id": "T1",
            },
            "school",
            "S1",
        ),
    ],
)
def test_claims_map_to_role_and_scope(
    mapping: ClaimsMapping, claims: dict[str, object], role: str, scope: str | None
) -> None:
    principal = principal_from_claims(claims, mapping)
    assert (principal.role, principal.scope) == (role, scope)
    assert principal.key_id == f"oidc:{claims['sub']}"


def test_dotted_claim_paths_reach_nested_claims() -> None:
    mapping = ClaimsMapping.model_validate(
        {
            "role_claim": "org.role",
            "roles": {"teacher": {"role": "teacher", "scope_claim": "org.staff_no"}},
        }
    )
    claims = {"sub": "x", "org": {"role": "teacher", "staff_no": 320101}}
    assert principal_from_claims(claims, mapping).scope == "320101"


def test_an_unmapped_role_is_refused_naming_the_value(mapping: ClaimsMapping) -> None:
    with pytest.raises(PermissionDenied, match="家长"):
        principal_from_claims({"sub": "u", "nengli_role": "家长"}, mapping)


def test_a_missing_scope_claim_is_refused(mapping: ClaimsMapping) -> None:
    with pytest.raises(PermissionDenied, match="school_id"):
        principal_from_claims({"sub": "u", "nengli_role": "学校管理员"}, mapping)


def test_claims_without_sub_are_refused(mapping: ClaimsMapping) -> None:
    with pytest.raises(AuthError, match="sub"):
        principal_from_claims({"nengli_role": "教师", "teacher_id": "T1"}, mapping)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not UTF-8 JSON"),
        (json.dumps({"roles": {}}), "role_claim"),
        (json.dumps({"role_claim": "r", "roles": {"x": {"role": "owner"}}}), "roles.x.role"),
        (json.dumps({"role_claim": "r", "roles": {"x": {"role": "school"}}}), "scope_claim"),
        (
            json.dumps({"role_claim": "r", "roles": {"x": {"role": "admin", "scope_claim": "s"}}}),
            "admin",
        ),
        (json.dumps({"role_claim": "r", "roles": {"x": {"role": "admin"}}, "extra": 1}), "extra"),
    ],
)
def test_an_invalid_mapping_file_names_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NengliError, match=message) as caught:
        load_claims_mapping(path)
    assert str(path) in str(caught.value)


def test_a_missing_mapping_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(NengliError, match="not found"):
        load_claims_mapping(tmp_path / "absent.json")
