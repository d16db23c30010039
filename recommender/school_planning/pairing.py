"""结对帮扶: partner schools and mentor teachers for weak (often rural) schools.

A weak school needs a partner that is strong exactly where it is weak, not merely a strong
school. Complementarity of partner ``p`` for weak school ``w`` is
``sum over w's allowed points c of need_w(c) × max(0, m_p(c) − m_w(c))``: the partner's lead
on each point, weighted by how much the weak school needs that point. Partners must be able to
demonstrate in the weak school's environment (their environment at least as rich), prefer the
same city (visits are cheap), and each partner takes at most ``capacity`` weak schools; the
assignment maximising total complementarity is solved exactly with the Hungarian method
(:func:`scipy.optimize.linear_sum_assignment`, partners replicated ``capacity`` times). Mentor
teachers are then the partner school's best teachers on the weak school's top-need points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from competency_model.catalog import environment_rank
from competency_model.framework import Framework
from competency_model.graph import CompetencyGraph
from recommender.school_planning.pairing_summary import SchoolSummary

__all__ = [
    "LEAD_BLOCK_BYTES",
    "MENTOR_COLUMNS",
    "PAIR_COLUMNS",
    "mentor_teachers",
    "mentors_from_summaries",
    "pair_school_means",
    "pair_schools",
    "school_mastery",
]


def school_mastery(teacher_mastery: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Mean mastery per school (index ``school_id``, columns ``codes``)."""
    table = teacher_mastery.groupby(teacher_mastery["school_id"].astype(str))[codes].mean()
    table.index.name = "school_id"
    return table


#: Bytes of the weak × partner × point block of partner leads computed at once: memory stays
#: bounded by this, not by the region (2,000 weak × 8,000 partners × 30 points is 3.8 GB).
LEAD_BLOCK_BYTES = 64 * 2**20

PAIR_COLUMNS = [
    "weak_school",
    "partner_school",
    "complementarity",
    "focus_points",
    "weak_mean",
    "partner_mean",
    "same_city",
]
MENTOR_COLUMNS = [
    "weak_school",
    "partner_school",
    "point",
    "mentor_teacher_id",
    "mentor_research_group",
    "mentor_mastery",
]


def pair_schools(
    teacher_mastery: pd.DataFrame,
    schools: pd.DataFrame,
    framework: Framework,
    *,
    weak_share: float = 0.2,
    capacity: int = 2,
    threshold: float = 0.6,
    same_city: bool = True,
    rural_bonus: float = 0.05,
) -> pd.DataFrame:
    """Pair the weakest schools with complementary partners.

    Parameters
    ----------
    teacher_mastery
        :func:`~recommender.school_planning.mastery.attach_teachers` output.
    schools
        Province ``schools`` table (city, urban_rural, environment).
    framework
        Supplies codes and the environment gating of points.
    weak_share
        Share of schools (lowest weakness score) that get a partner.
    capacity
        Weak schools one partner may take.
    threshold
        Mastery level below which a point counts as a need.
    same_city
        Only pair within a city (falls back to the whole region for a city without partners).
    rural_bonus
        Added to a rural school's weakness score so that, at equal mastery, rural schools are
        helped first.

    Returns
    -------
    DataFrame
        weak_school, partner_school, complementarity, focus_points (top three, ``;``-joined),
        weak_mean, partner_mean, same_city.
    """
    return pair_school_means(
        school_mastery(teacher_mastery, list(framework.codes)),
        schools,
        framework,
        weak_share=weak_share,
        capacity=capacity,
        threshold=threshold,
        same_city=same_city,
        rural_bonus=rural_bonus,
    )


