"""Scorers: how likely a reply answers a question (optionally with its expected logic).

A scorer is any object with ``score(questions, replies, logics) -> np.ndarray`` of
probabilities in ``[0, 1]`` (``logics[i]`` is the expected :class:`AnswerLogic` or
``None``). Three come with csdialog:

- :class:`SimilarityScorer` (default): a small logistic model over encoder-independent
  evidence (cosine of question and reply, cosine of reply and expected answer, the
  question -> answer-type agreement, required keywords). Its weights were fitted on the
  CrossWOZ / MultiWOZ validation splits (``benchmarks/bench_answers.py --fit-defaults``);
  call :meth:`SimilarityScorer.fit` to refit them on your own labels.
- :class:`PairClassifierScorer`: the same evidence plus the question/reply embedding
  interactions, trained on your labelled pairs (a logistic regression, averaged with
  boosted trees over the evidence when there is enough data); saved as JSON + safetensors.
- :class:`CrossEncoderScorer`: question and reply read together by one transformer,
  fine-tuned on your labelled pairs (:meth:`CrossEncoderScorer.fit`, e5-small by default)
  or a sentence-transformers ``CrossEncoder`` folder of yours.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from csdialog.answers.logic import AnswerLogic
from csdialog.answers.types import (
    ANSWER_TYPES,
    EXPECTED_ANSWERS,
    QUESTION_TYPES,
    VALUE_KINDS,
    answer_types,
    question_type,
    value_kinds,
)
from csdialog.encoders import Encoder, get_encoder
from csdialog.errors import ModelFolderError, NotFittedError, ValidationError

__all__ = [
    "BASE_FEATURES",
    "CrossEncoderScorer",
    "PairClassifierScorer",
    "PairScorer",
    "SimilarityScorer",
    "load_scorer",
    "pair_features",
]


@runtime_checkable
class PairScorer(Protocol):
    """Anything that scores (question, reply, expected logic) triples in ``[0, 1]``."""

    def score(
        self, questions: Sequence[str], replies: Sequence[str],
        logics: Sequence[AnswerLogic | None] | None = None,
    ) -> np.ndarray: ...


BASE_FEATURES: tuple[str, ...] = (
    "cos_question_reply",
    "cos_reply_logic",
    "has_logic",
    "type_agrees",
    "type_disagrees",
    "keywords_missing",
    "n_answer_types",
    "reply_chars_log",
    "reply_asks_back",
)


def _check_lists(
    questions: object, replies: object, logics: object
) -> tuple[list[str], list[str], list[AnswerLogic | None]]:
    if isinstance(questions, str) or isinstance(replies, str):
        raise ValidationError(
            "score() takes lists of questions and replies, not single strings; wrap them: [q], [r]"
        )
    qs = [str(q) for q in questions]  # type: ignore[attr-defined]
    rs = [str(r) for r in replies]  # type: ignore[attr-defined]
    lg: list[AnswerLogic | None] = [None] * len(qs) if logics is None else list(logics)  # type: ignore[call-overload]
    if not len(qs) == len(rs) == len(lg):
        raise ValidationError(
            f"questions, replies and logics must have the same length, got {len(qs)}, {len(rs)}, {len(lg)}"
        )
    return qs, rs, lg


def pair_features(
    encoder: Encoder, questions: Sequence[str], replies: Sequence[str],
    logics: Sequence[AnswerLogic | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evidence for each (question, reply, logic): ``(base, q_vectors, r_vectors)``.

    ``base`` has one column per :data:`BASE_FEATURES` name; the vectors are the encoder's
    (L2-normalised) embeddings, for scorers that use the interactions.
    """
    qs, rs, lg = _check_lists(questions, replies, logics)
    n = len(qs)
    texts = list(dict.fromkeys([*qs, *rs, *(x.answer for x in lg if x is not None)]))
    vecs = encoder.encode(texts) if texts else np.zeros((0, encoder.dim), np.float32)
    index = {t: i for i, t in enumerate(texts)}
    Q = vecs[[index[q] for q in qs]] if n else np.zeros((0, encoder.dim), np.float32)
    R = vecs[[index[r] for r in rs]] if n else np.zeros((0, encoder.dim), np.float32)
    base = np.zeros((n, len(BASE_FEATURES)), dtype=np.float64)
    for i in range(n):
        found = answer_types(rs[i])
        qtype = question_type(qs[i])
        logic = lg[i]
        expected = set(EXPECTED_ANSWERS[qtype]) if qtype is not None else set()
        if logic is not None and logic.answer_type is not None:
            expected = {logic.answer_type}
        agrees = bool(expected & found) if expected else None
        base[i, 0] = float(Q[i] @ R[i])
        if logic is not None:
            base[i, 1] = float(vecs[index[logic.answer]] @ R[i])
            base[i, 2] = 1.0
            base[i, 5] = float(len(logic.missing_keywords(rs[i])) > 0)
        base[i, 3] = float(agrees is True)
        base[i, 4] = float(agrees is False)
        base[i, 6] = float(len(found - {"asks_back"}))
        base[i, 7] = float(np.log1p(len(rs[i])))
        base[i, 8] = float("asks_back" in found)
    return base, Q, R


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
    return out


