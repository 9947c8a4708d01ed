"""Training code shared by the classifiers: data intake, linear heads, calibration and
fine-tuning of a transformer encoder.

* :func:`as_training_data` turns lists of examples, texts with labels, pandas frames and
  Hugging Face datasets (with column mapping) into inputs and labels.
* :class:`LinearHead` is a (multinomial or one-vs-rest) logistic-regression head with a
  calibration temperature; it predicts with numpy alone and saves as plain arrays.
* :func:`fit_temperature` calibrates probabilities on held-out logits.
* :func:`finetune_encoder` fine-tunes a Hugging Face encoder (the default e5 included) on
  labelled texts with a cosine-softmax (cross-entropy) or a supervised contrastive loss,
  in the spirit of SetFit, with early stopping on validation data; CPU or GPU.
* :func:`finetune_cross_encoder` turns such an encoder into a cross-encoder: it reads two
  texts jointly (a question and a reply) and gives one logit, trained with binary
  cross-entropy and early stopping on the validation ROC-AUC.

Example:
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32)
    >>> head = fit_linear_head(X, np.array([0, 0, 1, 1]), n_classes=2, C=10.0)
    >>> head.proba(X).argmax(axis=1).tolist()
    [0, 0, 1, 1]
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from csdialog._optional import require
from csdialog.context import ContextualText, as_inputs
from csdialog.errors import ColumnMappingError, EncoderError, ValidationError

__all__ = [
    "FineTuneArgs",
    "FineTuneLog",
    "LinearHead",
    "apply_lora",
    "as_training_data",
    "encoder_with_lora",
    "finetune_cross_encoder",
    "finetune_encoder",
    "fit_linear_head",
    "fit_temperature",
    "save_encoder_folder",
    "transformer_of",
]

Label = str | tuple[str, ...]


# ----------------------------------------------------------------------------- data intake


def _frame_to_items(
    frame: Any, text_column: str, label_column: str, context_column: str | None
) -> tuple[list[Any], list[Any]]:
    cols = [str(c) for c in frame.columns]
    for what, col in (("text_column", text_column), ("label_column", label_column),
                      ("context_column", context_column)):
        if col is not None and col not in cols:
            raise ColumnMappingError(
                f"{what}={col!r} is not a column of the table; it has {cols}. Pass "
                f"{what}='<your column>'"
            )
    texts = frame[text_column].tolist()
    labels = frame[label_column].tolist()
    if context_column is None:
        return texts, labels
    items: list[Any] = []
    for text, ctx in zip(texts, frame[context_column].tolist(), strict=True):
        if ctx is None or (isinstance(ctx, float) and math.isnan(ctx)):
            ctx = ()
        if isinstance(ctx, str):
            ctx = [{"role": "customer", "text": c} for c in ctx.split("\n") if c.strip()]
        items.append(ContextualText(text, tuple(ctx)))
    return items, labels


def as_training_data(
    X: object,
    y: Sequence[Any] | None = None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    context_column: str | None = None,
    window: int = 3,
) -> tuple[list[ContextualText], list[Label]]:
    """Inputs and labels from any supported training source.

    Args:
        X: a list of :class:`~csdialog.datasets.LabelledExample` (labels taken from them);
            a list of texts, ``(dialogue, turn_index)`` pairs or :class:`ContextualText`
            with ``y``; a pandas DataFrame or a Hugging Face ``Dataset`` with the columns
            named below.
        y: labels, when ``X`` does not carry them. A label is a string, or a tuple / list
            of strings for multi-label data.
        text_column, label_column: column names in a table.
        context_column: optional column holding the previous turns: a list of
            ``{"role", "text"}`` dicts, or one string with one turn per line.
        window: previous turns kept.

    Raises:
        ColumnMappingError: a named column is missing (the message lists the columns).
        ValidationError: labels are missing, of the wrong type or of the wrong count.
    """
    if type(X).__name__ == "DatasetDict":
        keys = list(X)  # type: ignore[call-overload]
        raise ValidationError(
            f"got a DatasetDict with splits {keys}; pass one split, e.g. dataset['train']"
        )
    if type(X).__name__ in ("Dataset", "IterableDataset") and hasattr(X, "to_pandas"):
        X = X.to_pandas()
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        if y is not None:
            raise ValidationError("a table carries its labels in label_column; don't pass y too")
        X, y = _frame_to_items(X, text_column, label_column, context_column)
    if isinstance(X, str | bytes) or not isinstance(X, Iterable):
        raise ValidationError(
            f"training data must be a list of examples, texts or a table; got "
            f"{type(X).__name__}"
        )
    items = list(X)
    if y is None:
        missing = [i for i, it in enumerate(items) if not hasattr(it, "label")]
        if missing:
            raise ValidationError(
                f"no labels: item {missing[0]} ({type(items[missing[0]]).__name__}) has no "
                f"label and y was not given. Pass fit(texts, labels) or LabelledExample items"
            )
        labels: list[Any] = [it.label for it in items]
    else:
        if isinstance(y, str) or not isinstance(y, Iterable):
            raise ValidationError(f"y must be a sequence of labels, got {type(y).__name__}")
        labels = list(y)
        if len(labels) != len(items):
            raise ValidationError(f"{len(items)} inputs but {len(labels)} labels")
    checked: list[Label] = []
    for i, lab in enumerate(labels):
        if hasattr(lab, "tolist") and not isinstance(lab, str):
            lab = lab.tolist()
        if isinstance(lab, str) and lab.strip():
            checked.append(lab)
        elif isinstance(lab, list | tuple) and all(isinstance(v, str) and v for v in lab):
            checked.append(tuple(lab))
        elif isinstance(lab, int | np.integer) and not isinstance(lab, bool):
            checked.append(str(lab))
        else:
            raise ValidationError(
                f"label {i} is {type(lab).__name__} {lab!r:.60}; labels are non-empty strings "
                f"(or tuples of strings for multi-label data)"
            )
    inputs = as_inputs(items, window=window, roles=None)
    if len(inputs) != len(checked):
        raise ValidationError(
            f"{len(checked)} labels but {len(inputs)} inputs: pass (dialogue, turn_index) "
            f"pairs rather than whole dialogues when training"
        )
    return inputs, checked


# ----------------------------------------------------------------------------- heads


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -60, 60))), dtype=np.float64)


@dataclass
class LinearHead:
    """A linear classifier over feature vectors: ``logits = X @ coef.T + intercept``.

    Multi-class heads give a softmax, multi-label heads independent sigmoids; both divide
    the logits by the calibration ``temperature`` first.
    """

    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0
    multi_label: bool = False

    def logits(self, X: np.ndarray) -> np.ndarray:
        z = np.asarray(X, dtype=np.float64) @ self.coef.T.astype(np.float64)
        return np.asarray(z + self.intercept, dtype=np.float64)

    def proba(self, X: np.ndarray) -> np.ndarray:
        z = self.logits(X) / self.temperature
        return _sigmoid(z) if self.multi_label else _softmax(z)

    def arrays(self, prefix: str = "head") -> dict[str, np.ndarray]:
        return {f"{prefix}.coef": self.coef.astype(np.float32),
                f"{prefix}.intercept": self.intercept.astype(np.float32)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], *, temperature: float,
                    multi_label: bool, prefix: str = "head") -> LinearHead:
        return cls(np.asarray(arrays[f"{prefix}.coef"], dtype=np.float32),
                   np.asarray(arrays[f"{prefix}.intercept"], dtype=np.float32),
                   float(temperature), bool(multi_label))


def fit_linear_head(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    C: float = 1.0,
    multi_label: bool = False,
    class_weight: str | None = None,
    max_iter: int = 500,
) -> LinearHead:
    """Fit an L2-regularised logistic-regression head (scikit-learn's lbfgs solver).

    Args:
        X: features ``(n, d)``.
        y: class indices ``(n,)``, or a 0/1 indicator matrix ``(n, n_classes)`` when
            ``multi_label``.
        n_classes: number of classes (columns of the head), also those absent from ``y``.
        C: inverse regularisation strength.
        class_weight: ``None`` or ``"balanced"``.
    """
    linear_model = require("sklearn", "training a classifier head").linear_model
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    coef = np.zeros((n_classes, d), dtype=np.float64)
    intercept = np.zeros(n_classes, dtype=np.float64)
    if multi_label:
        Y = np.asarray(y)
        for k in range(n_classes):
            col = Y[:, k]
            if col.min() == col.max():  # never (or always) seen: a constant logit
                intercept[k] = -8.0 if col.max() == 0 else 8.0
                continue
            lr = linear_model.LogisticRegression(C=C, max_iter=max_iter,
                                                 class_weight=class_weight)
            lr.fit(X, col)
            coef[k], intercept[k] = lr.coef_[0], lr.intercept_[0]
        return LinearHead(coef.astype(np.float32), intercept.astype(np.float32), 1.0, True)
    y = np.asarray(y, dtype=np.int64)
    present = np.unique(y)
    if len(present) < 2:
        raise ValidationError(
            f"training data has {len(present)} class; a classifier needs at least two"
        )
    lr = linear_model.LogisticRegression(C=C, max_iter=max_iter, class_weight=class_weight)
    lr.fit(X, y)
    if len(present) == 2:  # sklearn keeps one row for two classes
        coef[present[1]], intercept[present[1]] = lr.coef_[0], lr.intercept_[0]
    else:
        coef[present], intercept[present] = lr.coef_, lr.intercept_
    absent = np.setdiff1d(np.arange(n_classes), present)
    intercept[absent] = -1e4  # a class with no training data is never predicted
    return LinearHead(coef.astype(np.float32), intercept.astype(np.float32), 1.0, False)


def fit_temperature(logits: np.ndarray, y: np.ndarray, *, multi_label: bool = False) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``logits / T``.

    Args:
        logits: held-out logits ``(n, k)``.
        y: class indices ``(n,)`` or an indicator matrix ``(n, k)`` for multi-label.
    """
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=np.float64)
    if multi_label:
        Y = np.asarray(y, dtype=np.float64)

        def nll(log_t: float) -> float:
            p = np.clip(_sigmoid(z / math.exp(log_t)), 1e-12, 1 - 1e-12)
            return float(-(Y * np.log(p) + (1 - Y) * np.log(1 - p)).mean())
    else:
        idx = np.asarray(y, dtype=np.int64)

        def nll(log_t: float) -> float:
            s = z / math.exp(log_t)
            s = s - s.max(axis=1, keepdims=True)
            lse = np.log(np.exp(s).sum(axis=1))
            return float((lse - s[np.arange(len(idx)), idx]).mean())

    res = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100.0)), method="bounded")
    return float(math.exp(res.x))


