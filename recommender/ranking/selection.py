"""Model selection inside ``fit``: which blend serves, judged as the service is judged.

The question the service answers is "what will this teacher finish next". ``fit`` therefore
holds out each teacher's last completions (:func:`~recommender.evaluation.splits.time_split`
with ``event="complete"``), computes every signal from what came before, and splits the
teachers with a held-out item in two: rankers are trained on three quarters and compared on the
rest, *together with the strong simple baselines* (school and 教研组 completions, recency-weighted
popularity, school popularity + gap, province popularity), by nDCG@10 over each teacher's full
eligible list per kind (courses, tasks). The candidates:

- ``linear_legacy``: the first blend (pairwise logistic regression on the ten original signals);
- ``linear``: the same model on every signal;
- ``lambdarank``: LightGBM LambdaRank on every signal (:class:`~.boosted.LambdaRanker`);
- ``baseline``: the check's best baseline itself (:class:`~.baseline_ranker.BaselineRanker`),
  which serves only when it beats every learned blend: a learned blend that loses to school
  popularity on the province's own holdout should not serve.

The best candidate (a simpler one wins ties within 0.002) is refitted on every sampled teacher
and serves (only it: the other candidates stay as the check fitted them, as refitting all of
them doubled the selection's cost for models that do not serve; a LambdaRank is not refitted
from scratch but boosts on from the check's trees over every sampled teacher for a quarter of
its rounds; ``ranker_refit``); a second
selection does the same for cold start (content signals only, relevant =
the same held-out completions: earlier ones are evidence in the diagnosis, see the code).
The mastered-points rule is measured on the check and reported; ``auto`` does not apply it
(:data:`DECIDE_MASTERED_FILTER`, see :func:`select_rankers`). The report says what was chosen,
the figures, and why (:mod:`~.selection_report`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.errors import ModelError
from recommender.ranking.baseline_ranker import BASELINE_SIGNALS, BaselineRanker, tie_broken
from recommender.ranking.boosted import LambdaRanker
from recommender.ranking.candidates import (
    COLD_CANDIDATES,
    REFIT_CHOICES,
    WARM_CANDIDATES,
    QueryRows,
    fit_candidates,
    scores_where,
    served_candidates,
)
from recommender.ranking.ranker import LinearRanker
from recommender.ranking.selection_report import best_baseline, selection_report
from recommender.ranking.signals import CONTENT_SIGNALS, SIGNALS

__all__ = [
    "BASELINE_SIGNALS",
    "RANKER_CHOICES",
    "Ranker",
    "Selection",
    "ndcg_rows",
    "ranker_from_arrays",
    "select_rankers",
]

Ranker = LinearRanker | LambdaRanker | BaselineRanker
Features = Callable[[NDArray[np.int64]], dict[str, NDArray[np.float32]]]

#: Values of the estimator's ``ranker`` hyperparameter.
RANKER_CHOICES: tuple[str, ...] = ("auto", "linear_legacy", "linear", "lambdarank")
#: Simpler first: a later candidate must beat an earlier one by more than this to be chosen.
_TIE = 0.002
_CHUNK = 400
#: Whether ``auto`` applies the mastered-points rule when it wins the check (see select_rankers).
DECIDE_MASTERED_FILTER = False


def ranker_from_arrays(arrays: Mapping[str, NDArray[Any]], prefix: str) -> Ranker:
    """The ranker stored under ``prefix`` (models written before LambdaRank hold a linear one)."""
    kind = str(arrays[f"{prefix}kind"]) if f"{prefix}kind" in arrays else "linear"
    if kind == LambdaRanker.kind:
        return LambdaRanker.from_arrays(arrays, prefix)
    if kind == LinearRanker.kind:
        return LinearRanker.from_arrays(arrays, prefix)
    if kind == BaselineRanker.kind:
        return BaselineRanker.from_arrays(arrays, prefix)
    raise ModelError(f"ranker.npz:{prefix}kind is {kind!r}; known: linear, lambdarank, baseline")


@dataclass
class Selection:
    """What :func:`select_rankers` chose, the fitted candidates and the report behind it."""

    ranker: Ranker
    cold_ranker: Ranker
    mastered_filter: bool
    report: dict[str, Any]
    candidates: dict[str, Ranker] = field(default_factory=dict)
    cold_candidates: dict[str, Ranker] = field(default_factory=dict)


def ndcg_rows(
    scores: NDArray[np.float64], allowed: NDArray[np.bool_], relevant: NDArray[np.bool_], k: int
) -> NDArray[np.float64]:
    """nDCG@k per row (binary gains) of ranking ``allowed`` items by ``scores``; NaN without truth.

    Ties are broken by column order, as in the evaluation's stable sort.
    """
    masked = np.where(allowed, scores, -np.inf)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    shown = np.take_along_axis(allowed, top, axis=1)
    hits = np.take_along_axis(relevant, top, axis=1) & shown
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: top.shape[1]]).sum(axis=1)
    n_relevant = np.minimum((relevant & allowed).sum(axis=1), k)
    ideal = np.cumsum(discounts)[np.maximum(n_relevant - 1, 0)]
    return np.where(n_relevant > 0, dcg / np.where(n_relevant > 0, ideal, 1.0), np.nan)


def _sample_query(
    positives: NDArray[np.int64],
    pool: NDArray[np.bool_],
    negatives: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Positives plus ``negatives`` other pool items drawn uniformly.

    Uniform, not "hard": the ranker is judged on the teacher's whole eligible list, and
    negatives picked by one signal (say school completions) make that signal look useless
    inside the sample while it is the strongest one over the full list (measured: LambdaRank
    fell below school popularity with half the negatives chosen that way; measured again
    with one query per kind, 200 negatives half of them the baselines' top items: nDCG@10
    0.243 against 0.251 uniform on ``quality`` seed 0, 1,000 teachers, at three times the fit
    time). One query per teacher and kind: lists are shown and judged per kind.
    """
    pool = pool.copy()
    pool[positives] = False
    candidates = np.flatnonzero(pool)
    size = min(negatives, candidates.size)
    random = rng.choice(candidates, size=size, replace=False) if size else candidates[:0]
    return np.concatenate([positives, random]).astype(np.int64)