# Fitted with `python benchmarks/bench_answers.py --fit-defaults` on the validation splits of
# CrossWOZ, MultiWOZ-zh and MultiWOZ 2.1 (e5-small); order = BASE_FEATURES, then the bias.
DEFAULT_WEIGHTS: dict[str, tuple[float, ...]] = {
    "e5-small": (24.744, 10.364, -9.104, 1.23, -0.392, -3.0, -0.163, 0.248, -0.17, -22.552),
}
_FALLBACK_WEIGHTS = DEFAULT_WEIGHTS["e5-small"]


class SimilarityScorer:
    """Logistic combination of the encoder-independent evidence (:data:`BASE_FEATURES`).

    Args:
        encoder: encoder name or object (default: the offline default).
        weights: one weight per feature then the bias; default: the shipped weights for
            the encoder (see :data:`DEFAULT_WEIGHTS`), else those of ``e5-small``.

    Example:
        >>> from csdialog.encoders import HashingEncoder
        >>> s = SimilarityScorer(HashingEncoder(dim=64))
        >>> p = s.score(["快递什么时候到?"], ["预计明天下午送达"])
        >>> p.shape, bool(0 <= p[0] <= 1)
        ((1,), True)
    """

    def __init__(
        self, encoder: str | Encoder | None = None, *, weights: Sequence[float] | None = None
    ) -> None:
        self.encoder = get_encoder(encoder)
        name = getattr(self.encoder, "name", "")
        w = tuple(weights) if weights is not None else DEFAULT_WEIGHTS.get(name, _FALLBACK_WEIGHTS)
        if len(w) != len(BASE_FEATURES) + 1:
            raise ValidationError(
                f"weights needs {len(BASE_FEATURES) + 1} numbers (one per feature in "
                f"{list(BASE_FEATURES)}, then the bias), got {len(w)}"
            )
        self.weights = np.asarray(w, dtype=np.float64)

    def score(
        self, questions: Sequence[str], replies: Sequence[str],
        logics: Sequence[AnswerLogic | None] | None = None,
    ) -> np.ndarray:
        base, _, _ = pair_features(self.encoder, questions, replies, logics)
        return _sigmoid(base @ self.weights[:-1] + self.weights[-1])

    def fit(
        self, questions: Sequence[str], replies: Sequence[str], labels: Sequence[bool],
        logics: Sequence[AnswerLogic | None] | None = None, *, C: float = 1.0,
    ) -> SimilarityScorer:
        """Refit the weights on labelled pairs (``labels[i]``: did the reply answer?)."""
        from sklearn.linear_model import LogisticRegression

        base, _, _ = pair_features(self.encoder, questions, replies, logics)
        y = _check_labels(labels, len(base))
        lr = LogisticRegression(C=C, max_iter=1000).fit(base, y)
        self.weights = np.concatenate([lr.coef_[0], lr.intercept_]).astype(np.float64)
        return self


def _check_labels(labels: Sequence[bool], n: int) -> np.ndarray:
    y = np.asarray([bool(v) for v in labels], dtype=np.int64)
    if len(y) != n:
        raise ValidationError(f"labels must have one entry per pair: {n} pairs, {len(y)} labels")
    if len(set(y.tolist())) < 2:
        raise ValidationError("labels must contain both answered (True) and unanswered (False) pairs")
    return y


_PCS_FORMAT = "csdialog.PairClassifierScorer"
# v2: the design gained the reply's value kinds and their product with the question vector;
# v3: the kinds of value the question names and how many of them the reply covers;
# v4: the boosted trees over the evidence (``boost``); v3 folders still load (no trees).
_PCS_VERSION = 4
_PCS_READS = (3, 4)

# The booster (chosen on a dialogue-grouped 3-fold split of the CrossWOZ / MultiWOZ
# validation pairs among 5 settings): gradient-boosted trees over the evidence columns and
# the linear model's out-of-fold probability; it needs this much data to be fitted.
_BOOST_PARAMS: dict[str, Any] = {"max_iter": 400, "learning_rate": 0.03, "max_leaf_nodes": 7,
                                 "min_samples_leaf": 40, "random_state": 0}