# ----------------------------------------------------------------------------- fine-tuning


@dataclass(frozen=True)
class FineTuneArgs:
    """Settings of :func:`finetune_encoder`.

    Args:
        loss: ``"softmax"`` (a cosine classifier over the pooled embedding, trained with
            cross-entropy; for full data; with multi-label data, independent sigmoids with
            a bias per label and binary cross-entropy) or ``"contrastive"`` (supervised
            contrastive loss on in-batch pairs, in the spirit of SetFit; for few-shot,
            single-label data).
        epochs: passes over the training data (at most).
        batch_size: texts per step.
        learning_rate: for the encoder; the classifier uses 20x this.
        weight_decay: AdamW weight decay.
        warmup_ratio: share of the steps with a linearly rising learning rate.
        max_length: tokens per text; longer texts lose their end (a warning says how
            many when more than 1% do). With ``context_mode="text"`` the end is the turn
            being classified: set this above the longest (context, turn) text.
        freeze_embeddings: keep the (large, multilingual) token-embedding matrix frozen:
            much less memory and time, and languages absent from the training data keep
            their vectors.
        lora_rank: ``0`` trains every transformer weight; ``r > 0`` freezes them all and
            trains a rank-``r`` update ``B @ A`` of each linear layer of the transformer
            blocks instead (LoRA). The updates are merged into the weights after training
            and also returned on their own (``CrossEncoderParts.lora``, the fine-tuned
            encoder's ``lora``): for e5-small at rank 8, 0.66 M numbers (1.3 MB in
            float16) that rebuild the model from its base (:func:`apply_lora`). LoRA
            wants a higher ``learning_rate`` (about 1e-4 to 5e-4).
        lora_alpha: the updates are scaled by ``lora_alpha / lora_rank``.
        patience: stop when the validation score (accuracy; multi-label: micro-F1 at the
            best threshold) has not improved for this many epochs (needs validation
            data); the best epoch's weights are kept.
        scale: logit scale of the cosine classifier; temperature: of the contrastive loss.
        device: ``"cpu"``, ``"cuda"``...; default: CUDA when available.
        seed: random seed (data order, initialisation).
        show_progress: a progress bar per epoch.
    """

    loss: str = "softmax"
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 64
    freeze_embeddings: bool = True
    patience: int = 1
    scale: float = 20.0
    temperature: float = 0.05
    device: str | None = None
    seed: int = 0
    show_progress: bool = False
    lora_rank: int = 0
    lora_alpha: float = 16.0

    def __post_init__(self) -> None:
        if self.loss not in ("softmax", "contrastive"):
            raise ValidationError(
                f"loss must be 'softmax' or 'contrastive', got {self.loss!r}"
            )
        for name in ("epochs", "batch_size", "max_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValidationError(f"{name} must be a positive int, got {v!r}")
        if self.batch_size < 4 and self.loss == "contrastive":
            raise ValidationError("the contrastive loss needs batch_size >= 4")
        if isinstance(self.lora_rank, bool) or not isinstance(self.lora_rank, int) \
                or self.lora_rank < 0:
            raise ValidationError(
                f"lora_rank must be an int >= 0 (0: no LoRA), got {self.lora_rank!r}")
        if not self.lora_alpha > 0:
            raise ValidationError(f"lora_alpha must be > 0, got {self.lora_alpha!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FineTuneLog:
    """What happened during fine-tuning: per-epoch loss and validation score
    (``val_accuracy``; multi-label: ``val_micro_f1``)."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0


class _Pooler:
    """Mean pooling over a Hugging Face model; shared by training and the encoder."""

    def __init__(self, model: Any, tokenizer: Any, prefix: str, max_length: int,
                 device: str) -> None:
        self.model, self.tokenizer, self.prefix = model, tokenizer, prefix
        self.max_length, self.device = max_length, device

    def __call__(self, texts: Sequence[str]) -> Any:
        import torch

        batch = self.tokenizer([self.prefix + t for t in texts], padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt").to(self.device)
        from csdialog.encoders.backends import mean_pool

        hidden = self.model(**batch).last_hidden_state
        pooled = mean_pool(hidden, batch["attention_mask"])
        return torch.nn.functional.normalize(pooled, dim=-1)


def transformer_of(encoder: Any) -> Any:
    """The Hugging Face encoder inside ``encoder`` (through caching wrappers, which keep
    the wrapped encoder as ``.encoder``), or ``None`` when there is none."""
    from csdialog.encoders.backends import HuggingFaceEncoder

    seen = 0
    while encoder is not None and seen < 8:
        if isinstance(encoder, HuggingFaceEncoder):
            return encoder
        encoder, seen = getattr(encoder, "encoder", None), seen + 1
    return None


def _hf_parts(encoder: Any) -> tuple[Any, Any, str, int]:
    """The model, tokenizer, prefix and max length of a Hugging Face-backed encoder."""
    from csdialog.encoders.backends import HuggingFaceEncoder

    if not isinstance(encoder, HuggingFaceEncoder):
        raise EncoderError(
            f"fine-tuning needs a transformer encoder such as 'e5-small' or 'hf:<folder>'; "
            f"got {type(encoder).__name__} ({getattr(encoder, 'name', '?')}). Use "
            f"method='head' with this encoder, or pick a transformer backbone"
        )
    model = encoder._load_torch()  # the PyTorch model, whatever backend encodes
    return model, encoder._tokenizer, encoder.prefix, encoder.max_length


def _contrastive_batches(codes: np.ndarray, batch_size: int,
                         rng: np.random.Generator) -> list[np.ndarray]:
    """Batches holding 2+ examples of each class they contain (so each anchor has a
    positive), covering every example once per epoch where the class sizes allow."""
    by_class = [rng.permutation(np.flatnonzero(codes == c)) for c in np.unique(codes)]
    chunks: list[np.ndarray] = []
    for idx in by_class:
        if len(idx) < 2:
            continue
        for s in range(0, len(idx), 4):
            part = idx[s:s + 4]
            if len(part) == 1:  # glue a lone leftover onto the previous chunk
                chunks[-1] = np.concatenate([chunks[-1], part])
            else:
                chunks.append(part)
    order = rng.permutation(len(chunks))
    batches: list[np.ndarray] = []
    current: list[np.ndarray] = []
    size = 0
    for i in order:
        current.append(chunks[i])
        size += len(chunks[i])
        if size >= batch_size:
            batches.append(np.concatenate(current))
            current, size = [], 0
    if current and size >= 4:
        batches.append(np.concatenate(current))
    return batches


def _f1_at_thresholds(P: np.ndarray, Y: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The F1 of ``P >= t`` against the 0/1 array ``Y`` at each ``t`` of ``thresholds``
    (micro-averaged over every cell, so a matrix gives micro-F1 and a column one label's
    F1)."""
    positives = Y == 1
    n_pos = float(positives.sum())
    return np.array([2 * float(((P >= t) & positives).sum()) / max(1.0, float((P >= t).sum()) + n_pos)
                     for t in thresholds])


def _best_f1_threshold(P: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """``(F1, t)``: the best F1 of ``P >= t`` against the 0/1 array ``Y`` (see
    :func:`_f1_at_thresholds`) over ``t = 0.05, 0.075, ..., 0.95``; ties keep the lowest
    ``t``."""
    grid = np.arange(0.05, 0.96, 0.025)
    best = (-1.0, 0.5)
    for t, f1 in zip(grid.tolist(), _f1_at_thresholds(P, Y, grid).tolist(), strict=True):
        if f1 > best[0] + 1e-9:
            best = (f1, t)
    return best


def _trainable_copy(base_model: Any, args: FineTuneArgs, device: str) -> Any:
    """A copy of ``base_model`` on ``device`` in training mode (the token embeddings
    frozen when ``args.freeze_embeddings``; with ``args.lora_rank``, every weight frozen
    and LoRA updates added); the original is left untouched."""
    import copy

    model = copy.deepcopy(base_model).to(device)
    model.train()
    if args.lora_rank:
        for p in model.parameters():
            p.requires_grad_(False)
        _add_lora(model, args.lora_rank, args.lora_alpha)
    elif args.freeze_embeddings:
        for p in model.get_input_embeddings().parameters():
            p.requires_grad_(False)
    return model


def _lora_targets(model: Any) -> list[tuple[str, Any]]:
    """The linear layers of the transformer blocks (attention and feed-forward), by name;
    embeddings, pooler and heads are left out."""
    import torch

    blocks = getattr(model, "encoder", model)
    prefix = "encoder." if blocks is not model else ""
    return [(prefix + name, mod) for name, mod in blocks.named_modules()
            if isinstance(mod, torch.nn.Linear)]


def _add_lora(model: Any, rank: int, alpha: float) -> None:
    """Add a trainable rank-``rank`` update to each target layer's weight (a torch
    parametrisation: ``W + (alpha / rank) * B @ A``; ``B`` starts at zero, so the model
    starts as it was)."""
    import torch
    from torch.nn.utils import parametrize

    class LoRA(torch.nn.Module):
        def __init__(self, out_features: int, in_features: int, like: Any) -> None:
            super().__init__()
            self.scale = alpha / rank
            a = torch.empty(rank, in_features, dtype=like.dtype, device=like.device)
            torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
            self.A = torch.nn.Parameter(a)
            self.B = torch.nn.Parameter(torch.zeros(out_features, rank, dtype=like.dtype,
                                                    device=like.device))

        def forward(self, weight: Any) -> Any:
            return weight + (self.B @ self.A) * self.scale

    targets = _lora_targets(model)
    if not targets:
        raise EncoderError("LoRA found no linear layers in this model's transformer blocks")
    for _, mod in targets:
        parametrize.register_parametrization(
            mod, "weight", LoRA(mod.weight.shape[0], mod.weight.shape[1], mod.weight))


def _merge_lora(model: Any) -> dict[str, np.ndarray] | None:
    """Merge the LoRA updates into the weights (plain linear layers again) and return them
    as arrays (``"<layer>.lora_A"``, ``"<layer>.lora_B"``, scale folded into ``B``);
    ``None`` when the model has none."""
    from torch.nn.utils import parametrize

    out: dict[str, np.ndarray] = {}
    for name, mod in _lora_targets(model):
        if not parametrize.is_parametrized(mod, "weight"):
            continue
        lora = mod.parametrizations.weight[0]
        out[f"{name}.lora_A"] = lora.A.detach().float().cpu().numpy()
        out[f"{name}.lora_B"] = (lora.B.detach().float() * lora.scale).cpu().numpy()
        parametrize.remove_parametrizations(mod, "weight", leave_parametrized=True)
    return out or None


def apply_lora(model: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Add saved LoRA updates (from a model fine-tuned with ``lora_rank``) to ``model``'s
    weights in place, and return it.

    Raises:
        ModelFolderError: an update names a layer the model lacks, or its shape does not
            fit (the arrays come from another base model).

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3))
        >>> before = model[0].weight.detach().clone()
        >>> arrays = {"0.lora_A": np.ones((2, 4), np.float32),   # rank 2
        ...           "0.lora_B": np.full((3, 2), 0.5, np.float32)}
        >>> float((apply_lora(model, arrays)[0].weight.detach() - before).mean())
        1.0
    """
    import torch

    from csdialog.errors import ModelFolderError

    layers = dict(_lora_targets(model))
    names = sorted({k.rsplit(".lora_", 1)[0] for k in arrays if ".lora_" in k})
    if not names:
        raise ModelFolderError("no LoRA arrays (names ending in .lora_A / .lora_B) given")
    with torch.no_grad():
        for name in names:
            mod = layers.get(name)
            a, b = arrays.get(f"{name}.lora_A"), arrays.get(f"{name}.lora_B")
            if mod is None or a is None or b is None:
                raise ModelFolderError(
                    f"LoRA update {name!r} does not fit this model (missing layer or half of "
                    f"the update); were the arrays trained on another base model?")
            delta = torch.as_tensor(np.asarray(b) @ np.asarray(a), dtype=mod.weight.dtype,
                                    device=mod.weight.device)
            if delta.shape != mod.weight.shape:
                raise ModelFolderError(
                    f"LoRA update {name!r} has shape {tuple(delta.shape)}, the layer "
                    f"{tuple(mod.weight.shape)}; the arrays come from another base model")
            mod.weight.add_(delta)
    return model


def _warn_if_cut(lengths: Sequence[int], limit: int, encoder_limit: int, what: str,
                 consequence: str) -> None:
    """Warn when more than 1% of the training inputs are longer than ``limit`` tokens."""
    n_cut = sum(n > limit for n in lengths)
    if n_cut > len(lengths) // 100:
        warnings.warn(
            f"{n_cut} of {len(lengths)} training {what} are longer than max_length={limit} "
            f"tokens{consequence}; the longest has {max(lengths)} tokens: raise "
            f"FineTuneArgs.max_length (this encoder allows up to {encoder_limit})",
            UserWarning, stacklevel=3)


def _linear_warmup(optim: Any, total: int, warmup_ratio: float) -> Any:
    """Learning rate rising linearly over the first ``warmup_ratio`` of ``total`` steps,
    then falling linearly to zero."""
    import torch

    warm = max(1, int(total * warmup_ratio))
    return torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))


def _train_epochs(
    args: FineTuneArgs, *, keep: Sequence[Any], params: Sequence[Any], optim: Any, sched: Any,
    batches: Callable[[], list[np.ndarray]], loss_of: Callable[[np.ndarray], Any],
    evaluate: Callable[[], float], has_validation: bool, score_name: str, desc: str,
) -> FineTuneLog:
    """The epoch loop shared by the fine-tuning functions: a step per batch (gradients
    clipped at 1), the validation score after each epoch, early stopping after
    ``args.patience`` epochs without improvement, and the best epoch's weights of the
    ``keep`` modules restored at the end."""
    import torch

    log = FineTuneLog()
    t0 = time.perf_counter()
    best, stale = -1.0, 0
    best_state: list[dict[str, Any]] | None = None
    for epoch in range(args.epochs):
        idx_batches = batches()
        total_loss = 0.0
        bar = None
        if args.show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(idx_batches), desc=f"{desc} epoch {epoch + 1}", unit="batch")
        for idx in idx_batches:
            loss = loss_of(idx)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            sched.step()
            total_loss += float(loss.detach())
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        score = evaluate()
        log.epochs.append({"epoch": epoch + 1, "loss": total_loss / max(1, len(idx_batches)),
                           score_name: score})
        if not has_validation:
            continue
        if score > best:
            best, stale, log.best_epoch = score, 0, epoch + 1
            best_state = [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in keep]
        else:
            stale += 1
            if stale >= args.patience:
                break
    if best_state is not None:
        for m, state in zip(keep, best_state, strict=True):
            m.load_state_dict(state)
    if not has_validation:
        log.best_epoch = len(log.epochs)
    log.seconds = time.perf_counter() - t0
    return log


def finetune_encoder(
    encoder: Any,
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    args: FineTuneArgs | None = None,
    validation: tuple[Sequence[str], Sequence[int] | np.ndarray] | None = None,
    name: str | None = None,
) -> tuple[Any, FineTuneLog]:
    """Fine-tune a Hugging Face encoder on labelled texts; return a new encoder and a log.

    The input encoder is left untouched: its model is copied. The returned encoder has the
    same prefix and pooling; save it with :func:`save_encoder_folder` (the classifiers do
    this in their ``save_pretrained``).

    Args:
        encoder: an :class:`~csdialog.encoders.HuggingFaceEncoder` (``e5-small`` included).
        texts: training texts (context already joined in, if wanted).
        labels: class indices ``(n,)``, or a 0/1 indicator matrix ``(n, n_classes)`` for
            multi-label data (``loss="softmax"`` only: one sigmoid per label).
        args: :class:`FineTuneArgs`.
        validation: ``(texts, labels)`` for early stopping: accuracy of the nearest class
            centroid (the trained classifier's, or computed on the training texts) after
            each epoch; multi-label: micro-F1 of the sigmoids at their best threshold.
        name: name of the new encoder (default: the old name + ``"-ft"``).
    """

    torch = require("torch", "fine-tuning")
    from csdialog.encoders.backends import _pick_device

    args = args or FineTuneArgs()
    codes = np.asarray(labels, dtype=np.int64)
    if codes.ndim not in (1, 2) or not len(codes):
        raise ValidationError(f"labels must be class indices (n,) or an indicator matrix "
                              f"(n, n_classes), n >= 1; got shape {codes.shape}")
    if len(texts) != len(codes):
        raise ValidationError(f"{len(texts)} texts but {len(codes)} labels")
    multi = codes.ndim == 2
    if multi and args.loss != "softmax":
        raise ValidationError(
            f"loss={args.loss!r} needs single-label data (class indices); multi-label data "
            f"(an indicator matrix of shape {codes.shape}) is trained with loss='softmax', "
            f"which then uses one sigmoid per label")
    n_classes = codes.shape[1] if multi else int(codes.max()) + 1
    base_model, tokenizer, prefix, max_length = _hf_parts(encoder)
    device = _pick_device(args.device)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = _trainable_copy(base_model, args, device)
    pool = _Pooler(model, tokenizer, prefix, min(max_length, args.max_length), device)
    texts = list(texts)
    _warn_if_cut([len(ids) for ids in tokenizer([prefix + t for t in texts])["input_ids"]],
                 pool.max_length, max_length, "texts",
                 " and lose their end (with context written out, context_mode='text', the end "
                 "is the turn being classified)")

    def embed(mdl_texts: Sequence[str]) -> Any:
        with torch.inference_mode():
            return torch.cat([pool(mdl_texts[s:s + 64]) for s in range(0, len(mdl_texts), 64)])

    def centroids(vecs: Any, mdl_codes: np.ndarray) -> Any:
        if multi:  # the sum of the vectors of the examples carrying each label
            cent = torch.as_tensor(mdl_codes.T, dtype=vecs.dtype, device=device) @ vecs
        else:
            cent = torch.zeros(n_classes, vecs.shape[1], device=device)
            cent.index_add_(0, torch.as_tensor(mdl_codes, device=device), vecs)
        return torch.nn.functional.normalize(cent, dim=-1)

    classifier = bias = None
    params = [p for p in model.parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": params, "lr": args.learning_rate}]
    if args.loss == "softmax":
        model.eval()
        vecs0 = embed(texts)
        init = centroids(vecs0, codes)  # prototype initialisation: starts near 1-NN accuracy
        model.train()
        classifier = torch.nn.Parameter(init.clone())
        head_params = [classifier]
        if multi:
            # a bias per label that starts by flagging as many training texts as carry it
            z = (args.scale * vecs0 @ init.T).cpu().numpy()
            prior = codes.mean(axis=0)
            start = [-float(np.quantile(z[:, k], 1.0 - min(max(prior[k], 1e-4), 1 - 1e-4)))
                     for k in range(n_classes)]
            bias = torch.nn.Parameter(torch.tensor(start, dtype=init.dtype, device=device))
            head_params.append(bias)
        del vecs0
        groups.append({"params": head_params, "lr": args.learning_rate * 20,
                       "weight_decay": 0.0})
    optim = torch.optim.AdamW(groups, lr=args.learning_rate, weight_decay=args.weight_decay)

    def epoch_batches() -> list[np.ndarray]:
        if args.loss == "contrastive":
            return _contrastive_batches(codes, args.batch_size, rng)
        perm = rng.permutation(len(texts))
        return [perm[s:s + args.batch_size] for s in range(0, len(perm), args.batch_size)]

    steps_per_epoch = max(1, len(epoch_batches()))
    sched = _linear_warmup(optim, steps_per_epoch * args.epochs, args.warmup_ratio)

    def evaluate() -> float:
        if validation is None:
            return float("nan")
        model.eval()
        cent = centroids(embed(texts), codes) if classifier is None else \
            torch.nn.functional.normalize(classifier.detach(), dim=-1)
        v_texts, v_codes = list(validation[0]), np.asarray(validation[1])
        vecs = embed(v_texts)
        model.train()
        if multi:
            assert bias is not None
            z = (args.scale * vecs @ cent.T + bias.detach()).cpu().numpy()
            return _best_f1_threshold(1.0 / (1.0 + np.exp(-z)), v_codes)[0]
        pred = (vecs @ cent.T).argmax(dim=1).cpu().numpy()
        return float((pred == v_codes).mean())

    def loss_of(idx: np.ndarray) -> Any:
        vecs = pool([texts[i] for i in idx])
        target = torch.as_tensor(codes[idx], device=device)
        if classifier is not None:
            logits = args.scale * vecs @ torch.nn.functional.normalize(classifier, dim=-1).T
            return (torch.nn.functional.binary_cross_entropy_with_logits(
                logits + bias, target.to(vecs.dtype)) if multi
                else torch.nn.functional.cross_entropy(logits, target))
        sim = vecs @ vecs.T / args.temperature
        eye = torch.eye(len(idx), dtype=torch.bool, device=device)
        sim = sim.masked_fill(eye, -1e9)
        pos = (target[:, None] == target[None, :]) & ~eye
        log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
        return -(log_prob * pos).sum(1).div(pos.sum(1).clamp(min=1)).mean()

    log = _train_epochs(args, keep=[model], params=params, optim=optim, sched=sched,
                        batches=epoch_batches, loss_of=loss_of, evaluate=evaluate,
                        has_validation=validation is not None,
                        score_name="val_micro_f1" if multi else "val_accuracy", desc="fine-tuning")
    model.eval()
    lora = _merge_lora(model)
    return _wrap_model(encoder, model, tokenizer, prefix, max_length, device,
                       name=name or f"{encoder.name}-ft", lora=lora), log


def _wrap_model(encoder: Any, model: Any, tokenizer: Any, prefix: str, max_length: int,
                device: str, *, name: str, lora: dict[str, np.ndarray] | None) -> Any:
    """A torch :class:`HuggingFaceEncoder` around an already built ``model`` (frozen)."""
    from csdialog.encoders.backends import HuggingFaceEncoder

    for p in model.parameters():
        p.requires_grad_(False)
    new = HuggingFaceEncoder(
        getattr(encoder, "path", "") or "", prefix=prefix, max_length=max_length,
        batch_size=getattr(encoder, "batch_size", 32), device=device, name=name,
    )
    new._model, new._tokenizer, new._dim = model, tokenizer, int(model.config.hidden_size)
    new.lora = lora
    return new


def encoder_with_lora(encoder: Any, lora: Mapping[str, np.ndarray], *,
                      name: str | None = None) -> Any:
    """A new encoder: ``encoder``'s transformer with saved LoRA updates added (see
    :func:`apply_lora`), run on torch. ``encoder`` itself is left untouched.

    This is how a model saved with only its LoRA updates (the ``lora`` of an encoder
    returned by :func:`finetune_encoder` with ``lora_rank > 0``) gets its encoder back.

    Raises:
        EncoderError: ``encoder`` is not a transformer encoder.
        ModelFolderError: the updates do not fit this transformer.
    """
    import copy

    hf = transformer_of(encoder)
    if hf is None:
        raise EncoderError(
            f"LoRA updates need the transformer encoder they were trained on (such as "
            f"'e5-small'); got {type(encoder).__name__} ({getattr(encoder, 'name', '?')})")
    base_model, tokenizer, prefix, max_length = _hf_parts(hf)
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in lora.items()}
    model = apply_lora(copy.deepcopy(base_model), arrays)
    model.eval()
    device = str(next(model.parameters()).device)
    return _wrap_model(hf, model, tokenizer, prefix, max_length, device,
                       name=name or str(hf.name), lora=arrays)


@dataclass
class CrossEncoderParts:
    """A trained cross-encoder: the transformer, its tokenizer and prefix, and the logit
    head over the mean-pooled tokens of the joint (first, second) input."""

    model: Any
    tokenizer: Any
    prefix: str
    max_length: int
    weight: np.ndarray
    bias: float
    device: str
    name: str
    lora: dict[str, np.ndarray] | None = None

    def logits(self, firsts: Sequence[str], seconds: Sequence[str], *,
               batch_size: int = 32) -> np.ndarray:
        """One logit per pair (no gradient); empty input gives an empty array."""
        torch = require("torch", "a cross-encoder")
        from csdialog.encoders.backends import mean_pool

        w = torch.as_tensor(self.weight, dtype=torch.float32, device=self.device)
        out: list[np.ndarray] = []
        self.model.eval()
        with torch.inference_mode():
            for s in range(0, len(firsts), batch_size):
                batch = _pair_batch(self.tokenizer, self.prefix, firsts[s:s + batch_size],
                                    seconds[s:s + batch_size], self.max_length).to(self.device)
                pooled = mean_pool(self.model(**batch).last_hidden_state, batch["attention_mask"])
                out.append((pooled.float() @ w + self.bias).cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def _pair_batch(tokenizer: Any, prefix: str, firsts: Sequence[str], seconds: Sequence[str],
                max_length: int) -> Any:
    """Tokenise (first, second) pairs; when too long, the longer text loses its end."""
    return tokenizer([prefix + f for f in firsts], list(seconds), padding=True,
                     truncation="longest_first", max_length=max_length, return_tensors="pt")


def finetune_cross_encoder(
    encoder: Any,
    firsts: Sequence[str],
    seconds: Sequence[str],
    labels: Sequence[bool] | np.ndarray,
    *,
    args: FineTuneArgs | None = None,
    validation: tuple[Sequence[str], Sequence[str], Sequence[bool] | np.ndarray] | None = None,
    name: str | None = None,
) -> tuple[CrossEncoderParts, FineTuneLog]:
    """Fine-tune a Hugging Face encoder as a cross-encoder of text pairs.

    Both texts go through the transformer together (``[CLS] first [SEP] second [SEP]``),
    so every token of the reply attends to every token of the question; the mean-pooled
    output feeds one logit, trained with class-balanced binary cross-entropy. The input
    encoder is left untouched (its model is copied).

    Args:
        encoder: an :class:`~csdialog.encoders.HuggingFaceEncoder` (``e5-small`` included).
        firsts, seconds: the two texts of each pair (e.g. question, reply).
        labels: one boolean per pair (e.g. did the reply answer?); both values needed.
        args: :class:`FineTuneArgs` (``loss``, ``scale`` and ``temperature`` do not apply;
            ``max_length`` counts both texts together).
        validation: ``(firsts, seconds, labels)`` for early stopping on ROC-AUC (accuracy
            at 0.5 when it holds one class only); the best epoch's weights are kept.
        name: name of the trained model (default: the encoder's name + ``"-cross"``).
    """

    torch = require("torch", "fine-tuning")
    from csdialog.encoders.backends import _pick_device, mean_pool

    args = args or FineTuneArgs(batch_size=16, learning_rate=3e-5, max_length=128)
    firsts, seconds = [str(t) for t in firsts], [str(t) for t in seconds]
    y = np.asarray([bool(v) for v in labels], dtype=np.float32)
    if not len(firsts) == len(seconds) == len(y):
        raise ValidationError(
            f"firsts, seconds and labels must have the same length, got {len(firsts)}, "
            f"{len(seconds)}, {len(y)}")
    if len(set(y.tolist())) < 2:
        raise ValidationError("labels must hold both True and False pairs to train a cross-encoder")
    base_model, tokenizer, prefix, max_length = _hf_parts(encoder)
    max_len = min(max_length, args.max_length)
    device = _pick_device(args.device)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = _trainable_copy(base_model, args, device)
    _warn_if_cut([len(ids) for ids in tokenizer([prefix + f for f in firsts], seconds)["input_ids"]],
                 max_len, max_length, "pairs",
                 " (both texts together) and lose the end of the longer text")
    dim = int(model.config.hidden_size)
    head = torch.nn.Linear(dim, 1).to(device)
    prior = float(y.mean())
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(math.log(prior / (1.0 - prior)))
    # class-balanced: each class weighs half of the loss, whatever its share
    w_pos, w_neg = 0.5 / prior, 0.5 / (1.0 - prior)
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(
        [{"params": params, "lr": args.learning_rate},
         {"params": list(head.parameters()), "lr": args.learning_rate * 20, "weight_decay": 0.0}],
        lr=args.learning_rate, weight_decay=args.weight_decay)
    sched = _linear_warmup(optim, max(1, math.ceil(len(firsts) / args.batch_size)) * args.epochs,
                           args.warmup_ratio)

    def parts() -> CrossEncoderParts:
        return CrossEncoderParts(
            model, tokenizer, prefix, max_len,
            head.weight.detach()[0].cpu().numpy().astype(np.float32),
            float(head.bias.detach()[0]), device, name or f"{encoder.name}-cross")

    def evaluate() -> float:
        if validation is None:
            return float("nan")
        vf, vs, vy = validation
        z = parts().logits([str(t) for t in vf], [str(t) for t in vs], batch_size=64)
        model.train()
        truth = np.asarray([bool(v) for v in vy])
        if len(set(truth.tolist())) < 2:
            return float(((z >= 0) == truth).mean())
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(truth, z))

    def batches() -> list[np.ndarray]:
        perm = rng.permutation(len(firsts))
        return [perm[s:s + args.batch_size] for s in range(0, len(perm), args.batch_size)]

    def loss_of(idx: np.ndarray) -> Any:
        batch = _pair_batch(tokenizer, prefix, [firsts[i] for i in idx],
                            [seconds[i] for i in idx], max_len).to(device)
        pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
        logit = head(pooled).squeeze(-1)
        target = torch.as_tensor(y[idx], device=device)
        weight = torch.where(target > 0.5, w_pos, w_neg).to(logit.dtype)
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logit, target.to(logit.dtype), weight=weight) / (0.5 * (w_pos + w_neg))

    log = _train_epochs(args, keep=[model, head], params=params, optim=optim, sched=sched,
                        batches=batches, loss_of=loss_of, evaluate=evaluate,
                        has_validation=validation is not None, score_name="val_auc",
                        desc="cross-encoder")
    model.eval()
    lora = _merge_lora(model)
    for p in model.parameters():
        p.requires_grad_(False)
    return dataclasses.replace(parts(), lora=lora), log


def save_encoder_folder(encoder: Any, folder: str | os.PathLike[str]) -> Path:
    """Write a Hugging Face-backed encoder (model in safetensors, tokenizer, prefix) to
    ``folder`` so that ``HuggingFaceEncoder(folder, prefix=...)`` loads it again."""
    model, tokenizer, _, _ = _hf_parts(encoder)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path), safe_serialization=True)
    tokenizer.save_pretrained(str(path))
    return path
