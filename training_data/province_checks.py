"""Is a province ready to train on? One check before any model is fitted.

``nengli train`` used to meet half-formed provinces (teachers and records imported without
their schools) deep inside the diagnosis, and crashed with a traceback. The rules a model
relies on are checked here once, up front, and the first broken one is reported in one line
naming the table, how many rows break it, an example, and what would fix it.
"""

from __future__ import annotations

import pandas as pd

from competency_model.errors import DatasetError
from competency_model.province import Province
from competency_model.vocabulary import ENVIRONMENTS

__all__ = ["province_problems", "require_trainable"]


def _missing(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column]
    return values.isna() | values.astype(str).str.strip().isin(["", "nan", "None"])


def _unknown(ids: pd.Series, known: set[str]) -> pd.Series:
    """Rows whose id is not in ``known``; a categorical column is checked per distinct id."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        # 30 million events name a million teachers: test each once, not each row's string.
        bad = ~pd.Index(ids.cat.categories.astype(str)).isin(known)
        codes = ids.cat.codes.to_numpy()
        return pd.Series((codes < 0) | bad[codes.clip(0)], index=ids.index)
    return ~ids.astype(str).isin(known)


def province_problems(province: Province) -> list[str]:
    """Every rule of a trainable province the data breaks, one line each (empty: ready)."""
    problems: list[str] = []
    teachers, schools = province.teachers, province.schools
    if teachers.empty:
        problems.append(
            "teachers: the province has no teachers; import a teachers file (教师名单) first"
        )
        return problems
    for column in ("teacher_id", "school_id", "stage", "subject"):
        bad = _missing(teachers, column)
        if bad.any():
            problems.append(
                f"teachers: {int(bad.sum())} row(s) have no {column} (first: teacher "
                f"{teachers.loc[bad, 'teacher_id'].iloc[0]!r}); re-import them with the column"
            )
    known_schools = set(schools["school_id"].astype(str))
    orphan = ~teachers["school_id"].astype(str).isin(known_schools)
    if orphan.any():
        example = teachers.loc[orphan, "school_id"].iloc[0]
        n_schools = teachers.loc[orphan, "school_id"].nunique()
        problems.append(
            f"schools: {int(orphan.sum())} teacher(s) name {n_schools} school(s) missing from the "
            f"schools table (first: {example!r}); import the schools file (学校信息), or re-run "
            "`nengli import` on the teachers so their schools are inferred"
        )
    if len(schools):
        bad_env = ~schools["environment"].astype(str).isin(ENVIRONMENTS)
        if bad_env.any():
            problems.append(
                f"schools: {int(bad_env.sum())} school(s) have no valid environment (first: "
                f"{schools.loc[bad_env, 'school_id'].iloc[0]!r} = "
                f"{schools.loc[bad_env, 'environment'].iloc[0]!r}); use one of "
                f"{', '.join(ENVIRONMENTS)}"
            )
    known_teachers = set(teachers["teacher_id"].astype(str))
    for name in ("events", "grades", "responses"):
        frame = getattr(province, name)
        if frame.empty:
            continue
        stray = _unknown(frame["teacher_id"], known_teachers)
        if stray.any():
            problems.append(
                f"{name}: {int(stray.sum())} row(s) name teachers missing from the teachers table "
                f"(first: {frame.loc[stray, 'teacher_id'].iloc[0]!r}); import their teachers"
            )
    return problems


def require_trainable(province: Province) -> None:
    """Raise if the province breaks a rule training relies on.

    Raises
    ------
    DatasetError
        Naming the first problem (and how many more there are), with the fix.
    """
    problems = province_problems(province)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise DatasetError(
            f"the province cannot be trained on: {problems[0]}{more}",
            details={"problems": problems},
        )
