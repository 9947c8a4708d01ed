"""Context is data: the turn to classify, the turns before it, and how they are combined.

Every context-aware task (intent, emotion) takes its inputs through :func:`as_inputs`,
which accepts plain texts, ``(dialogue, turn_index)`` pairs, whole dialogues (every turn of
a chosen role), :class:`~csdialog.datasets.LabelledExample` records and
:class:`ContextualText` items, and returns :class:`ContextualText` items: the target text
plus the preceding turns, oldest first.

Two ways to feed context to a model, both named and saved with the model:

* **features** (:class:`ContextFeaturizer`): every distinct text is embedded once; the
  target's vector is joined by the recency-weighted mean of the previous customer turns,
  the same for the previous agent/bot turns, and the element-wise product of the target
  with the last turn of the other side (which lets a linear head see incongruity: a
  warm "thanks" right after an unhelpful reply). With ``window=0`` it is the target
  vector alone.
* **text** (a formatter from :data:`FORMATTERS`): the window is written out as one
  string with role markers, for models that read the context jointly (fine-tuning).

Example:
    >>> from csdialog import Dialogue, Turn
    >>> d = Dialogue("d1", [Turn("customer", "快递三天了还没到"), Turn("agent", "请耐心等待"),
    ...                     Turn("customer", "谢谢你")])
    >>> item = as_inputs([(d, 2)], window=2)[0]
    >>> item.text, [t.role.value for t in item.context]
    ('谢谢你', ['customer', 'agent'])
    >>> format_context(item, "roles")
    '[customer] 快递三天了还没到 [agent] 请耐心等待'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from csdialog.dialogue import Dialogue, Role, Turn, parse_role
from csdialog.encoders.base import Encoder
from csdialog.errors import ValidationError

__all__ = [
    "FORMATTERS",
    "ContextFeaturizer",
    "ContextualText",
    "as_inputs",
    "format_context",
    "register_formatter",
]


@dataclass(frozen=True)
class ContextualText:
    """A text to classify with the turns before it (oldest first).

    Args:
        text: the target turn's text.
        context: the preceding turns, oldest first (may be empty).
        role: who speaks the target turn.
        dialogue_id, turn_index: where it comes from, when known.

    Example:
        >>> ContextualText("thanks a lot", (Turn("agent", "We can't help."),)).context[0].role
        <Role.AGENT: 'agent'>
    """

    text: str
    context: tuple[Turn, ...] = ()
    role: Role = Role.CUSTOMER
    dialogue_id: str | None = None
    turn_index: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ValidationError(
                f"the text to classify must be a string, got {type(self.text).__name__} "
                f"{self.text!r:.80}"
            )
        ctx = self.context
        if isinstance(ctx, str | bytes | Mapping) or not isinstance(ctx, Iterable):
            raise ValidationError(
                f"context must be a sequence of Turn (oldest first), got {type(ctx).__name__}"
            )
        object.__setattr__(
            self, "context", tuple(t if isinstance(t, Turn) else Turn.from_dict(t) for t in ctx)
        )
        object.__setattr__(self, "role", parse_role(self.role))

    def windowed(self, window: int) -> ContextualText:
        """The same item keeping only the last ``window`` context turns."""
        if window >= len(self.context):
            return self
        ctx = self.context[len(self.context) - window:] if window > 0 else ()
        return ContextualText(self.text, ctx, self.role, self.dialogue_id, self.turn_index)


def _check_window(window: object) -> int:
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise ValidationError(
            f"window must be a non-negative int (number of previous turns), got {window!r}"
        )
    return window


def _from_dialogue(d: Dialogue, index: object, window: int) -> ContextualText:
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise ValidationError(
            f"a (dialogue, turn_index) pair needs an int index, got {type(index).__name__} "
            f"{index!r}"
        )
    i = int(index)
    if not -len(d.turns) <= i < len(d.turns):
        raise ValidationError(
            f"turn_index {i} is out of range for dialogue {d.dialogue_id!r} with "
            f"{len(d.turns)} turns"
        )
    i %= len(d.turns)
    turn = d.turns[i]
    ctx = d.turns[max(0, i - window):i] if window else ()
    return ContextualText(turn.text, ctx, turn.role, d.dialogue_id, i)


def as_inputs(
    X: object,
    *,
    window: int = 3,
    roles: Sequence[Role | str] | None = (Role.CUSTOMER,),
) -> list[ContextualText]:
    """Normalise what a user passes to ``fit`` / ``predict`` into :class:`ContextualText`.

    Accepted items (mixed freely in one sequence):

    * ``str``: a turn without context;
    * ``(Dialogue, turn_index)``: that turn with up to ``window`` turns before it;
    * :class:`Dialogue`: every turn whose role is in ``roles``, in order, each with its
      context (``roles=None`` takes every turn);
    * :class:`~csdialog.datasets.LabelledExample` (or anything with ``text`` and
      ``context`` attributes): its text and the last ``window`` turns of its context;
    * :class:`ContextualText`: kept, its context cut to ``window``.

    Also accepted: a :class:`~csdialog.io.ReadResult` (its dialogues), a single
    :class:`Dialogue`, or a pandas Series of texts.

    Raises:
        ValidationError: an item of another type (its index and type are named).
    """
    window = _check_window(window)
    if hasattr(X, "dialogues") and not isinstance(X, Dialogue):
        X = X.dialogues
    if isinstance(X, Dialogue):
        X = [X]
    if isinstance(X, str | bytes):
        raise ValidationError(
            f"expected a list of texts or dialogues, got a single {type(X).__name__} "
            f"{X[:40]!r}; wrap it: [text]"
        )
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        raise ValidationError(
            f"got a table with columns {[str(c) for c in X.columns]}; pass its text column, "
            f"e.g. frame['text'] (fit() takes whole tables with text_column=...)")
    if hasattr(X, "tolist") and not isinstance(X, list):
        X = X.tolist()
    if not isinstance(X, Iterable):
        raise ValidationError(
            f"expected a list of texts, (dialogue, turn_index) pairs, dialogues or examples; "
            f"got {type(X).__name__}"
        )
    wanted = None if roles is None else {parse_role(r) for r in roles}
    out: list[ContextualText] = []
    for n, item in enumerate(X):
        if isinstance(item, str):
            out.append(ContextualText(item))
        elif isinstance(item, ContextualText):
            out.append(item.windowed(window))
        elif isinstance(item, Dialogue):
            for i, t in enumerate(item.turns):
                if wanted is None or t.role in wanted:
                    out.append(_from_dialogue(item, i, window))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Dialogue):
            out.append(_from_dialogue(item[0], item[1], window))
        elif isinstance(getattr(item, "text", None), str) and hasattr(item, "context"):
            ctx = tuple(item.context or ())
            out.append(ContextualText(
                item.text, ctx[max(0, len(ctx) - window):] if window else (),
                dialogue_id=getattr(item, "dialogue_id", None),
                turn_index=getattr(item, "turn_index", None),
            ))
        else:
            raise ValidationError(
                f"item {n} is {type(item).__name__} {item!r:.60}; expected a text, a "
                f"(Dialogue, turn_index) pair, a Dialogue, a LabelledExample or a "
                f"ContextualText"
            )
    return out


# ----------------------------------------------------------------------------- formatters

Formatter = Callable[[ContextualText], str]


def _fmt_roles(item: ContextualText) -> str:
    return " ".join(f"[{t.role.value}] {t.text}" for t in item.context)


def _fmt_plain(item: ContextualText) -> str:
    return " ".join(t.text for t in item.context)


def _fmt_none(item: ContextualText) -> str:
    return ""


#: Named context formatters (context turns -> one string). The name is saved with a model.
FORMATTERS: dict[str, Formatter] = {"roles": _fmt_roles, "plain": _fmt_plain, "none": _fmt_none}


def register_formatter(name: str, formatter: Formatter, *, overwrite: bool = False) -> None:
    """Add a named formatter so models saved with it can be loaded again.

    Raises:
        ValidationError: the name is taken (pass ``overwrite=True``).
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"formatter names are non-empty text, got {name!r}")
    if name in FORMATTERS and not overwrite:
        raise ValidationError(f"formatter {name!r} is already registered; pass overwrite=True")
    FORMATTERS[name] = formatter