_BOOST_MIN_PAIRS = 200
_BOOST_MIN_PER_LABEL = 20
_BOOST_FOLDS = 3


class _Trees:
    """Gradient-boosted regression trees for a binary classifier, as flat arrays (saved in
    safetensors, evaluated with numpy: no pickle, no scikit-learn needed to score).
    Exported from a fitted ``HistGradientBoostingClassifier`` (numerical features)."""

    FIELDS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value")

    def __init__(self, arrays: dict[str, np.ndarray], roots: np.ndarray, baseline: float) -> None:
        self.arrays = arrays
        self.roots = roots
        self.baseline = baseline

    @classmethod
    def from_sklearn(cls, model: Any) -> _Trees:
        parts: dict[str, list[np.ndarray]] = {f: [] for f in cls.FIELDS}
        roots, offset = [], 0
        for (predictor,) in model._predictors:  # one tree per iteration (binary)
            nodes = predictor.nodes
            roots.append(offset)
            parts["feature"].append(nodes["feature_idx"].astype(np.int32))
            parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
            parts["missing_left"].append(nodes["missing_go_to_left"].astype(np.uint8))
            parts["left"].append(nodes["left"].astype(np.int32) + offset)
            parts["right"].append(nodes["right"].astype(np.int32) + offset)
            parts["leaf"].append(nodes["is_leaf"].astype(np.uint8))
            parts["value"].append(nodes["value"].astype(np.float64))
            if nodes["is_categorical"].any():
                raise ValidationError("the booster has categorical splits, which _Trees cannot export")
            offset += len(nodes)
        arrays = {f: np.concatenate(v) for f, v in parts.items()}
        return cls(arrays, np.asarray(roots, dtype=np.int32),
                   float(np.ravel(model._baseline_prediction)[0]))

    def proba(self, Z: np.ndarray, *, block: int = 4096) -> np.ndarray:
        """Probabilities for the rows of ``Z``, ``block`` rows at a time (the traversal
        holds a rows x trees array of node ids)."""
        if len(Z) > block:
            return np.concatenate([self.proba(Z[i:i + block], block=block)
                                   for i in range(0, len(Z), block)])
        a = self.arrays
        node = np.broadcast_to(self.roots, (len(Z), len(self.roots))).copy()
        rows = np.arange(len(Z))[:, None]
        while True:
            inner = a["leaf"][node] == 0
            if not inner.any():
                break
            x = Z[rows, a["feature"][node]]
            go_left = np.where(np.isnan(x), a["missing_left"][node] == 1, x <= a["threshold"][node])
            node = np.where(inner, np.where(go_left, a["left"][node], a["right"][node]), node)
        raw = self.baseline + a["value"][node].sum(axis=1)
        return _sigmoid(raw)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f"boost_{k}": v for k, v in {**self.arrays, "roots": self.roots}.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], baseline: float) -> _Trees:
        return cls({f: arrays[f"boost_{f}"] for f in cls.FIELDS}, arrays["boost_roots"], baseline)


#: Kinds of value a question can name ("the phone number and the postcode?"): every value
#: kind but the reply forms (asks back, yes / no, nothing found, a count).
_ASKABLE: tuple[str, ...] = tuple(k for k in VALUE_KINDS
                                  if k not in ("asks_back", "yes_no", "none_found", "count"))


def _coverage(questions: Sequence[str], reply_kinds: np.ndarray) -> np.ndarray:
    """Which kinds of value each question names, which of those its reply carries, and
    how many it names, misses and the share it covers: a reply that gives the phone but
    not the postcode asked for answers in part (the linear model cannot form that "and"
    from the kinds alone)."""
    n, k = len(questions), len(_ASKABLE)
    cols = [VALUE_KINDS.index(a) for a in _ASKABLE]
    asked = np.zeros((n, k))
    for i, q in enumerate(questions):
        named = value_kinds(q)
        asked[i] = [float(a in named) for a in _ASKABLE]
    given = asked * reply_kinds[:, cols]
    n_asked, n_given = asked.sum(axis=1), given.sum(axis=1)
    share = np.where(n_asked > 0, n_given / np.maximum(n_asked, 1.0), 1.0)
    return np.hstack([asked, given, np.stack([n_asked, n_asked - n_given, share], axis=1)])


