"""Turn what the rules counted into the report's warnings and derivations (zh + en)."""

from __future__ import annotations

from collections import Counter

from training_data.imports.checks import Tally
from training_data.imports.report import Derivation, ImportWarning, top_values

__all__ = ["derivations", "warnings_from"]

#: Derivations that change what a row says enough to be a warning too, not only a count.
_WARN_DERIVED = {
    ("schools", "region"): ("地区未给出", "no region given"),
    ("schools", "environment"): (
        "教学环境未给出，按多媒体教学环境处理",
        "no environment given; read as multimedia",
    ),
    ("teachers", "subject"): (
        "学科未给出，按学科通用处理",
        "no subject given; read as 通用 (any subject)",
    ),
}


def derivations(tally: Tally) -> list[Derivation]:
    """One entry per (file, table, field, how, value) with its row count."""
    return [
        Derivation(file=s, table=t, field=c, how=how, value=v, rows=n)  # type: ignore[arg-type]
        for (s, t, c, how, v), n in sorted(tally.derived.items())
    ]


def _unmapped(file: str, column: str, values: Counter[str]) -> ImportWarning:
    shown = "、".join(list(top_values(values))[:5])
    return ImportWarning(
        code="unmapped_column",
        file=file,
        column=column,
        rows=sum(values.values()),
        values=top_values(values),
        message_zh=f"列“{column}”看起来有意义（取值如 {shown}），但未被读取；如需导入请在映射文件中指定",
        message_en=f"column {column!r} looks meaningful (values such as {shown}) but is not "
        "read; map it with --mapping, or map it to null to silence this",
    )


def _completions(file: str, tally: Tally) -> ImportWarning | None:
    counts = tally.notes.get(("completions", file, "state"), Counter())
    contradicted = tally.notes.get(("completion_rule", file, "state"), Counter())
    if not counts:
        return None
    complete, dated, rows = counts["complete"], counts["with_completed_at"], counts["rows"]
    return ImportWarning(
        code="completion_rule",
        file=file,
        column="state",
        rows=sum(contradicted.values()),
        values=top_values(contradicted),
        message_zh=f"按学习状态判定完成：{rows} 行中 {complete} 行为完成；{dated} 行有完成时间，其中 "
        f"{sum(contradicted.values())} 行状态未完成，未计为完成",
        message_en=f"completions decided by the learning state: {complete} of {rows} rows; {dated} "
        f"rows have a completion time, {sum(contradicted.values())} of them with an unfinished "
        "state, not read as completions",
    )


def warnings_from(
    tally: Tally, unmapped: dict[tuple[str, str], Counter[str]], extra: list[ImportWarning]
) -> list[ImportWarning]:
    """Every warning of an import: unmapped columns first, then rules, inferences, unknowns."""
    out = [_unmapped(file, column, values) for (file, column), values in unmapped.items()]
    files = sorted({source for (_, source, _) in tally.notes})
    for file in files:
        warning = _completions(file, tally)
        if warning is not None:
            out.append(warning)
        unfinished = tally.notes.get(("completion_rule", file, "value"))
        if unfinished:
            n = sum(unfinished.values())
            out.append(
                ImportWarning(
                    code="completion_rule",
                    file=file,
                    column="value",
                    rows=n,
                    values=top_values(unfinished),
                    message_zh=f"{n} 行有完成时间但学习进度不足100%，按学习中（progress）读取，未计为完成",
                    message_en=f"{n} rows have a completion time but progress below 100 %; read "
                    "as progress, not as completions",
                )
            )
        for code, zh, en in (
            (
                "timestamp_inferred",
                "行没有时间，取导出日期",
                "rows have no time; the export date is used",
            ),
            (
                "unknown_subject",
                "行的学科不在词表中（原样保留）",
                "rows have a subject the vocabulary does not know (kept as is)",
            ),
        ):
            column = "state" if code == "timestamp_inferred" else "subject"
            values = tally.notes.get((code, file, column))
            if values:
                n = sum(values.values())
                out.append(
                    ImportWarning(
                        code=code,
                        file=file,
                        column=column,
                        rows=n,
                        values=top_values(values),
                        message_zh=f"{n} {zh}：{'、'.join(top_values(values))}",
                        message_en=f"{n} {en}: {', '.join(top_values(values))}",
                    )
                )
    for (source, table, column, how, value), rows in sorted(tally.derived.items()):
        label = _WARN_DERIVED.get((table, column))
        if label is not None and how in ("default",):
            out.append(
                ImportWarning(
                    code="defaulted",
                    file=source,
                    column=column,
                    rows=rows,
                    message_zh=f"{label[0]}：{rows} 行取默认值 {value}",
                    message_en=f"{label[1]}: {rows} rows take the default {value!r}",
                )
            )
        if (table, column, how) == ("grades", "assessed_at", "inferred"):
            out.append(
                ImportWarning(
                    code="assessed_at_inferred",
                    file=source,
                    column=column,
                    rows=rows,
                    message_zh=f"{rows} 条考核结果没有考核日期，取导出日期 {value}（assessed_at_inferred）",
                    message_en=f"{rows} grades have no date; the export date {value} is used "
                    "(flagged assessed_at_inferred)",
                )
            )
    return out + extra