def format_context(item: ContextualText, formatter: str = "roles") -> str:
    """Write the context of ``item`` as one string with the named formatter."""
    try:
        fn = FORMATTERS[formatter]
    except KeyError:
        raise ValidationError(
            f"unknown context formatter {formatter!r}; valid choices: {sorted(FORMATTERS)} "
            f"(add one with register_formatter)"
        ) from None
    return fn(item)


# ----------------------------------------------------------------------------- features

_OTHER_SIDE = {Role.CUSTOMER: (Role.AGENT, Role.BOT), Role.AGENT: (Role.CUSTOMER,),
               Role.BOT: (Role.CUSTOMER,), Role.SYSTEM: (Role.CUSTOMER,)}


class ContextFeaturizer:
    """Embeds targets and their context and joins them into one feature vector per item.

    Each distinct text (targets and context turns alike) is embedded once per call.

    Args:
        encoder: any :class:`~csdialog.encoders.Encoder`.
        window: previous turns used (0: the target vector alone).
        decay: weight of a context turn is ``decay ** distance`` (the newest has distance 0).

    Features (``window > 0``): ``[target, customer_mean, agent_mean, target * last_other]``,
    ``4 * dim`` values, where the means are recency-weighted over the window (zeros when
    the side did not speak) and ``last_other`` is the newest turn of the other side.

    Example:
        >>> from csdialog.encoders import HashingEncoder
        >>> f = ContextFeaturizer(HashingEncoder(dim=8), window=2)
        >>> f.transform([ContextualText("thanks", (Turn("agent", "no"),))]).shape
        (1, 32)
    """

    def __init__(self, encoder: Encoder, *, window: int = 3, decay: float = 0.7) -> None:
        self.encoder = encoder
        self.window = _check_window(window)
        if not 0.0 < float(decay) <= 1.0:
            raise ValidationError(f"decay must be in (0, 1], got {decay!r}")
        self.decay = float(decay)

    @property
    def n_features(self) -> int:
        return int(self.encoder.dim) * (4 if self.window else 1)

    def transform(self, items: Sequence[ContextualText]) -> np.ndarray:
        """Feature matrix ``(len(items), n_features)``, float32."""
        dim = int(self.encoder.dim)
        texts: dict[str, int] = {}
        for it in items:
            texts.setdefault(it.text, len(texts))
            if self.window:
                for t in it.context[-self.window:]:
                    texts.setdefault(t.text, len(texts))
        vecs = (self.encoder.encode(list(texts)) if texts
                else np.zeros((0, dim), dtype=np.float32))
        target = np.stack([vecs[texts[it.text]] for it in items]) if items else \
            np.zeros((0, dim), np.float32)
        if not self.window:
            return np.asarray(target, dtype=np.float32)
        out = np.zeros((len(items), 4 * dim), dtype=np.float32)
        out[:, :dim] = target
        for row, it in enumerate(items):
            ctx = it.context[-self.window:]
            sums = {Role.CUSTOMER: np.zeros(dim), Role.AGENT: np.zeros(dim)}
            weights = {Role.CUSTOMER: 0.0, Role.AGENT: 0.0}
            last_other: np.ndarray | None = None
            other = _OTHER_SIDE[it.role]
            for dist, t in enumerate(reversed(ctx)):
                side = Role.CUSTOMER if t.role is Role.CUSTOMER else Role.AGENT
                w = self.decay ** dist
                sums[side] += w * vecs[texts[t.text]]
                weights[side] += w
                if last_other is None and t.role in other:
                    last_other = vecs[texts[t.text]]
            for k, side in enumerate((Role.CUSTOMER, Role.AGENT), start=1):
                if weights[side]:
                    out[row, k * dim:(k + 1) * dim] = sums[side] / weights[side]
            if last_other is not None:
                out[row, 3 * dim:] = target[row] * last_other
        return out

    def config(self) -> dict[str, Any]:
        return {"window": self.window, "decay": self.decay}
