"""The model selection's report: every candidate's and baseline's figure, the choice and why.

Written to ``metadata.json`` (``model_selection``) by ``nengli train`` and shown by ``nengli
evaluate`` as ``ranker_self_check``; kept apart from :mod:`~.selection` so the choosing and the
telling can be read (and changed) one at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recommender.ranking.baseline_ranker import BASELINE_SIGNALS

__all__ = ["best_baseline", "selection_report"]


def best_baseline(scores: Mapping[str, float]) -> str:
    """The baseline with the highest check nDCG@10 (the first listed on a tie)."""
    return max(BASELINE_SIGNALS, key=lambda name: scores.get(name, 0.0))


def selection_report(
    warm: dict[str, float],
    cold: dict[str, float],
    filtered: dict[str, float],
    chosen: str,
    cold_chosen: str,
    use_filter: bool,
    n_check: int,
    n_sample: int,
) -> dict[str, Any]:
    """The selection as ``metadata.json`` shows it: figures, choice and the reason in zh/en."""
    baselines = {name: warm.get(name, 0.0) for name in BASELINE_SIGNALS}
    best = max(baselines, key=lambda name: baselines[name])
    cold_baselines = {name: cold.get(name, 0.0) for name in BASELINE_SIGNALS}
    # With too few teachers to keep any for the check (``n_check`` 0) there are no figures.
    warm = {chosen: 0.0, **warm}
    cold = {cold_chosen: 0.0, **cold}
    ratio = round(warm[chosen] / baselines[best], 3) if baselines[best] > 0 else None
    cold_ratio = (
        round(cold[cold_chosen] / cold_baselines["popularity"], 3)
        if cold_baselines["popularity"] > 0
        else None
    )
    fallback = (
        f" No learned blend beat the baseline {best} on the check, so it serves."
        if chosen == "baseline"
        else ""
    )
    fallback_zh = f"没有学习得到的模型胜过基线 {best}，故直接使用该基线。" if fallback else ""
    reason_en = (
        f"{chosen} had the highest nDCG@10 ({warm[chosen]}) on the last completions of "
        f"{n_check} check teachers; best baseline {best} {baselines[best]} (ratio {ratio}). "
        f"Mastered-points filter {'on' if use_filter else 'off'}: with it {filtered.get(chosen)}."
        f"{fallback}"
    )
    reason_zh = (
        f"在 {n_check} 名校验教师最近完成的课程上，{chosen} 的 nDCG@10 最高（{warm[chosen]}）；"
        f"最强基线 {best} 为 {baselines[best]}（比值 {ratio}）。已掌握能力点过滤"
        f"{'启用' if use_filter else '不启用'}（启用时 {filtered.get(chosen)}）。{fallback_zh}"
    )
    return {
        "protocol": "temporal holdout: each teacher's last completions; 3/4 of the sampled "
        "teachers train, 1/4 check; nDCG@10 per teacher and kind over the full eligible list",
        "teachers": n_sample,
        "check_teachers": n_check,
        "warm_ndcg@10": {name: warm[name] for name in warm if name not in BASELINE_SIGNALS},
        "warm_with_mastered_filter_ndcg@10": filtered,
        "baselines_ndcg@10": baselines,
        "best_baseline": best,
        "chosen": chosen,
        "chosen_over_best_baseline": ratio,
        "mastered_filter": use_filter,
        "cold_ndcg@10": {name: cold[name] for name in cold if name not in BASELINE_SIGNALS},
        "cold_baselines_ndcg@10": cold_baselines,
        "cold_chosen": cold_chosen,
        "cold_chosen_over_popularity": cold_ratio,
        "reason_zh": reason_zh,
        "reason_en": reason_en,
    }
