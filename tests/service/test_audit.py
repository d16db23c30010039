"""The audit log: one row per read of a teacher's data, written in the request's transaction."""

from __future__ import annotations

from service.audit import entries_for_teacher
from tests.service.conftest import Keys, World


def test_recommendation_read_writes_one_audit_row(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        before = len(entries_for_teacher(session, world.teacher))
    response = client.get(
        f"/v1/teachers/{world.teacher}/recommendations?kind=task&k=3", headers=keys.header("admin")
    )
    assert response.status_code == 200
    with state.sessions() as session:
        entries = entries_for_teacher(session, world.teacher)
    assert len(entries) == before + 1
    last = entries[-1]
    assert (last.action, last.role, last.detail) == (
        "recommendations",
        "admin",
        "kind=task k=3 personalized=True",
    )
    assert last.at is not None and last.school_id is not None


def test_refused_read_writes_no_audit_row(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        before = len(entries_for_teacher(session, world.foreign_teacher))
    response = client.get(
        f"/v1/teachers/{world.foreign_teacher}/recommendations", headers=keys.header("platform")
    )
    assert response.status_code == 404
    with state.sessions() as session:
        assert len(entries_for_teacher(session, world.foreign_teacher)) == before