def _choose(scores: dict[str, float], order: Sequence[str]) -> str:
    best = order[0]
    for name in order[1:]:
        if scores[name] > scores[best] + _TIE:
            best = name
    return best


def _kind_scores(
    scored: dict[str, NDArray[np.float64]],
    allowed: NDArray[np.bool_],
    relevant: NDArray[np.bool_],
    practice: NDArray[np.bool_],
) -> dict[str, list[float]]:
    """nDCG@10 per (teacher, kind) query of every score matrix: courses and tasks apart."""
    out: dict[str, list[float]] = {name: [] for name in scored}
    for of_kind in (~practice, practice):
        mask = allowed & of_kind[None, :]
        rel = relevant & of_kind[None, :]
        for name, score in scored.items():
            values = ndcg_rows(score, mask, rel, 10)
            out[name].extend(values[~np.isnan(values)].tolist())
    return out


def select_rankers(
    sample: NDArray[np.int64],
    positives: dict[int, NDArray[np.int64]],
    features: Features,
    eligible: Callable[[NDArray[np.int64]], NDArray[np.bool_]],
    took: sp.csr_matrix,
    completed: sp.csr_matrix,
    unmastered: Callable[[NDArray[np.int64]], NDArray[np.bool_]],
    practice: NDArray[np.bool_],
    negatives_per_teacher: int,
    ranker_c: float,
    random_state: int,
    num_threads: int = 1,
    ranker: str = "auto",
    refit: str = "continue",
) -> Selection:
    """Train the candidate blends on the temporal holdout, compare them with the baselines, choose.

    Parameters
    ----------
    sample
        Teacher rows with a held-out completion (keys of ``positives``), at most the fit's
        ``max_ranker_teachers``.
    positives
        Held-out item columns per teacher row.
    features, eligible, unmastered
        Signals, eligibility (environment, policy) and the mastered-points rule's verdict
        for a batch of teacher rows, computed from the events before the holdout.
    took, completed
        Inner (before the holdout) taken and completed matrices.
    practice
        Per item, whether it is a practice task (lists are compared per kind).
    ranker
        ``auto`` chooses by the check; a candidate's name (``linear_legacy``, ``linear``,
        ``lambdarank``) forces it (cold start then uses ``linear`` for ``linear_legacy``).
    refit
        After the check, refit on every sampled teacher: ``continue`` (default) only the warm
        and cold rankers that serve, a LambdaRank by boosting on from the check's trees
        (:data:`~.candidates.CONTINUE_SHARE` of its rounds), ``chosen`` the same with
        LambdaRank refitted from scratch, ``all`` every learned candidate, ``none`` nothing
        (the check's fits serve). The served model is the same under ``chosen`` and ``all``;
        ``none`` saves the two refits but learns from a quarter fewer teachers.
    """
    if ranker not in RANKER_CHOICES:
        raise ValueError(f"ranker={ranker!r}; use one of {', '.join(RANKER_CHOICES)}")
    if refit not in REFIT_CHOICES:
        raise ValueError(f"ranker_refit={refit!r}; use one of {', '.join(REFIT_CHOICES)}")
    rng = np.random.default_rng(random_state)
    names = list(SIGNALS)
    content = [names.index(s) for s in CONTENT_SIGNALS]
    order = rng.permutation(sample)
    n_check = max(1, len(order) // 4) if len(order) > 3 else 0
    check = set(order[:n_check].tolist())
    warm = {"fit": QueryRows(), "check": QueryRows()}
    cold = {"fit": QueryRows(), "check": QueryRows()}
    kept: list[tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.bool_]]] = []
    n_items = took.shape[1]
    for start in range(0, len(sample), _CHUNK):
        rows = np.asarray(sample[start : start + _CHUNK], dtype=np.int64)
        signals = features(rows)
        stacked = np.stack([signals[name] for name in names], axis=-1)
        allowed = eligible(rows)
        took_rows = np.asarray(took[rows].todense()) > 0
        for i, row in enumerate(rows.tolist()):
            part = "check" if row in check else "fit"
            # one query per teacher and kind: lists are shown (and judged) per kind
            for of_kind in (~practice, practice):
                held = positives[row][of_kind[positives[row]]]
                if held.size == 0:
                    continue
                pool = allowed[i] & ~took_rows[i] & of_kind
                query = _sample_query(held, pool, negatives_per_teacher, rng)
                labels = np.isin(query, held).astype(np.int8)
                if labels.all():
                    continue
                warm[part].add(stacked[i, query], labels)
                # cold start learns from the same held-out completions on content signals
                # only: her earlier completions are evidence in the diagnosis, so as
                # positives they would teach "items on mastered points" (a cold teacher has
                # no such evidence)
                cold[part].add(stacked[i, query][:, content], labels)
        in_check = np.array([r in check for r in rows.tolist()], dtype=bool)
        if in_check.any():
            kept.append((rows[in_check], stacked[in_check], allowed[in_check]))

    threads = num_threads
    warm_fit = fit_candidates(warm["fit"], names, WARM_CANDIDATES, ranker_c, random_state, threads)
    cold_names = list(CONTENT_SIGNALS)
    cold_fit = fit_candidates(
        cold["fit"], cold_names, COLD_CANDIDATES, ranker_c, random_state, threads
    )
    warm_scores: dict[str, list[float]] = {}
    cold_scores: dict[str, list[float]] = {}
    filtered: dict[str, list[float]] = {}
    for rows, stacked, allowed in kept:
        signals = {name: stacked[..., j] for j, name in enumerate(names)}
        took_rows = np.asarray(took[rows].todense()) > 0
        relevant = np.zeros((len(rows), n_items), dtype=bool)
        for i, row in enumerate(rows.tolist()):
            relevant[i, positives[row]] = True
        base_allowed = allowed & ~took_rows
        scored = {
            name: scores_where(model, signals, base_allowed) for name, model in warm_fit.items()
        }
        baselines = {
            base: tie_broken(signals[signal], signals["popularity"])
            for base, signal in BASELINE_SIGNALS.items()
        }
        scored.update(baselines)
        for name, values in _kind_scores(scored, base_allowed, relevant, practice).items():
            warm_scores.setdefault(name, []).extend(values)
        gate = unmastered(rows)
        for name, values in _kind_scores(
            {n: scored[n] for n in warm_fit}, base_allowed & gate, relevant, practice
        ).items():
            filtered.setdefault(name, []).extend(values)
        cold_signals = {name: signals[name] for name in cold_names}
        cold_scored = {
            name: scores_where(model, cold_signals, base_allowed)
            for name, model in cold_fit.items()
        }
        cold_scored.update(baselines)
        for name, values in _kind_scores(cold_scored, base_allowed, relevant, practice).items():
            cold_scores.setdefault(name, []).extend(values)

    def mean(values: dict[str, list[float]]) -> dict[str, float]:
        return {name: round(float(np.mean(v)), 4) if v else 0.0 for name, v in values.items()}

    warm_mean, cold_mean, filtered_mean = mean(warm_scores), mean(cold_scores), mean(filtered)
    chosen = _choose(warm_mean, WARM_CANDIDATES) if kept else "lambdarank"
    cold_chosen = _choose(cold_mean, COLD_CANDIDATES) if kept else "lambdarank"
    # A baseline that beats every learned blend on the check serves instead (the fallback):
    # the selection must pick what is best on held-out data, not what is learned.
    best_warm = best_baseline(warm_mean)
    best_cold = best_baseline(cold_mean)
    if kept and warm_mean[best_warm] > warm_mean[chosen] + _TIE:
        chosen = "baseline"
    if kept and cold_mean[best_cold] > cold_mean[cold_chosen] + _TIE:
        cold_chosen = "baseline"
    if ranker != "auto":
        chosen = ranker
        cold_chosen = "linear" if ranker == "linear_legacy" else ranker
    warm_mean["baseline"] = warm_mean.get(best_warm, 0.0)
    cold_mean["baseline"] = cold_mean.get(best_cold, 0.0)
    # The mastered-points rule is measured on the check and reported, but in ``auto`` it is
    # not applied: on every simulator family its check gain turned into a loss on the later
    # completions of ``nengli evaluate`` (docs/recommender.md), while ``max_gap`` and
    # ``gap_coverage`` already let the ranker weigh mastered points. ``mastered_filter=True``
    # (the estimator's setting) still applies it.
    use_filter = (
        DECIDE_MASTERED_FILTER
        and bool(kept)
        and chosen != "baseline"
        and filtered_mean.get(chosen, 0.0) > warm_mean[chosen] + _TIE
    )
    report = selection_report(
        warm_mean, cold_mean, filtered_mean, chosen, cold_chosen, use_filter, len(check),
        len(sample),
    )  # fmt: skip
    report["forced"] = ranker != "auto"

    report["refit"] = refit
    refit_needed = bool(warm["check"].sizes)
    all_warm = warm["fit"].extend(warm["check"])
    all_cold = cold["fit"].extend(cold["check"])
    final = served_candidates(
        warm_fit, all_warm, names, chosen, refit, refit_needed, ranker_c, random_state, threads
    )
    final_cold = served_candidates(
        cold_fit, all_cold, cold_names, cold_chosen, refit, refit_needed, ranker_c,
        random_state, threads,
    )  # fmt: skip
    final["baseline"] = BaselineRanker(BASELINE_SIGNALS[best_warm], best_warm).fit()
    final_cold["baseline"] = BaselineRanker(BASELINE_SIGNALS[best_cold], best_cold).fit()
    report["fallback_baseline"] = best_warm
    report["cold_fallback_baseline"] = best_cold
    return Selection(
        ranker=final[chosen],
        cold_ranker=final_cold[cold_chosen],
        mastered_filter=use_filter,
        report=report,
        candidates=final,
        cold_candidates=final_cold,
    )
