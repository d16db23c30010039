"""M-step of :class:`~recommender.diagnosis.higher_order.HigherOrderDINA`.

Kept apart from the estimator so each file has one job: this one turns expected counts into
item tables and sufficient statistics into the profile prior's parameters.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit

__all__ = ["fit_prior", "initial_emission", "item_tables"]


def initial_emission(cats: NDArray[np.int64]) -> NDArray[np.float64]:
    """Start with masters leaning to the top categories (guess = slip = 0.2 for binary)."""
    table = np.zeros((len(cats), 2, int(cats.max())))
    for j, n in enumerate(cats):
        if n == 2:
            table[j, 0, :2] = (0.8, 0.2)
            table[j, 1, :2] = (0.2, 0.8)
        else:
            levels = np.arange(1, n + 1, dtype=np.float64)
            table[j, 1, :n] = levels / levels.sum()
            table[j, 0, :n] = levels[::-1] / levels.sum()
    return table


def item_tables(
    codes: NDArray[np.int8], eta: NDArray[np.float64], cats: NDArray[np.int64], smoothing: float
) -> NDArray[np.float64]:
    """P(category | eta) per item from expected counts, shape (items, 2, max categories).

    ``eta`` is each teacher's posterior probability of mastering all the item's points;
    ``smoothing`` is a Dirichlet pseudo-count on every valid category.
    """
    counts = np.zeros((codes.shape[1], 2, int(cats.max())))
    for c in range(int(cats.max())):
        hit = codes == c
        counts[:, 1, c] = (eta * hit).sum(axis=0)
        counts[:, 0, c] = ((1 - eta) * hit).sum(axis=0)
    valid = np.arange(counts.shape[2])[None, :] < cats[:, None]
    counts += smoothing * valid[:, None, :]
    return counts / counts.sum(axis=2, keepdims=True)


def fit_prior(
    node_mastery: NDArray[np.float64],
    theta_post: NDArray[np.float64],
    groups: NDArray[np.int64],
    n_groups: int,
    nodes: NDArray[np.float64],
    *,
    higher: bool,
    group_reg: float,
    start: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Maximise the expected log-prior over slopes, intercepts and peer-group offsets.

    The prior depends on a teacher only through their group, so the expectation reduces to
    sufficient statistics per (group, grid node, point) and the optimisation never touches
    individual teachers.

    Parameters
    ----------
    node_mastery
        (teachers x nodes x points) posterior mastery at each theta node.
    theta_post
        (teachers x nodes) posterior node weights.
    groups
        Peer group per teacher, -1 = unknown (gets a zero offset).
    higher
        Fit slopes and offsets (higher-order prior) or intercepts only (independent prior).
    start
        Current (slope, intercept, offset) to warm-start L-BFGS.

    Returns
    -------
    slope, intercept, offset
    """
    k = node_mastery.shape[2]
    # -1 (unknown group) is folded into an extra all-zero-offset group.
    member = np.vstack([np.eye(n_groups), np.zeros((1, n_groups))])[groups]
    member = np.hstack([member, (groups < 0)[:, None].astype(np.float64)])
    weight = member.T @ theta_post  # groups+1 x nodes
    mastered = np.einsum("ih,igk->hgk", member, theta_post[:, :, None] * node_mastery)
    n_offsets = n_groups * k if higher else 0
    scale = max(node_mastery.shape[0], 1)

    def unpack(p: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        slope = p[:k] if higher else np.zeros(k)
        intercept = p[k : 2 * k] if higher else p[:k]
        offset = p[2 * k :].reshape(n_groups, k) if higher else np.zeros((n_groups, k))
        return slope, intercept, np.vstack([offset, np.zeros((1, k))])

    def objective(p: NDArray) -> tuple[float, NDArray]:
        slope, intercept, offset = unpack(p)
        eta = offset[:, None, :] + intercept[None, None, :] + nodes[None, :, None] * slope
        value = (mastered * eta + weight[:, :, None] * log_expit(-eta)).sum()
        resid = mastered - weight[:, :, None] * expit(eta)  # groups x nodes x points
        grad = resid.sum(axis=(0, 1))
        if higher:
            grad_slope = (resid * nodes[None, :, None]).sum(axis=(0, 1))
            grad_offset = resid.sum(axis=1)[:n_groups] - group_reg * offset[:n_groups]
            value -= 0.5 * group_reg * float((offset**2).sum())
            grad = np.concatenate([grad_slope, grad, grad_offset.ravel()])
        return -value / scale, -grad / scale

    slope0, intercept0, offset0 = start
    if higher:
        x0 = np.concatenate([slope0, intercept0, offset0.ravel()])
        bounds = [(0.0, 6.0)] * k + [(-8.0, 8.0)] * k + [(-6.0, 6.0)] * n_offsets
    else:
        x0, bounds = intercept0.copy(), [(-8.0, 8.0)] * k
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    slope, intercept, offset = unpack(result.x)
    return slope.copy(), intercept.copy(), offset[:n_groups].copy()