class PairClassifierScorer:
    """A trained pair classifier: logistic regression over :data:`BASE_FEATURES`, the
    question and answer types, the embedding interactions ``q * r`` and ``|q - r|``, the
    kinds of value the reply carries (:data:`~csdialog.answers.types.VALUE_KINDS`) and
    their outer product with the question embedding (``q ⊗ kinds``), which lets the model
    learn which kinds of value each kind of question needs (a phone number for "what is
    their phone?", a reference for "can I get the reference?"), and the kinds the question
    names with how many of them the reply covers (a phone given, the postcode asked for
    missing: answered in part).

    Args:
        encoder: encoder name or object (default: the offline default).
        C: inverse regularisation strength (0.003 was best on a dialogue-grouped held-out
            part of the CrossWOZ / MultiWOZ validation splits with e5-small).
        boost: also fit gradient-boosted trees (scikit-learn's histogram boosting, 400
            shallow trees) over the hand-made evidence columns and the linear model's
            out-of-fold probability, and score with the mean of the two probabilities: the
            trees can form the "and"s a linear model cannot ("a postcode was asked for,
            the reply asks something back, and carries no postcode"). Fitted only on at
            least 200 pairs with 20 of each label (``boosted_`` says whether it was). On
            the dialogue-grouped split of the validation pairs it raised natural-pair AUC
            on all three data sets (see docs/answers.md).
        evidence_weight: the few hand-made evidence columns (the :data:`BASE_FEATURES`,
            types, value kinds and coverage) are multiplied by this after standardisation,
            so the penalty shrinks them less than the thousands of embedding-interaction
            columns (on the same held-out split, 2 gave natural-pair AUC +0.004 to +0.018
            over 1 on every set; 3 was higher on two sets and lower on one; 1 treats
            every column alike).

    Example:
        >>> from csdialog.encoders import HashingEncoder
        >>> s = PairClassifierScorer(HashingEncoder(dim=32)).fit(
        ...     ["多少钱?", "多少钱?", "几点到?", "几点到?"],
        ...     ["一共99元", "您好", "下午3点到", "亲亲"], [True, False, True, False])
        >>> s.score(["多少钱?"], ["一共99元"]).round(2).shape
        (1,)
    """

    def __init__(self, encoder: str | Encoder | None = None, *, C: float = 0.003,
                 evidence_weight: float = 2.0, boost: bool = True) -> None:
        if isinstance(evidence_weight, bool) or not (
                isinstance(evidence_weight, int | float) and 0 < evidence_weight < float("inf")):
            raise ValidationError(
                f"evidence_weight must be a finite number > 0 (1: every column alike), got "
                f"{evidence_weight!r}")
        self.encoder = get_encoder(encoder)
        self.C = C
        self.evidence_weight = float(evidence_weight)
        self.coef_: np.ndarray | None = None
        self.intercept_: float = 0.0
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        if not isinstance(boost, bool):
            raise ValidationError(f"boost must be True or False, got {boost!r}")
        self.boost = boost
        self.trees_: _Trees | None = None

    @property
    def boosted_(self) -> bool:
        """Whether the boosted trees were fitted (``boost`` and enough data)."""
        return self.trees_ is not None

    def _design(
        self, questions: Sequence[str], replies: Sequence[str],
        logics: Sequence[AnswerLogic | None] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The design matrix and a mask of its hand-made evidence columns (the rest are
        embedding interactions)."""
        base, Q, R = pair_features(self.encoder, questions, replies, logics)
        qt = np.zeros((len(base), len(QUESTION_TYPES) + 1))
        at = np.zeros((len(base), len(ANSWER_TYPES)))
        for i, (q, r) in enumerate(zip(questions, replies, strict=True)):
            t = question_type(q)
            qt[i, QUESTION_TYPES.index(t) if t is not None else len(QUESTION_TYPES)] = 1.0
            for a in answer_types(r):
                at[i, ANSWER_TYPES.index(a)] = 1.0
        cross = (qt[:, :, None] * at[:, None, :]).reshape(len(base), -1)
        vk = np.zeros((len(base), len(VALUE_KINDS)))
        for i, r in enumerate(replies):
            for k in value_kinds(r):
                vk[i, VALUE_KINDS.index(k)] = 1.0
        q_kinds = (Q[:, :, None] * vk[:, None, :]).reshape(len(base), -1)
        blocks = [(base, True), (qt, True), (at, True), (cross, True), (Q * R, False),
                  (np.abs(Q - R), False), (vk, True), (q_kinds, False),
                  (_coverage(questions, vk), True)]
        mask = np.concatenate([np.full(b.shape[1], ev) for b, ev in blocks])
        return np.hstack([b for b, _ in blocks]), mask

    def fit(
        self, questions: Sequence[str], replies: Sequence[str], labels: Sequence[bool],
        logics: Sequence[AnswerLogic | None] | None = None, *,
        groups: Sequence[Any] | None = None,
    ) -> PairClassifierScorer:
        """Train on labelled pairs (``labels[i]``: did ``replies[i]`` answer ``questions[i]``?).

        Args:
            groups: the dialogue (or any group id) of each pair. The booster learns from
                the linear model's out-of-fold scores; with groups, a pair's fold holds
                its whole dialogue, so those scores are as honest as on new dialogues.
                Without them the folds are random (seeded).
        """
        X, evidence = self._design(questions, replies, logics)
        y = _check_labels(labels, len(X))
        if groups is not None and len(groups) != len(y):
            raise ValidationError(f"groups must have one entry per pair: {len(y)} pairs, "
                                  f"{len(groups)} groups")
        self.coef_, self.intercept_, self.mean_, self.scale_ = self._fit_linear(X, evidence, y)
        self.trees_ = None
        if self.boost and len(y) >= _BOOST_MIN_PAIRS and min(
                int(y.sum()), int(len(y) - y.sum())) >= _BOOST_MIN_PER_LABEL:
            self.trees_ = self._fit_trees(X, evidence, y, groups)
        return self

    def _fit_linear(self, X: np.ndarray, evidence: np.ndarray, y: np.ndarray
                    ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        mean = X.mean(axis=0)
        # standardised, then the evidence columns weighted (folded into the scale)
        scale = (X.std(axis=0) + 1e-6) / np.where(evidence, self.evidence_weight, 1.0)
        lr = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced")
        lr.fit((X - mean) / scale, y)
        return lr.coef_[0].astype(np.float64), float(lr.intercept_[0]), mean, scale

    def _fit_trees(self, X: np.ndarray, evidence: np.ndarray, y: np.ndarray,
                   groups: Sequence[Any] | None) -> _Trees:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.model_selection import GroupKFold, StratifiedKFold

        if groups is not None and len(set(groups)) >= _BOOST_FOLDS:
            codes = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)[1]
            splits = list(GroupKFold(n_splits=_BOOST_FOLDS).split(X, y, codes))
        else:
            splits = list(StratifiedKFold(n_splits=_BOOST_FOLDS, shuffle=True,
                                          random_state=0).split(X, y))
        oof = np.zeros(len(y))
        for tr, te in splits:
            if len(set(y[tr].tolist())) < 2:  # a fold without one label: no honest score
                oof[te] = float(y[tr].mean())
                continue
            coef, b, mean, scale = self._fit_linear(X[tr], evidence, y[tr])
            oof[te] = _sigmoid(((X[te] - mean) / scale) @ coef + b)
        booster = HistGradientBoostingClassifier(**_BOOST_PARAMS)
        booster.fit(np.hstack([X[:, evidence], oof[:, None]]), y)
        return _Trees.from_sklearn(booster)

    def score(
        self, questions: Sequence[str], replies: Sequence[str],
        logics: Sequence[AnswerLogic | None] | None = None,
    ) -> np.ndarray:
        if self.coef_ is None or self.mean_ is None or self.scale_ is None:
            raise NotFittedError(
                "this PairClassifierScorer is not trained yet; call fit(questions, replies, labels) first"
            )
        X, evidence = self._design(questions, replies, logics)
        p = _sigmoid(((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_)
        if self.trees_ is None:
            return p
        out: np.ndarray = (p + self.trees_.proba(np.hstack([X[:, evidence], p[:, None]]))) / 2.0
        return out

    def save_pretrained(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` and ``arrays.safetensors`` (no pickle)."""
        if self.coef_ is None or self.mean_ is None or self.scale_ is None:
            raise NotFittedError("fit the scorer before saving it")
        from csdialog._folder import write_folder

        config = {"encoder": getattr(self.encoder, "name", "custom"), "C": self.C,
                  "evidence_weight": self.evidence_weight, "boost": self.boost,
                  "boosted": self.trees_ is not None,
                  "boost_baseline": None if self.trees_ is None else self.trees_.baseline,
                  "intercept": self.intercept_, "dim": int(self.encoder.dim),
                  "value_kinds": list(VALUE_KINDS)}
        arrays = {"coef": self.coef_, "mean": self.mean_, "scale": self.scale_,
                  **({} if self.trees_ is None else self.trees_.to_arrays())}
        return write_folder(folder, fmt=_PCS_FORMAT, version=_PCS_VERSION, config=config,
                            arrays=arrays)

    @classmethod
    def from_pretrained(
        cls, folder: str | os.PathLike[str], *, encoder: str | Encoder | None = None
    ) -> PairClassifierScorer:
        from csdialog._folder import read_folder

        config, arrays = read_folder(folder, fmt=_PCS_FORMAT, version=_PCS_READS)
        enc = encoder if encoder is not None else config["encoder"]
        self = cls(enc, C=float(config["C"]),
                   evidence_weight=float(config["evidence_weight"]),
                   boost=bool(config.get("boost", False)))  # v3: no trees
        if int(self.encoder.dim) != int(config["dim"]):
            raise ModelFolderError(
                f"{str(folder)!r} was trained with a {config['dim']}-d encoder "
                f"({config['encoder']!r}); the encoder given has {self.encoder.dim} dims"
            )
        if list(config.get("value_kinds", [])) != list(VALUE_KINDS):
            raise ModelFolderError(
                f"{str(folder)!r} was trained with the value kinds {config.get('value_kinds')}; "
                f"this csdialog has {list(VALUE_KINDS)}: retrain the scorer with this version"
            )
        self.coef_, self.mean_, self.scale_ = arrays["coef"], arrays["mean"], arrays["scale"]
        self.intercept_ = float(config["intercept"])
        if config.get("boosted"):
            missing = [f for f in (*_Trees.FIELDS, "roots") if f"boost_{f}" not in arrays]
            if missing or config.get("boost_baseline") is None:
                raise ModelFolderError(
                    f"{str(folder)!r} says it has boosted trees but lacks {missing or ['boost_baseline']}; "
                    "the folder is damaged, save it again")
            self.trees_ = _Trees.from_arrays(arrays, float(config["boost_baseline"]))
        return self


_CE_FORMAT = "csdialog.CrossEncoderScorer"
_CE_VERSION = 1


class CrossEncoderScorer:
    """Score pairs with a cross-encoder: the question (and the expected answer, when a
    logic is given) and the reply read together by one transformer.

    Two kinds of model:

    * trained by csdialog on your labelled pairs with :meth:`fit` (from the offline
      ``e5-small`` or any Hugging Face encoder; CPU is enough), saved with
      :meth:`save_pretrained` and loaded with :meth:`from_pretrained` or by passing the
      folder;
    * a sentence-transformers ``CrossEncoder`` folder of your own (``pip install
      "csdialog[st]"``; a local folder, csdialog never downloads models).

    The first text is the question, joined with the logic's expected answer when there is
    one; the second is the reply. Logits are squashed with a sigmoid. Folders holding only
    pickled weights are refused unless ``allow_pickle=True`` (unpickling can run code).

    Args:
        model: a folder (saved by :meth:`save_pretrained`, or a sentence-transformers
            cross-encoder), a loaded object with ``predict(pairs, batch_size=...)``, or
            ``None`` for a scorer to :meth:`fit`.
        encoder: the backbone :meth:`fit` starts from (default: ``"e5-small"``).
        args: :class:`~csdialog.training.FineTuneArgs` for :meth:`fit` (default: 3 epochs
            at most, batch 16, learning rate 3e-5, 128 tokens per pair).
        batch_size: pairs per forward pass when scoring.
        allow_pickle: load a sentence-transformers folder that holds only pickled weights.

    Example (any object with ``predict(pairs, batch_size=...)`` works as the model; see
    :meth:`fit` to train one):
        >>> import numpy as np
        >>> class SameText:
        ...     def predict(self, pairs, batch_size=32):
        ...         return np.array([4.0 if a == b else -4.0 for a, b in pairs])
        >>> CrossEncoderScorer(SameText()).score(["多少钱?", "多少钱?"], ["多少钱?", "您好"]).round(3)
        array([0.982, 0.018])
    """

    def __init__(
        self, model: str | os.PathLike[str] | Any = None, *, encoder: str | Encoder | None = None,
        args: Any = None, batch_size: int = 32, allow_pickle: bool = False,
    ) -> None:
        self.allow_pickle = allow_pickle
        self.model = model
        self.encoder = encoder
        self.args = args
        self.batch_size = batch_size
        self._ce: Any = None
        self.fit_log_: Any = None

    def _load(self) -> Any:
        if self._ce is None:
            if self.model is None:
                raise NotFittedError(
                    "this CrossEncoderScorer has no model: call fit(questions, replies, labels) "
                    "or pass a folder (CrossEncoderScorer('models/answer-ce'))")
            if not isinstance(self.model, str | os.PathLike):
                self._ce = self.model
            elif _is_csdialog_folder(self.model):
                self._ce = _load_trained(self.model)
            else:
                from csdialog._optional import require

                st = require("sentence_transformers", "CrossEncoderScorer")
                if not Path(self.model).is_dir():
                    raise ModelFolderError(
                        f"CrossEncoderScorer needs a local model folder, got {str(self.model)!r} "
                        "(csdialog never downloads models)"
                    )
                if not self.allow_pickle:
                    from csdialog.encoders.backends import _refuse_pickled_weights

                    _refuse_pickled_weights(str(self.model))
                self._ce = st.CrossEncoder(
                    str(self.model), local_files_only=True, trust_remote_code=False,
                    model_kwargs=None if self.allow_pickle else {"use_safetensors": True})
        return self._ce

    @staticmethod
    def _firsts(qs: Sequence[str], lg: Sequence[AnswerLogic | None]) -> list[str]:
        return [q if x is None else f"{q} {x.answer}" for q, x in zip(qs, lg, strict=True)]

    def fit(
        self, questions: Sequence[str], replies: Sequence[str], labels: Sequence[bool],
        logics: Sequence[AnswerLogic | None] | None = None, *,
        validation: tuple[Sequence[str], Sequence[str], Sequence[bool]] | tuple[
            Sequence[str], Sequence[str], Sequence[bool], Sequence[AnswerLogic | None]] | None = None,
    ) -> CrossEncoderScorer:
        """Fine-tune ``encoder`` as a cross-encoder on labelled pairs (``labels[i]``: did
        ``replies[i]`` answer ``questions[i]``?); needs ``torch`` and ``transformers``.

        Args:
            validation: ``(questions, replies, labels[, logics])`` held out for early
                stopping on ROC-AUC (keep whole dialogues out, not single pairs).
        """
        from csdialog.training import FineTuneArgs, finetune_cross_encoder

        qs, rs, lg = _check_lists(questions, replies, logics)
        y = _check_labels(labels, len(qs))
        val = None
        if validation is not None:
            if not isinstance(validation, tuple | list) or len(validation) not in (3, 4):
                raise ValidationError(
                    "validation must be (questions, replies, labels) or (questions, replies, "
                    f"labels, logics); got {type(validation).__name__} of length "
                    f"{len(validation) if isinstance(validation, tuple | list) else '?'}")
            vq, vr, vy, *rest = validation
            vqs, vrs, vlg = _check_lists(vq, vr, rest[0] if rest else None)
            val = (self._firsts(vqs, vlg), vrs, _check_labels(vy, len(vqs)).astype(bool))
        enc = get_encoder("e5-small-torch" if self.encoder in (None, "e5-small") else self.encoder)
        args = self.args or FineTuneArgs(batch_size=16, learning_rate=3e-5, max_length=128)
        parts, log = finetune_cross_encoder(enc, self._firsts(qs, lg), rs, y.astype(bool),
                                            args=args, validation=val)
        self._ce = _TrainedCrossEncoder(parts, base=getattr(enc, "name", "custom"))
        self.model = self._ce
        self.fit_log_ = log
        return self

    def score(
        self, questions: Sequence[str], replies: Sequence[str],
        logics: Sequence[AnswerLogic | None] | None = None,
    ) -> np.ndarray:
        qs, rs, lg = _check_lists(questions, replies, logics)
        if not qs:
            return np.zeros(0)
        raw = np.asarray(self._load().predict(list(zip(self._firsts(qs, lg), rs, strict=True)),
                                              batch_size=self.batch_size), dtype=np.float64)
        if raw.ndim == 2:
            raw = raw[:, -1]
        return raw if ((raw >= 0) & (raw <= 1)).all() else _sigmoid(raw)

    def save_pretrained(self, folder: str | os.PathLike[str]) -> Path:
        """Write a model trained with :meth:`fit`: the transformer and tokenizer in
        ``encoder/`` (safetensors), the logit head in ``arrays.safetensors`` and the
        settings in ``config.json``. Scores are identical after loading."""
        ce = self._load()
        if not isinstance(ce, _TrainedCrossEncoder):
            raise ValidationError(
                "save_pretrained writes cross-encoders trained with fit(); this scorer wraps "
                f"{type(ce).__name__}, which has its own saving (e.g. CrossEncoder.save)")
        return ce.save(folder)

    @classmethod
    def from_pretrained(
        cls, folder: str | os.PathLike[str], *, batch_size: int = 32
    ) -> CrossEncoderScorer:
        """Load a folder written by :meth:`save_pretrained`."""
        self = cls(_load_trained(folder), batch_size=batch_size)
        return self


def _is_csdialog_folder(folder: str | os.PathLike[str]) -> bool:
    import json

    cfg = Path(folder) / "config.json"
    if not cfg.is_file():
        return False
    try:
        return bool(json.loads(cfg.read_text(encoding="utf-8")).get("format") == _CE_FORMAT)
    except (ValueError, OSError):
        return False


class _TrainedCrossEncoder:
    """A cross-encoder trained by :meth:`CrossEncoderScorer.fit`; ``predict`` gives
    probabilities."""

    def __init__(self, parts: Any, *, base: str) -> None:
        self.parts = parts
        self.base = base

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        firsts = [a for a, _ in pairs]
        seconds = [b for _, b in pairs]
        return _sigmoid(self.parts.logits(firsts, seconds, batch_size=batch_size))

    def save(self, folder: str | os.PathLike[str]) -> Path:
        from csdialog._folder import write_folder

        path = Path(folder)
        (path / "encoder").mkdir(parents=True, exist_ok=True)
        self.parts.model.save_pretrained(str(path / "encoder"), safe_serialization=True)
        self.parts.tokenizer.save_pretrained(str(path / "encoder"))
        config = {"name": self.parts.name, "base_encoder": self.base, "prefix": self.parts.prefix,
                  "max_length": int(self.parts.max_length), "bias": float(self.parts.bias),
                  "encoder_folder": "encoder"}
        return write_folder(path, fmt=_CE_FORMAT, version=_CE_VERSION, config=config,
                            arrays={"weight": np.asarray(self.parts.weight, np.float32)})


def _load_trained(folder: str | os.PathLike[str]) -> _TrainedCrossEncoder:
    from csdialog._folder import read_folder
    from csdialog.encoders.backends import HuggingFaceEncoder
    from csdialog.training import CrossEncoderParts

    path = Path(folder)
    config, arrays = read_folder(path, fmt=_CE_FORMAT, version=_CE_VERSION)
    enc = HuggingFaceEncoder(path / config["encoder_folder"], prefix=config["prefix"],
                             name=config["name"], backend="torch")
    model = enc._load_torch()
    weight = np.asarray(arrays["weight"], np.float32)
    if weight.shape != (int(model.config.hidden_size),):
        raise ModelFolderError(
            f"{path}: the head has {weight.shape} weights but the encoder has "
            f"{model.config.hidden_size} dims; the folder is damaged, save it again")
    parts = CrossEncoderParts(model, enc._tokenizer, config["prefix"], int(config["max_length"]),
                              weight, float(config["bias"]), enc.device or "cpu", config["name"])
    return _TrainedCrossEncoder(parts, base=config.get("base_encoder", "custom"))


def load_scorer(folder: str | os.PathLike[str], *, encoder: str | Encoder | None = None) -> PairScorer:
    """Load a scorer folder saved by :meth:`PairClassifierScorer.save_pretrained` or
    :meth:`CrossEncoderScorer.save_pretrained`, whichever it is (the ``format`` in its
    ``config.json`` says).

    Args:
        encoder: for a :class:`PairClassifierScorer`, the encoder to use instead of the
            saved name (see :meth:`PairClassifierScorer.from_pretrained`).

    Raises:
        ModelFolderError: the folder is missing or holds neither kind of scorer.

    Example:
        >>> import tempfile
        >>> from csdialog.encoders import HashingEncoder
        >>> enc = HashingEncoder(dim=32)
        >>> folder = PairClassifierScorer(enc).fit(
        ...     ["多少钱?", "多少钱?", "几点到?", "几点到?"], ["一共99元", "您好", "下午3点到", "亲亲"],
        ...     [True, False, True, False]).save_pretrained(tempfile.mkdtemp() + "/scorer")
        >>> type(load_scorer(folder, encoder=enc)).__name__
        'PairClassifierScorer'
    """
    import json

    cfg = Path(folder) / "config.json"
    if not cfg.is_file():
        raise ModelFolderError(
            f"{str(folder)!r} holds no config.json; expected a folder written by "
            "PairClassifierScorer.save_pretrained or CrossEncoderScorer.save_pretrained")
    try:
        fmt = json.loads(cfg.read_text(encoding="utf-8")).get("format")
    except (ValueError, OSError, AttributeError) as exc:
        raise ModelFolderError(f"{cfg} is not a readable JSON object: {exc}") from exc
    if fmt == _PCS_FORMAT:
        return PairClassifierScorer.from_pretrained(folder, encoder=encoder)
    if fmt == _CE_FORMAT:
        return CrossEncoderScorer.from_pretrained(folder)
    raise ModelFolderError(
        f"{cfg} has format {fmt!r}; expected {_PCS_FORMAT!r} or {_CE_FORMAT!r} (a folder written "
        "by PairClassifierScorer.save_pretrained or CrossEncoderScorer.save_pretrained)")
