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

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from competency_model.catalog import environment_rank
from competency_model.framework import Framework
from competency_model.graph import CompetencyGraph

__all__ = ["mentor_teachers", "pair_schools", "school_mastery"]


def school_mastery(teacher_mastery: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Mean mastery per school (index ``school_id``, columns ``codes``)."""
    table = teacher_mastery.groupby(teacher_mastery["school_id"].astype(str))[codes].mean()
    table.index.name = "school_id"
    return table


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
    codes = list(framework.codes)
    graph = CompetencyGraph(framework)
    by_school = school_mastery(teacher_mastery, codes)
    info = schools.assign(school_id=schools["school_id"].astype(str)).set_index("school_id")
    info = info.loc[info.index.intersection(by_school.index)]
    by_school = by_school.loc[info.index]
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
    lead = np.clip(filled[partner_idx][None, :, :] - filled[weak_idx][:, None, :], 0, None)
    score = (lead * need[weak_idx][:, None, :]).sum(axis=2)
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
        contribution = lead[r, p] * need[w_i]
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
    columns = [
        "weak_school",
        "partner_school",
        "complementarity",
        "focus_points",
        "weak_mean",
        "partner_mean",
        "same_city",
    ]
    return pd.DataFrame(records, columns=columns).sort_values("weak_school", ignore_index=True)


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
    return pd.DataFrame(
        records,
        columns=[
            "weak_school",
            "partner_school",
            "point",
            "mentor_teacher_id",
            "mentor_research_group",
            "mentor_mastery",
        ],
    )
