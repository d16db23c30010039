"""The evidence a teacher must submit for each target point's school assessment (校本应用考核).

A point is rated from its evidence items (优秀 only if every item is 优秀), so a plan that ends
without knowing what to hand in is not a plan. The list comes from the framework's artifacts —
required ones first, optional ones marked — plus whatever the chosen practice tasks say they
produce, so the teacher sees which task yields which piece of evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from competency_model.framework import Artifact, Framework

__all__ = ["artifact_label", "evidence_for"]


def artifact_label(artifact: Artifact) -> str:
    """Chinese label of an artifact: the name for required ones, ``name（选交…）`` for optional."""
    # required names stay verbatim: the policy check matches them against the framework
    if artifact.required:
        return artifact.name_zh
    notes = ["选交"]
    if artifact.max_minutes is not None:
        notes.append(f"≤{artifact.max_minutes}分钟")
    return artifact.name_zh + f"（{'，'.join(notes)}）"


def evidence_for(
    targets: Sequence[str],
    framework: Framework,
    task_artifacts: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, list[str]]:
    """Evidence to submit per target point.

    Parameters
    ----------
    targets
        Target point codes.
    framework
        Supplies each point's artifacts (required first, optional marked 选交).
    task_artifacts
        Optional ``{point: [artifact names]}`` produced by the plan's practice tasks; names not
        already listed are appended so nothing a task produces is forgotten.

    Examples
    --------
    >>> evidence_for(["A1"], default_framework())["A1"][0]  # doctest: +SKIP
    '学情分析方案'
    """
    result: dict[str, list[str]] = {}
    extra = task_artifacts or {}
    for code in targets:
        artifacts = sorted(framework.point(code).artifacts, key=lambda a: not a.required)
        labels = [artifact_label(a) for a in artifacts]
        names = {a.name_zh for a in artifacts}
        for name in extra.get(code, ()):
            if name not in names and name not in labels:
                labels.append(name)
                names.add(name)
        if not labels:
            labels = ["能力点考核材料（框架未列出具体证据，请按学校考核细则提交）"]
        result[code] = labels
    return result
