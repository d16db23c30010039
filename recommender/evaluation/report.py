"""The headline ratios of the province protocol and the per-family table printed by the CLI.

Targets (issue 14 §3): the hybrid's nDCG@10 at least 1.2 × the best baseline on every simulator
family, and cold-start nDCG@10 at least 2 × popularity. :func:`ratios` computes both from one
protocol result; :func:`format_table` lays a result out as a fixed-width table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLD_TARGET", "WARM_TARGET", "format_table", "ratios"]

#: hybrid nDCG@k / best baseline nDCG@k must reach this on every family
WARM_TARGET = 1.2
#: cold-start hybrid nDCG@k / cold-start popularity nDCG@k must reach this
COLD_TARGET = 2.0

_COLUMNS = ("ndcg", "recall", "precision", "map", "coverage", "gap_hit")


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator > 0 else None


def ratios(result: dict[str, Any], k: int = 10) -> dict[str, Any]:
    """Hybrid / best baseline and cold-start hybrid / popularity (and / best cold baseline).

    Parameters
    ----------
    result
        A document from :func:`~recommender.evaluation.province.evaluate_province`
        (``hybrid``, ``baselines``, ``cold_start`` and optionally ``cold_start_baselines``
        blocks keyed like ``ndcg@10``).

    Returns
    -------
    dict
        ``best_baseline`` (name), ``hybrid_over_best_baseline``, ``cold_best_baseline``,
        ``cold_hybrid_over_popularity``, ``cold_hybrid_over_best_baseline`` and whether each
        target is met. A ratio over a zero baseline is ``None``.

    Examples
    --------
    >>> doc = {"hybrid": {"ndcg@10": 0.3}, "baselines": {"a": {"ndcg@10": 0.2},
    ...        "b": {"ndcg@10": 0.25}}, "cold_start": {"hybrid": {"ndcg@10": 0.4},
    ...        "popularity": {"ndcg@10": 0.1}}}
    >>> ratios(doc)["hybrid_over_best_baseline"], ratios(doc)["best_baseline"]
    (1.2, 'b')
    """
    metric = f"ndcg@{k}"
    baselines = result["baselines"]
    best = max(baselines, key=lambda name: baselines[name][metric])
    hybrid = result["hybrid"][metric]
    cold = result["cold_start"]
    cold_baselines = {name: block for name, block in cold.items() if name != "hybrid"}
    cold_baselines.update(result.get("cold_start_baselines", {}))
    cold_best = max(cold_baselines, key=lambda name: cold_baselines[name][metric])
    warm_ratio = _ratio(hybrid, baselines[best][metric])
    cold_ratio = _ratio(cold["hybrid"][metric], cold["popularity"][metric])
    return {
        "metric": metric,
        "best_baseline": best,
        "hybrid_over_best_baseline": warm_ratio,
        "warm_target": WARM_TARGET,
        "warm_target_met": warm_ratio is not None and warm_ratio >= WARM_TARGET,
        "cold_best_baseline": cold_best,
        "cold_hybrid_over_popularity": cold_ratio,
        "cold_hybrid_over_best_baseline": _ratio(
            cold["hybrid"][metric], cold_baselines[cold_best][metric]
        ),
        "cold_target": COLD_TARGET,
        "cold_target_met": cold_ratio is not None and cold_ratio >= COLD_TARGET,
    }


def format_table(result: dict[str, Any], title: str, k: int = 10) -> str:
    """One family's result as a text table: rows hybrid, baselines, cold start; then the ratios."""
    rows: list[tuple[str, dict[str, float]]] = [("hybrid", result["hybrid"])]
    rows += sorted(
        result["baselines"].items(), key=lambda item: -item[1][f"ndcg@{k}"]
    )  # best baseline first
    cold = {**result["cold_start"], **result.get("cold_start_baselines", {})}
    rows += [(f"cold: {name}", block) for name, block in cold.items()]
    header = (
        ["模型 model".ljust(30)] + [f"{c}@{k}".rjust(12) for c in _COLUMNS] + ["users".rjust(7)]
    )
    lines = [title, "".join(header)]
    for name, block in rows:
        cells = [name.ljust(30)]
        cells += [f"{block.get(f'{c}@{k}', float('nan')):13.4f}" for c in _COLUMNS]
        cells.append(f"{int(block.get('n_users', 0)):7d}")
        lines.append("".join(cells))
    summary = result.get("ratios") or ratios(result, k)
    lines.append(
        f"hybrid / best baseline ({summary['best_baseline']}): "
        f"{summary['hybrid_over_best_baseline']} (目标 target ≥ {summary['warm_target']}, "
        f"{'达到 met' if summary['warm_target_met'] else '未达到 not met'})"
    )
    lines.append(
        f"cold start hybrid / popularity: {summary['cold_hybrid_over_popularity']} "
        f"(目标 target ≥ {summary['cold_target']}, "
        f"{'达到 met' if summary['cold_target_met'] else '未达到 not met'}); "
        f"/ best cold baseline ({summary['cold_best_baseline']}): "
        f"{summary['cold_hybrid_over_best_baseline']}"
    )
    return "\n".join(lines)
