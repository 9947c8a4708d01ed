"""Metrics shared by the benchmarks and the capabilities.

Example:
    >>> clustering_scores(["a", "a", "b", "b"], [1, 1, 0, -1])["coverage"]
    0.75
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from csdialog.errors import ValidationError

__all__ = [
    "PairedComparison",
    "classification_scores",
    "clustering_scores",
    "expected_calibration_error",
    "hungarian_accuracy",
    "multilabel_scores",
    "paired_comparison",
]


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


def expected_calibration_error(proba: np.ndarray, true_index: Sequence[int] | np.ndarray,
                               *, n_bins: int = 15) -> float:
    """Expected calibration error of top-label confidences (equal-width bins).

    Example:
        >>> expected_calibration_error(np.array([[0.9, 0.1], [0.6, 0.4]]), [0, 1])
        0.35
    """
    P = np.asarray(proba, dtype=np.float64)
    y = np.asarray(true_index)
    if P.ndim != 2 or len(P) != len(y):
        raise ValidationError(f"proba must be (n, k) with n = {len(y)}, got {P.shape}")
    conf, pred = P.max(axis=1), P.argmax(axis=1)
    correct = (pred == y).astype(np.float64)
    bins = np.minimum((conf * n_bins).astype(np.int64), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return round(float(ece), 6)


def classification_scores(
    true: Sequence[str], pred: Sequence[str], *, oos_label: str | None = None
) -> dict[str, float]:
    """Accuracy and macro-F1; with ``oos_label``, also in-scope accuracy and the
    out-of-scope recall, precision and F1 (the CLINC150 protocol).

    Example:
        >>> classification_scores(["a", "b", "oos"], ["a", "oos", "oos"], oos_label="oos")["oos_recall"]
        1.0
    """
    from sklearn.metrics import f1_score

    t = np.asarray([str(x) for x in true], dtype=object)
    p = np.asarray([str(x) for x in pred], dtype=object)
    if len(t) != len(p) or not len(t):
        raise ValidationError(f"{len(t)} gold labels but {len(p)} predictions (need n > 0)")
    out = {"accuracy": float((t == p).mean()),
           "macro_f1": float(f1_score(t, p, average="macro", zero_division=0))}
    if oos_label is not None:
        ins, oos, said = t != oos_label, t == oos_label, p == oos_label
        out["in_scope_accuracy"] = float((t[ins] == p[ins]).mean()) if ins.any() else float("nan")
        rec = float(said[oos].mean()) if oos.any() else float("nan")
        prec = float(oos[said].mean()) if said.any() else 0.0
        out["oos_recall"], out["oos_precision"] = rec, prec
        out["oos_f1"] = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return out


def multilabel_scores(true: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro-F1, macro-F1 (over labels seen in ``true`` or ``pred``) and exact match.

    Example:
        >>> multilabel_scores([("a", "b"), ()], [("a",), ()])["micro_f1"]
        0.666667
    """
    if len(true) != len(pred):
        raise ValidationError(f"{len(true)} gold label sets but {len(pred)} predictions")
    labels = sorted({x for row in (*true, *pred) for x in row})
    tp = dict.fromkeys(labels, 0)
    fp = dict.fromkeys(labels, 0)
    fn = dict.fromkeys(labels, 0)
    exact = 0
    for t_row, p_row in zip(true, pred, strict=True):
        ts, ps = set(t_row), set(p_row)
        exact += ts == ps
        for x in ts & ps:
            tp[x] += 1
        for x in ps - ts:
            fp[x] += 1
        for x in ts - ps:
            fn[x] += 1
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro = 2 * TP / (2 * TP + FP + FN) if TP + FP + FN else 1.0
    per = [2 * tp[x] / (2 * tp[x] + fp[x] + fn[x]) for x in labels if tp[x] + fp[x] + fn[x]]
    return {"micro_f1": round(micro, 6), "macro_f1": round(float(np.mean(per)) if per else 1.0, 6),
            "exact_match": round(exact / max(1, len(true)), 6)}


_BOOT_BLOCK = 1 << 22  # bootstrap indices drawn at a time by paired_comparison


@dataclass(frozen=True)
class PairedComparison:
    """Two models' decisions on the same items (see :func:`paired_comparison`).

    ``a_only`` / ``b_only``: items only model A / only model B gets right (the discordant
    pairs); ``p_value``: exact two-sided McNemar test on them (1.0 when there are none);
    ``diff`` = ``accuracy_b - accuracy_a`` and ``diff_ci``: its paired bootstrap 95% interval.
    """

    n: int
    accuracy_a: float
    accuracy_b: float
    diff: float
    diff_ci: tuple[float, float]
    a_only: int
    b_only: int
    p_value: float


def paired_comparison(correct_a: Sequence[bool] | np.ndarray, correct_b: Sequence[bool] | np.ndarray,
                      *, n_boot: int = 2000, seed: int = 0) -> PairedComparison:
    """Compare two models item by item: ``correct_a[i]`` / ``correct_b[i]`` say whether model
    A / B decided item ``i`` right (for a false-flag count, "right" is "not flagged").

    Example:
        >>> r = paired_comparison([True, True, False, False], [True, True, True, True])
        >>> (r.b_only, r.a_only, r.diff, r.p_value)
        (2, 0, 0.5, 0.5)
    """
    a = np.asarray(correct_a, dtype=bool).ravel()
    b = np.asarray(correct_b, dtype=bool).ravel()
    if len(a) != len(b) or not len(a):
        raise ValidationError(f"{len(a)} decision(s) of model A but {len(b)} of model B: pass one "
                              "boolean per item for each model, same items, same order (n > 0)")
    if n_boot < 1:
        raise ValidationError(f"n_boot={n_boot}: need at least 1 bootstrap resample")
    from scipy.stats import binomtest

    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    p = 1.0 if a_only + b_only == 0 else float(
        binomtest(b_only, a_only + b_only, 0.5, alternative="two-sided").pvalue)
    d = b.astype(np.int8) - a.astype(np.int8)
    rng = np.random.default_rng(seed)
    # resamples drawn in blocks of rows (same numbers as one draw): memory stays bounded
    # for large evaluation sets instead of n_boot x n indices at once
    rows = max(1, _BOOT_BLOCK // len(d))
    boots = np.concatenate([d[rng.integers(0, len(d), size=(min(rows, n_boot - i), len(d)))]
                            .mean(axis=1) for i in range(0, n_boot, rows)])
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return PairedComparison(n=len(a), accuracy_a=round(float(a.mean()), 6),
                            accuracy_b=round(float(b.mean()), 6), diff=round(float(d.mean()), 6),
                            diff_ci=(round(float(lo), 6), round(float(hi), 6)),
                            a_only=a_only, b_only=b_only, p_value=round(min(1.0, p), 6))