def pair_school_means(
    by_school: pd.DataFrame,
    schools: pd.DataFrame,
    framework: Framework,
    *,
    weak_share: float = 0.2,
    capacity: int = 2,
    threshold: float = 0.6,
    same_city: bool = True,
    rural_bonus: float = 0.05,
) -> pd.DataFrame:
    """:func:`pair_schools` from the schools' mean mastery (:func:`school_mastery`'s table).

    The region's service path calls this on stored per-school summaries, never touching a
    teacher row; the score matrix is filled in blocks of weak schools (at most
    :data:`LEAD_BLOCK_BYTES` of partner leads at a time). Parameters and result as
    :func:`pair_schools`.
    """
    codes = list(framework.codes)
    graph = CompetencyGraph(framework)
    by_school = by_school.set_axis(by_school.index.astype(str), axis=0)
    info = schools.assign(school_id=schools["school_id"].astype(str)).set_index("school_id")
    info = info.loc[info.index.intersection(by_school.index)]
    by_school = by_school.loc[info.index, codes]
    allowed = np.zeros((len(info), len(codes)), dtype=bool)
    column = {c: j for j, c in enumerate(codes)}
    for i, env in enumerate(info["environment"]):
        for c in graph.feasible_points(env):
            allowed[i, column[c]] = True
    values = by_school.to_numpy(dtype=float)
    need = np.where(allowed, np.clip(threshold - np.nan_to_num(values, nan=threshold), 0, None), 0)
    weakness = need.sum(axis=1) / np.maximum(allowed.sum(axis=1), 1)
    weakness += rural_bonus * (info["urban_rural"].to_numpy() == "rural")
    n_weak = max(1, int(round(weak_share * len(info))))
    order = np.argsort(-weakness, kind="stable")
    weak_idx, partner_idx = order[:n_weak], order[n_weak:]
    env_rank = np.array([environment_rank(e) for e in info["environment"]])
    filled = np.nan_to_num(values, nan=0.0)
    score = _complementarity(filled[weak_idx], filled[partner_idx], need[weak_idx])
    able = env_rank[partner_idx][None, :] >= env_rank[weak_idx][:, None]
    cities = info["city"].to_numpy() if "city" in info else np.array([""] * len(info))
    same = cities[partner_idx][None, :] == cities[weak_idx][:, None]
    if same_city:
        has_local = (able & same).any(axis=1)
        allowed_pair = able & (same | ~has_local[:, None])
    else:
        allowed_pair = able
    score = np.where(allowed_pair, score, -1.0)
    replicated = np.repeat(score, capacity, axis=1)
    rows, cols = linear_sum_assignment(replicated, maximize=True)
    records = []
    for r, c in zip(rows, cols, strict=True):
        p = c // capacity
        if score[r, p] < 0:
            continue  # no able partner left for this school
        w_i, p_i = weak_idx[r], partner_idx[p]
        contribution = np.clip(filled[p_i] - filled[w_i], 0, None) * need[w_i]
        focus = [
            codes[j] for j in np.argsort(-contribution, kind="stable")[:3] if contribution[j] > 0
        ]
        records.append(
            {
                "weak_school": info.index[w_i],
                "partner_school": info.index[p_i],
                "complementarity": float(score[r, p]),
                "focus_points": ";".join(focus),
                "weak_mean": float(np.nanmean(values[w_i][allowed[w_i]])),
                "partner_mean": float(np.nanmean(values[p_i][allowed[w_i]])),
                "same_city": bool(same[r, p]),
            }
        )
    return pd.DataFrame(records, columns=PAIR_COLUMNS).sort_values("weak_school", ignore_index=True)


def _complementarity(
    weak: NDArray[np.float64], partners: NDArray[np.float64], need: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``sum_c need_w(c) × max(0, m_p(c) − m_w(c))`` for every weak × partner school, filled in
    blocks of weak schools so the weak × partner × point leads never exist all at once."""
    score = np.empty((len(weak), len(partners)), dtype=float)
    per_weak = max(1, partners.size * 8)
    block = max(1, LEAD_BLOCK_BYTES // per_weak)
    for start in range(0, len(weak), block):
        stop = start + block
        lead = np.clip(partners[None, :, :] - weak[start:stop, None, :], 0, None)
        score[start:stop] = (lead * need[start:stop, None, :]).sum(axis=2)
    return score


def mentor_teachers(
    pairs: pd.DataFrame, teacher_mastery: pd.DataFrame, per_point: int = 1
) -> pd.DataFrame:
    """For each pair and focus point, the partner school's strongest teacher(s) on that point.

    A teacher mentors at most one point per pair so the load is spread across the partner's staff.
    """
    records = []
    staff = teacher_mastery.reset_index()
    staff["school_id"] = staff["school_id"].astype(str)
    by_school = dict(tuple(staff.groupby("school_id")))
    for pair in pairs.itertuples(index=False):
        members = by_school.get(str(pair.partner_school))
        if members is None or not pair.focus_points:
            continue
        used: set[str] = set()
        for code in str(pair.focus_points).split(";"):
            ranked = members.sort_values([code, "teacher_id"], ascending=[False, True])
            ranked = ranked.loc[~ranked["teacher_id"].isin(used)].head(per_point)
            for teacher in ranked.itertuples(index=False):
                used.add(teacher.teacher_id)
                records.append(
                    {
                        "weak_school": pair.weak_school,
                        "partner_school": pair.partner_school,
                        "point": code,
                        "mentor_teacher_id": teacher.teacher_id,
                        "mentor_research_group": getattr(teacher, "research_group", ""),
                        "mentor_mastery": float(getattr(teacher, code)),
                    }
                )
    return pd.DataFrame(records, columns=MENTOR_COLUMNS)


def mentors_from_summaries(
    pairs: pd.DataFrame, summaries: Mapping[str, SchoolSummary], codes: Sequence[str]
) -> pd.DataFrame:
    """:func:`mentor_teachers` (one mentor per point) from the partners' stored summaries.

    Each summary keeps a school's three best teachers per point in :func:`mentor_teachers`'
    order; with at most three focus points and a teacher mentoring at most one point per pair,
    the first of them not yet used is the mentor the teacher-level ranking picks.
    """
    column = {c: j for j, c in enumerate(codes)}
    records = []
    for pair in pairs.itertuples(index=False):
        summary = summaries.get(str(pair.partner_school))
        if summary is None or not pair.focus_points:
            continue
        used: set[str] = set()
        for code in str(pair.focus_points).split(";"):
            for teacher_id, group, mastery in summary.top[column[code]]:
                if teacher_id in used:
                    continue
                used.add(teacher_id)
                records.append(
                    {
                        "weak_school": pair.weak_school,
                        "partner_school": pair.partner_school,
                        "point": code,
                        "mentor_teacher_id": teacher_id,
                        "mentor_research_group": group,
                        "mentor_mastery": math.nan if mastery is None else float(mastery),
                    }
                )
                break
    return pd.DataFrame(records, columns=MENTOR_COLUMNS)
