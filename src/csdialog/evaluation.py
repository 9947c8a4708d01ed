"""Metrics shared by the benchmarks and the capabilities.

Example:
    >>> clustering_scores(["a", "a", "b", "b"], [1, 1, 0, -1])["coverage"]
    0.75
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from csdialog.errors import ValidationError

__all__ = ["clustering_scores", "hungarian_accuracy"]


def _as_codes(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    _, codes = np.unique(np.asarray([str(v) for v in values]), return_inverse=True)
    return np.asarray(codes, dtype=np.int64)


def hungarian_accuracy(true: Sequence[Any] | np.ndarray, pred: Sequence[Any] | np.ndarray) -> float:
    """Accuracy after the best one-to-one matching of predicted clusters to true labels
    (each true class matched to at most one cluster; unmatched points count as errors)."""
    from scipy.optimize import linear_sum_assignment

    t, p = _as_codes(true), _as_codes(pred)
    table = np.zeros((p.max() + 1, t.max() + 1), dtype=np.int64)
    np.add.at(table, (p, t), 1)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(t))


def clustering_scores(
    true: Sequence[Any] | np.ndarray, pred: Sequence[int] | np.ndarray, *, noise_label: int = -1
) -> dict[str, float]:
    """NMI, ARI, Hungarian accuracy and coverage of a clustering against gold labels.

    Points labelled ``noise_label`` are scored as one extra cluster (an honest penalty
    for leaving them out); ``coverage`` is the share of points not left as noise, and
    ``nmi_covered`` / ``ari_covered`` score the covered points only.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    pred_arr = np.asarray(pred)
    if len(true) != len(pred_arr):
        raise ValidationError(f"{len(true)} gold labels but {len(pred_arr)} predictions")
    if len(true) == 0:
        raise ValidationError("no points to score")
    covered = pred_arr != noise_label
    t = _as_codes(true)
    out = {
        "nmi": float(normalized_mutual_info_score(t, pred_arr)),
        "ari": float(adjusted_rand_score(t, pred_arr)),
        "accuracy": hungarian_accuracy(t, pred_arr),
        "coverage": float(covered.mean()),
        "n_clusters": len(set(pred_arr[covered].tolist())),
        "n_true": len(set(t.tolist())),
    }
    if covered.any():
        out["nmi_covered"] = float(normalized_mutual_info_score(t[covered], pred_arr[covered]))
        out["ari_covered"] = float(adjusted_rand_score(t[covered], pred_arr[covered]))
    return out
