"""Loaders for the public data sets csdialog is tested, benchmarked and trained on.

The sets live in one data root (by default ``../shared/datasets`` next to the project), one
folder per set, each in its original upstream format. They are read in place, never copied.
Two kinds of result come back:

* :class:`LabelledExample` lists, for classification: one text, its label (a string, or a
  tuple of strings for the multi-label sets), and where the set has it, the preceding turns
  of the same conversation as ``context``;
* :class:`~csdialog.dialogue.Dialogue` lists, for the multi-turn sets (CPED, CrossWOZ,
  MultiWOZ-zh, MultiWOZ 2.1), with per-turn annotations in ``Turn.metadata``.

Where the data root is looked for (first hit wins): the ``root=`` argument, the
``CSDIALOG_DATA`` environment variable, ``./../shared/datasets`` and ``./shared/datasets``
relative to the current directory. See :func:`data_root`.

Unusable source rows (empty text, a wrong number of fields, an unknown label id) are skipped
and reported with one :class:`UserWarning` per loader call naming the count, the reason and a
few row ids; a file that cannot be read at all raises
:class:`~csdialog.errors.DataFormatError`.

Split names: each loader takes its set's own names (``val``, ``dev``, ``valid``,
``validate``...), and any of ``val``, ``valid``, ``validation``, ``dev``, ``validate`` is
accepted for the one validation split of a set.

Example:
    >>> from csdialog.datasets import load_banking77, load_multiwoz21, dialogue_act_examples
    >>> train = load_banking77("train")                      # doctest: +SKIP
    >>> len(train), train[0].label                           # doctest: +SKIP
    (10003, 'card_arrival')
    >>> acts = dialogue_act_examples(load_multiwoz21("val"))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import os
import random
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

from csdialog.dialogue import Dialogue, Role, Turn, parse_role
from csdialog.errors import DataFormatError, ValidationError

__all__ = [
    "DATA_ENV_VAR",
    "LabelledExample",
    "RequestReplyPair",
    "cped_examples",
    "data_root",
    "dialogue_act_examples",
    "load_banking77",
    "load_clinc150",
    "load_cped",
    "load_crosswoz",
    "load_goemotions",
    "load_multidogo",
    "load_multiwoz21",
    "load_multiwoz_zh",
    "load_mustard",
    "load_nlupp",
    "load_snips",
    "mustard_folds",
    "request_reply_pairs",
]

StrPath: TypeAlias = "str | os.PathLike[str]"

#: Environment variable naming the data root when ``root=`` is not given.
DATA_ENV_VAR = "CSDIALOG_DATA"

_ROOT_HINT = (
    f"pass root='/path/to/datasets' or set the environment variable {DATA_ENV_VAR}=/path/to/"
    "datasets (the folder that holds banking77/, clinc150/, ...)"
)
_VALIDATION_ALIASES = ("val", "valid", "validation", "dev", "validate")
_GENERAL_DOMAINS = frozenset({"general", "常规"})


# --------------------------------------------------------------------------------------
# LabelledExample
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledExample:
    """One text to classify, its label and, where the set has it, its dialogue context.

    Args:
        text: the text to classify (non-empty).
        label: the class name, or a tuple of class names for the multi-label sets
            (GoEmotions, NLU++). A list is converted to a tuple. An empty tuple means
            "no label applies" (NLU++ has such rows).
        context: the preceding turns of the same conversation, oldest first (dicts are
            converted with :meth:`Turn.from_dict`).
        dialogue_id: the conversation the text comes from, when known.
        turn_index: the index of this text's turn in its conversation, when known.
        metadata: any other fields (source ids, slots, domain...), kept read-only.

    Example:
        >>> ex = LabelledExample("where is my card?", "card_arrival",
        ...                      context=[Turn("customer", "hi")], dialogue_id="d1",
        ...                      turn_index=1)
        >>> ex.context[0].text, ex.to_dict()["label"]
        ('hi', 'card_arrival')
    """

    text: str
    label: str | tuple[str, ...]
    context: tuple[Turn, ...] = ()
    dialogue_id: str | None = None
    turn_index: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValidationError(
                f"example text must be a non-empty string, got {type(self.text).__name__} "
                f"{self.text!r:.80}; drop the row or give it text"
            )
        object.__setattr__(self, "label", _check_label(self.label))
        context = self.context
        if isinstance(context, str | bytes | Mapping) or not isinstance(context, Iterable):
            raise ValidationError(
                f"example context must be a sequence of Turn (oldest first), got "
                f"{type(context).__name__}"
            )
        object.__setattr__(
            self,
            "context",
            tuple(t if isinstance(t, Turn) else Turn.from_dict(t) for t in context),
        )
        did = self.dialogue_id
        if did is not None:
            if isinstance(did, int) and not isinstance(did, bool):
                did = str(did)
            if not isinstance(did, str) or not did.strip():
                raise ValidationError(
                    f"dialogue_id must be a non-empty string or None, got "
                    f"{type(did).__name__} {did!r}"
                )
            object.__setattr__(self, "dialogue_id", did)
        idx = self.turn_index
        if idx is not None and (isinstance(idx, bool) or not isinstance(idx, int) or idx < 0):
            raise ValidationError(
                f"turn_index must be a non-negative int or None, got {type(idx).__name__} "
                f"{idx!r}"
            )
        meta = self.metadata
        if meta is None:
            meta = {}
        if not isinstance(meta, Mapping):
            raise ValidationError(
                f"example metadata must be a mapping (dict), got {type(meta).__name__}"
            )
        object.__setattr__(self, "metadata", MappingProxyType(dict(meta)))

    def __hash__(self) -> int:
        return hash((self.text, self.label, self.context, self.dialogue_id, self.turn_index))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelledExample):
            return NotImplemented
        return (
            self.text == other.text
            and self.label == other.label
            and self.context == other.context
            and self.dialogue_id == other.dialogue_id
            and self.turn_index == other.turn_index
            and dict(self.metadata) == dict(other.metadata)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: text, label (a list for multi-label), context as turn dicts,
        dialogue_id, turn_index and metadata.

        Example:
            >>> LabelledExample("hi", ("greet", "thank")).to_dict()["label"]
            ['greet', 'thank']
        """
        return {
            "text": self.text,
            "label": list(self.label) if isinstance(self.label, tuple) else self.label,
            "context": [t.to_dict() for t in self.context],
            "dialogue_id": self.dialogue_id,
            "turn_index": self.turn_index,
            "metadata": dict(self.metadata),
        }


def _check_label(label: object) -> str | tuple[str, ...]:
    if isinstance(label, str):
        if not label.strip():
            raise ValidationError(
                "example label is an empty string; give a class name, or a tuple of names "
                "(an empty tuple means no label applies)"
            )
        return label
    if isinstance(label, list | tuple):
        bad = [x for x in label if not isinstance(x, str) or not x.strip()]
        if bad:
            raise ValidationError(
                f"multi-label example labels must be non-empty strings, got {bad!r:.80} "
                f"in {label!r:.80}"
            )
        return tuple(label)
    raise ValidationError(
        f"example label must be a string or a tuple of strings, got {type(label).__name__} "
        f"{label!r:.80}"
    )


# --------------------------------------------------------------------------------------
# Paths, splits, warnings
# --------------------------------------------------------------------------------------


def data_root(root: StrPath | None = None) -> Path:
    """Find the folder that holds the public data sets.

    Looked for, first hit wins: ``root`` if given; else the ``CSDIALOG_DATA`` environment
    variable; else ``./../shared/datasets`` then ``./shared/datasets``, relative to the
    current working directory. An explicit ``root`` or ``CSDIALOG_DATA`` that does not
    exist is an error (no silent fallback to the defaults).

    Args:
        root: the data root, or ``None`` to search.

    Returns:
        The data root as an absolute path.

    Raises:
        FileNotFoundError: nothing found; the message lists where it looked and how to
            pass ``root=`` or set ``CSDIALOG_DATA``.
        DataFormatError: the path exists but is not a folder.

    Example:
        >>> data_root("../shared/datasets")   # doctest: +SKIP
        PosixPath('/work/shared/datasets')
    """
    if root is not None:
        return _check_root_dir(Path(os.fspath(root)).expanduser(), "the root= argument")
    env = os.environ.get(DATA_ENV_VAR, "").strip()
    if env:
        return _check_root_dir(Path(env).expanduser(), f"the {DATA_ENV_VAR} environment variable")
    cwd = Path.cwd()
    candidates = [cwd / ".." / "shared" / "datasets", cwd / "shared" / "datasets"]
    for cand in candidates:
        if cand.is_dir():
            return cand.resolve()
    looked = ", ".join(str(c.resolve()) for c in candidates)
    raise FileNotFoundError(
        f"public data sets folder not found: root= was not given, {DATA_ENV_VAR} is not set, "
        f"and none of {looked} exists; {_ROOT_HINT}"
    )


def _check_root_dir(path: Path, source: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"data root {str(path)!r} (from {source}) does not exist; {_ROOT_HINT}"
        )
    if not path.is_dir():
        raise DataFormatError(
            f"data root {str(path)!r} (from {source}) is a file, expected the folder that "
            f"holds the data sets; {_ROOT_HINT}"
        )
    return path.resolve()


def _dataset_dir(root: StrPath | None, name: str) -> Path:
    base = data_root(root)
    folder = base / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"data set folder {str(folder)!r} not found: the data root {str(base)!r} has no "
            f"{name}/ folder; {_ROOT_HINT}"
        )
    return folder


def _require_file(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {str(path)!r} not found; the {path.parent.name}/ folder must keep the "
            f"upstream file names (see its README.md); {_ROOT_HINT}"
        )
    return path


def _resolve_choice(value: object, choices: Sequence[str], what: str, dataset: str) -> str:
    if isinstance(value, str):
        key = value.strip().lower()
        if key in choices:
            return key
        if what == "split" and key in _VALIDATION_ALIASES:
            matches = [c for c in choices if c in _VALIDATION_ALIASES]
            if len(matches) == 1:
                return matches[0]
    extra = ""
    if what == "split" and any(c in _VALIDATION_ALIASES for c in choices):
        extra = f" (any of {list(_VALIDATION_ALIASES)} also selects the validation split)"
    raise ValidationError(
        f"unknown {what} {value!r} for {dataset}; expected one of {list(choices)}{extra}"
    )


def _check_context(context: object) -> int:
    if isinstance(context, bool) or not isinstance(context, int) or context < 0:
        raise ValidationError(
            f"context must be a non-negative int (how many preceding turns to keep), got "
            f"{type(context).__name__} {context!r}"
        )
    return context


class _SkipLog:
    """Counts skipped source rows per reason and reports them in one warning each."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: dict[str, list[str]] = {}

    def add(self, reason: str, where: str) -> None:
        self.rows.setdefault(reason, []).append(where)

    def warn(self, stacklevel: int = 3) -> None:
        for reason, wheres in self.rows.items():
            sample = ", ".join(wheres[:3]) + (", ..." if len(wheres) > 3 else "")
            warnings.warn(
                f"{self.source}: skipped {len(wheres)} source row(s) with {reason} "
                f"(e.g. {sample}); they are not in the result",
                UserWarning,
                stacklevel=stacklevel,
            )


def _read_text(path: Path) -> str:
    """Read UTF-8 text; repairs surrogate pairs written as separate UTF-8 sequences
    (CESU-8), as in SNIPS ``train_PlayMusic_full.json``."""
    raw = _require_file(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("utf-8-sig", errors="surrogatepass")
        return text.encode("utf-16", errors="surrogatepass").decode("utf-16")
    except UnicodeError as exc:
        raise DataFormatError(
            f"{str(path)!r} is not UTF-8 text ({exc}); restore the upstream file"
        ) from exc


def _load_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"{str(path)!r} is not valid JSON ({exc}); restore the upstream file"
        ) from exc


def _load_json_zip(path: Path) -> Any:
    _require_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith(".json")]
            if len(names) != 1:
                raise DataFormatError(
                    f"{str(path)!r} should hold exactly one .json file, it holds "
                    f"{zf.namelist()}; restore the upstream archive"
                )
            with zf.open(names[0]) as fh:
                return json.load(fh)
    except zipfile.BadZipFile as exc:
        raise DataFormatError(
            f"{str(path)!r} is not a readable zip archive ({exc}); restore the upstream file"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(
            f"the JSON inside {str(path)!r} cannot be parsed ({exc}); restore the upstream file"
        ) from exc


def _expect(obj: Any, kind: type, path: Path, shape: str) -> Any:
    if not isinstance(obj, kind):
        raise DataFormatError(
            f"{str(path)!r}: expected {shape} at the top level, got {type(obj).__name__}"
        )
    return obj


# --------------------------------------------------------------------------------------
# Single-turn intent / emotion sets
# --------------------------------------------------------------------------------------


def load_banking77(split: str = "train", root: StrPath | None = None) -> list[LabelledExample]:
    """BANKING77: English online-banking customer queries, 77 intents, single turns.

    Args:
        split: ``"train"`` (10,003) or ``"test"`` (3,080).
        root: the data root (see :func:`data_root`).

    Returns:
        One example per query; ``label`` is the intent name (``categories.json``).

    Example:
        >>> ex = load_banking77("test")   # doctest: +SKIP
        >>> len(ex), len({e.label for e in ex})   # doctest: +SKIP
        (3080, 77)
    """
    split = _resolve_choice(split, ("train", "test"), "split", "banking77")
    path = _require_file(_dataset_dir(root, "banking77") / f"{split}.csv")
    skips = _SkipLog(f"banking77 {split}")
    out: list[LabelledExample] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        _check_columns(reader.fieldnames, ("text", "category"), path)
        for line, row in enumerate(reader, start=2):
            text, label = row.get("text"), row.get("category")
            if not text or not text.strip():
                skips.add("empty text", f"line {line}")
            elif not label or not label.strip():
                skips.add("an empty category", f"line {line}")
            else:
                out.append(LabelledExample(text, label))
    skips.warn()
    return out


def _check_columns(found: Sequence[str] | None, needed: Sequence[str], path: Path) -> None:
    missing = [c for c in needed if c not in (found or ())]
    if missing:
        raise DataFormatError(
            f"{str(path)!r} lacks the column(s) {missing}; its header is {list(found or ())}, "
            f"expected {list(needed)}; restore the upstream file"
        )


_CLINC_VARIANTS = {"full": "data_full.json", "small": "data_small.json",
                   "oos_plus": "data_oos_plus.json"}


def load_clinc150(
    split: str = "train",
    root: StrPath | None = None,
    *,
    include_oos: bool = True,
    variant: str = "full",
) -> list[LabelledExample]:
    """CLINC150 (OOS-eval): 150 English intents over 10 domains plus out-of-scope queries.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``.
        root: the data root (see :func:`data_root`).
        include_oos: append the split's out-of-scope queries, labelled ``"oos"``.
        variant: ``"full"`` (100 train queries per intent), ``"small"`` (50) or
            ``"oos_plus"`` (full, with 250 out-of-scope training queries). The upstream
            ``imbalanced`` variant is not in the shared copy.

    Returns:
        In-scope examples then out-of-scope ones; ``metadata["domain"]`` is the intent's
        domain from ``domains.json`` (``"oos"`` for out-of-scope). Full variant sizes:
        15,000 / 3,000 / 4,500 in scope + 100 / 100 / 1,000 oos.

    Example:
        >>> ex = load_clinc150("val", include_oos=False)   # doctest: +SKIP
        >>> len(ex), len({e.label for e in ex})           # doctest: +SKIP
        (3000, 150)
    """
    split = _resolve_choice(split, ("train", "val", "test"), "split", "clinc150")
    variant = _resolve_choice(variant, tuple(_CLINC_VARIANTS), "variant", "clinc150")
    folder = _dataset_dir(root, "clinc150")
    path = folder / _CLINC_VARIANTS[variant]
    data = _expect(_load_json(path), dict, path, "an object {split: [[text, intent], ...]}")
    domain_of: dict[str, str] = {}
    domains_path = folder / "domains.json"
    if domains_path.is_file():
        domains = _expect(_load_json(domains_path), dict, domains_path, "{domain: [intents]}")
        domain_of = {intent: dom for dom, intents in domains.items() for intent in intents}
    keys = [split] + ([f"oos_{split}"] if include_oos else [])
    skips = _SkipLog(f"clinc150 {variant} {split}")
    out: list[LabelledExample] = []
    for key in keys:
        rows = data.get(key)
        if not isinstance(rows, list):
            raise DataFormatError(
                f"{str(path)!r} has no list under {key!r}; it has keys {sorted(data)}"
            )
        for i, row in enumerate(rows):
            if not (isinstance(row, list) and len(row) == 2
                    and all(isinstance(x, str) for x in row)):
                skips.add("a malformed row (expected [text, intent])", f"{key}[{i}]")
            elif not row[0].strip():
                skips.add("empty text", f"{key}[{i}]")
            else:
                text, label = row
                dom = "oos" if label == "oos" else domain_of.get(label)
                out.append(LabelledExample(text, label, metadata={"domain": dom}))
    skips.warn()
    return out


_SNIPS_INTENTS = (
    "AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook",
    "SearchCreativeWork", "SearchScreeningEvent",
)


def load_snips(split: str = "train", root: StrPath | None = None) -> list[LabelledExample]:
    """SNIPS NLU benchmark 2017: 7 English voice-assistant intents, with slot spans.

    Args:
        split: ``"train"`` (the ``train_*_full.json`` files, 13,784) or ``"validate"``
            (700; ``"val"`` / ``"dev"`` are accepted too).
        root: the data root (see :func:`data_root`).

    Returns:
        Examples grouped by intent (alphabetical); ``metadata["entities"]`` is a tuple of
        ``{"entity", "text", "start", "end"}`` dicts with character offsets into ``text``.

    Example:
        >>> ex = load_snips("validate")   # doctest: +SKIP
        >>> len(ex), ex[0].label           # doctest: +SKIP
        (700, 'AddToPlaylist')
    """
    split = _resolve_choice(split, ("train", "validate"), "split", "snips2017")
    folder = _dataset_dir(root, "snips2017")
    skips = _SkipLog(f"snips2017 {split}")
    out: list[LabelledExample] = []
    for intent in _SNIPS_INTENTS:
        name = f"train_{intent}_full.json" if split == "train" else f"validate_{intent}.json"
        path = folder / name
        data = _expect(_load_json(path), dict, path, "an object {intent: [{data: [...]}]}")
        rows = data.get(intent)
        if not isinstance(rows, list):
            raise DataFormatError(f"{str(path)!r} has no list under {intent!r}; keys {list(data)}")
        for i, row in enumerate(rows):
            chunks = row.get("data") if isinstance(row, dict) else None
            if not isinstance(chunks, list) or not all(
                isinstance(c, dict) and isinstance(c.get("text"), str) for c in chunks
            ):
                skips.add("a malformed row (expected {data: [{text, entity?}]})",
                          f"{name}[{i}]")
                continue
            text, pos = "", 0
            entities: list[dict[str, Any]] = []
            for c in chunks:
                piece = c["text"]
                if c.get("entity"):
                    entities.append({"entity": str(c["entity"]), "text": piece,
                                     "start": pos, "end": pos + len(piece)})
                text += piece
                pos += len(piece)
            if not text.strip():
                skips.add("empty text", f"{name}[{i}]")
                continue
            out.append(LabelledExample(text, intent, metadata={"entities": tuple(entities)}))
    skips.warn()
    return out


_NLUPP_DOMAINS = ("banking", "hotels", "all")
_NLUPP_FOLDS = 20


def load_nlupp(
    domain: str = "banking",
    folds: Sequence[int] | None = None,
    root: StrPath | None = None,
) -> list[LabelledExample]:
    """NLU++: multi-label English intents (banking, hotels) with slots, in 20 folds.

    NLU++ has no train/test split: the upstream setups train on 1 (or 2) folds and test on
    the rest, or the inverse. Pick folds with ``folds``.

    Args:
        domain: ``"banking"`` (2,071), ``"hotels"`` (1,009) or ``"all"`` (both, banking
            first for each fold).
        folds: fold numbers 0-19 to load, in the order given; ``None`` loads all 20.
        root: the data root (see :func:`data_root`).

    Returns:
        ``label`` is the tuple of intents in file order; it is empty for rows with no
        intent (88 banking, 274 hotels rows: slot-only answers such as "today").
        ``metadata`` has ``domain``, ``fold`` and, when present, ``slots`` (the upstream
        ``{slot: {text, span, value}}`` dict).

    Example:
        >>> ex = load_nlupp("hotels", folds=[0])   # doctest: +SKIP
        >>> ex[0].label, ex[0].metadata["fold"]    # doctest: +SKIP
        (('request_info', 'parking'), 0)
    """
    domain = _resolve_choice(domain, _NLUPP_DOMAINS, "domain", "nlupp")
    if folds is None:
        fold_list = list(range(_NLUPP_FOLDS))
    else:
        if isinstance(folds, str | bytes) or not isinstance(folds, Iterable):
            raise ValidationError(
                f"folds must be a sequence of fold numbers 0-{_NLUPP_FOLDS - 1} or None, got "
                f"{type(folds).__name__} {folds!r}"
            )
        fold_list = list(folds)
        bad = [f for f in fold_list if isinstance(f, bool) or not isinstance(f, int)
               or not 0 <= f < _NLUPP_FOLDS]
        if bad:
            raise ValidationError(
                f"unknown nlupp fold(s) {bad}; expected integers 0-{_NLUPP_FOLDS - 1}"
            )
    domains = ("banking", "hotels") if domain == "all" else (domain,)
    folder = _dataset_dir(root, "nlupp") / "data"
    skips = _SkipLog(f"nlupp {domain}")
    out: list[LabelledExample] = []
    for fold in fold_list:
        for dom in domains:
            path = folder / dom / f"fold{fold}.json"
            rows = _expect(_load_json(path), list, path, "a list of {text, intents, slots}")
            for i, row in enumerate(rows):
                where = f"{dom}/fold{fold}.json[{i}]"
                text = row.get("text") if isinstance(row, dict) else None
                intents = row.get("intents", []) if isinstance(row, dict) else None
                if not isinstance(text, str) or not isinstance(intents, list):
                    skips.add("a malformed row (expected {text, intents?, slots?})", where)
                    continue
                if not text.strip():
                    skips.add("empty text", where)
                    continue
                meta: dict[str, Any] = {"domain": dom, "fold": fold}
                if row.get("slots"):
                    meta["slots"] = row["slots"]
                out.append(LabelledExample(text, tuple(intents), metadata=meta))
    skips.warn()
    return out


_MULTIDOGO_DOMAINS = ("airline", "fastfood", "finance", "insurance", "media", "software")


def load_multidogo(
    domain: str,
    split: str = "train",
    root: StrPath | None = None,
    *,
    context: int = 3,
) -> list[LabelledExample]:
    """MultiDoGO (turn-level paper splits): English customer-service intents in 6 domains.

    The set holds only the customer's turns; each conversation is a run of rows with the
    same ``conversationId``, ordered by ``turnNumber`` (which counts the missing agent turns
    too, so it has gaps). The context of an example is the previous customer turns of its
    conversation.

    Args:
        domain: one of airline, fastfood, finance, insurance, media, software.
        split: ``"train"``, ``"dev"`` or ``"test"``.
        root: the data root (see :func:`data_root`).
        context: how many preceding customer turns to keep (0 for none).

    Returns:
        One example per customer turn. ``label`` is the intent; the few multi-intent rows
        (upstream ``a<div>b``) get the sorted intents joined with ``"+"``, and
        ``metadata["intents"]`` always has the tuple. ``dialogue_id`` is the conversation
        id, ``turn_index`` the upstream ``turnNumber``; ``metadata`` also has ``domain``
        and ``slot_labels`` (the space-separated per-token tags). Context turns are
        :attr:`Role.CUSTOMER` with ``metadata["turn_number"]``. Rows with empty text are
        skipped with a warning.

    Example:
        >>> ex = load_multidogo("insurance", "dev")   # doctest: +SKIP
        >>> ex[1].text, [t.text for t in ex[1].context]   # doctest: +SKIP
        ('i want to know about the status of my claim', ['hello'])
    """
    domain = _resolve_choice(domain, _MULTIDOGO_DOMAINS, "domain", "multidogo")
    split = _resolve_choice(split, ("train", "dev", "test"), "split", "multidogo")
    n_context = _check_context(context)
    path = _require_file(_dataset_dir(root, "multidogo") / "turn_level" / domain / f"{split}.tsv")
    skips = _SkipLog(f"multidogo {domain} {split}")
    out: list[LabelledExample] = []
    for conv_id, rows in _multidogo_conversations(path, skips):
        history: list[Turn] = []
        for number, text, utt_id, slots, intent_field in rows:
            intents = tuple(sorted(i.strip() for i in intent_field.split("<div>") if i.strip()))
            turn = Turn(Role.CUSTOMER, text, metadata={"turn_number": number})
            out.append(LabelledExample(
                text,
                "+".join(intents),
                context=tuple(history[max(0, len(history) - n_context):]) if n_context else (),
                dialogue_id=conv_id,
                turn_index=number,
                metadata={"domain": domain, "utterance_id": utt_id, "intents": intents,
                          "slot_labels": slots},
            ))
            history.append(turn)
    skips.warn()
    return out


_MultidogoRow: TypeAlias = "tuple[int, str, str, str, str]"


def _multidogo_conversations(
    path: Path, skips: _SkipLog
) -> Iterator[tuple[str, list[_MultidogoRow]]]:
    """Stream the TSV and yield ``(conversation id, rows sorted by turn number)``.

    Conversations are contiguous in the upstream files; one that reappears later is
    merged into its first occurrence, so order never depends on that.
    """
    needed = ("conversationId", "turnNumber", "utteranceId", "utterance", "slot-labels",
              "intent")
    convs: dict[str, list[_MultidogoRow]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        # Default (minimal) quoting: utterances with tabs or newlines are quoted upstream;
        # reading with QUOTE_NONE would break those rows.
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        _check_columns(header, needed, path)
        assert header is not None
        col = {name: header.index(name) for name in needed}
        for row in reader:
            where = f"line {reader.line_num}"
            if len(row) != len(header):
                skips.add(f"a wrong number of fields (expected {len(header)})", where)
                continue
            conv_id, number_text = row[col["conversationId"]], row[col["turnNumber"]]
            text, intent = row[col["utterance"]], row[col["intent"]]
            try:
                number_f = float(number_text)
            except ValueError:
                number_f = -1.0
            if not number_f.is_integer() or number_f < 0 or not conv_id.strip():
                skips.add("a bad conversationId or turnNumber", where)
                continue
            if not text.strip():
                skips.add("empty text", where)
                continue
            if not intent.strip():
                skips.add("an empty intent", where)
                continue
            convs.setdefault(conv_id, []).append(
                (int(number_f), text, row[col["utteranceId"]], row[col["slot-labels"]], intent)
            )
    for conv_id, rows in convs.items():
        rows.sort(key=lambda r: r[0])
        yield conv_id, rows


_GOEMOTIONS_SPLITS = ("train", "dev", "test")


def load_goemotions(split: str = "train", root: StrPath | None = None) -> list[LabelledExample]:
    """GoEmotions: English Reddit comments, 27 emotions + neutral, multi-label, no context.

    Args:
        split: ``"train"`` (43,410), ``"dev"`` (5,426) or ``"test"`` (5,427).
        root: the data root (see :func:`data_root`).

    Returns:
        ``label`` is the tuple of label names (``labels.txt`` order of the ids in the row);
        ``metadata`` has ``comment_id`` and ``label_ids``.

    Example:
        >>> ex = load_goemotions("dev")   # doctest: +SKIP
        >>> ex[0].label                   # doctest: +SKIP
        ('neutral',)
    """
    split = _resolve_choice(split, _GOEMOTIONS_SPLITS, "split", "goemotions")
    folder = _dataset_dir(root, "goemotions")
    names = [n.strip() for n in _read_text(folder / "labels.txt").splitlines() if n.strip()]
    path = _require_file(folder / f"{split}.tsv")
    skips = _SkipLog(f"goemotions {split}")
    out: list[LabelledExample] = []
    with path.open(encoding="utf-8", newline="") as fh:
        # Texts that contain '"' are CSV-quoted (``"say ""hi"""``); every such row starts
        # and ends with a quote, so the default (minimal) quoting unescapes them exactly.
        reader = csv.reader(fh, delimiter="\t")
        for row in reader:
            line = reader.line_num
            if len(row) != 3:
                skips.add("a wrong number of fields (expected text, label ids, id)",
                          f"line {line}")
                continue
            text, id_field, comment_id = row
            try:
                ids = tuple(int(x) for x in id_field.split(","))
            except ValueError:
                ids = ()
            if not ids or any(not 0 <= i < len(names) for i in ids):
                skips.add(f"label ids not in 0-{len(names) - 1}", f"line {line}")
                continue
            if not text.strip():
                skips.add("empty text", f"line {line}")
                continue
            out.append(LabelledExample(
                text, tuple(names[i] for i in ids),
                metadata={"comment_id": comment_id, "label_ids": ids},
            ))
    skips.warn()
    return out


# --------------------------------------------------------------------------------------
# MUStARD (sarcasm with context)
# --------------------------------------------------------------------------------------


def load_mustard(root: StrPath | None = None) -> list[LabelledExample]:
    """MUStARD: English TV-show utterances labelled sarcastic or not, with preceding turns.

    The set has no train/test split of its own here; for cross-validation use
    :func:`mustard_folds` (``split_indices.p`` is a pickle and is deliberately never
    loaded).

    Role convention: the speaker of the target utterance is :attr:`Role.CUSTOMER`; every
    other speaker in the context is :attr:`Role.AGENT` (names compared case-insensitively).
    The real names (``SHELDON``, ``CHANDLER``...) are in ``Turn.speaker``. Note that generic
    names such as ``PERSON`` may stand for different people.

    Args:
        root: the data root (see :func:`data_root`).

    Returns:
        690 examples (345 ``"sarcastic"``, 345 ``"not_sarcastic"``) in file order;
        ``dialogue_id`` is the upstream id (e.g. ``"1_60"``), ``turn_index`` the number of
        context turns (the target follows them); ``metadata`` has ``show`` and ``speaker``.

    Example:
        >>> ex = load_mustard()                        # doctest: +SKIP
        >>> ex[0].label, ex[0].context[0].speaker      # doctest: +SKIP
        ('sarcastic', 'LEONARD')
    """
    path = _dataset_dir(root, "mustard") / "sarcasm_data.json"
    data = _expect(_load_json(path), dict, path, "an object {id: {utterance, speaker, ...}}")
    skips = _SkipLog("mustard")
    out: list[LabelledExample] = []
    for key, rec in data.items():
        try:
            text, speaker = rec["utterance"], rec["speaker"]
            ctx, ctx_speakers = rec["context"], rec["context_speakers"]
            sarcastic, show = rec["sarcasm"], rec["show"]
            ok = (isinstance(text, str) and isinstance(ctx, list)
                  and isinstance(ctx_speakers, list) and len(ctx) == len(ctx_speakers)
                  and isinstance(sarcastic, bool))
        except (KeyError, TypeError):
            ok = False
        if not ok:
            skips.add("a malformed record (expected utterance, speaker, context, "
                      "context_speakers of equal length, show, sarcasm bool)", key)
            continue
        if not text.strip():
            skips.add("empty text", key)
            continue
        target = str(speaker).strip().casefold()
        turns: list[Turn] = []
        for i, (c_text, c_speaker) in enumerate(zip(ctx, ctx_speakers, strict=True)):
            if not isinstance(c_text, str) or not c_text.strip():
                skips.add("an empty context turn (dropped from the context only)",
                          f"{key} context[{i}]")
                continue
            role = Role.CUSTOMER if str(c_speaker).strip().casefold() == target else Role.AGENT
            turns.append(Turn(role, c_text, speaker=str(c_speaker)))
        out.append(LabelledExample(
            text,
            "sarcastic" if sarcastic else "not_sarcastic",
            context=tuple(turns),
            dialogue_id=key,
            turn_index=len(turns),
            metadata={"show": show, "speaker": speaker},
        ))
    skips.warn()
    return out


def mustard_folds(
    examples: Sequence[LabelledExample], n_folds: int = 5, seed: int = 0
) -> list[tuple[list[int], list[int]]]:
    """A deterministic stratified k-fold split (e.g. of :func:`load_mustard`'s examples).

    This is **not** the upstream MUStARD split (``split_indices.p`` is a pickle, which
    csdialog never loads); results on it are not comparable with the paper's numbers
    fold by fold. Each label's examples are shuffled with ``random.Random(seed)`` and dealt
    round-robin over the folds (continuing across labels), so every fold gets the same
    share of each label to within one example and the sizes differ by at most one.

    Args:
        examples: the examples to split (any labels; tuple labels are treated as one
            class each).
        n_folds: number of folds, at least 2 and at most ``len(examples)``.
        seed: shuffling seed; the same seed gives the same folds.

    Returns:
        ``n_folds`` pairs ``(train_indices, test_indices)`` into ``examples``, each sorted;
        every index is in exactly one test fold.

    Example:
        >>> exs = [LabelledExample(f"t{i}", "sarcastic" if i % 2 else "not_sarcastic")
        ...        for i in range(10)]
        >>> folds = mustard_folds(exs, n_folds=5)
        >>> [len(test) for _, test in folds]
        [2, 2, 2, 2, 2]
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
        raise ValidationError(f"n_folds must be an int >= 2, got {n_folds!r}")
    if n_folds > len(examples):
        raise ValidationError(
            f"n_folds={n_folds} is more than the {len(examples)} examples given; use fewer "
            f"folds or more examples"
        )
    by_label: dict[str | tuple[str, ...], list[int]] = {}
    for i, ex in enumerate(examples):
        if not isinstance(ex, LabelledExample):
            raise ValidationError(
                f"examples must be LabelledExample, item {i} is {type(ex).__name__}"
            )
        by_label.setdefault(ex.label, []).append(i)
    rng = random.Random(seed)
    tests: list[list[int]] = [[] for _ in range(n_folds)]
    slot = 0
    for label in sorted(by_label, key=lambda lab: (isinstance(lab, tuple), str(lab))):
        idx = by_label[label]
        rng.shuffle(idx)
        for i in idx:
            tests[slot % n_folds].append(i)
            slot += 1
    everything = range(len(examples))
    folds: list[tuple[list[int], list[int]]] = []
    for test in tests:
        test_set = set(test)
        folds.append(([i for i in everything if i not in test_set], sorted(test)))
    return folds


# --------------------------------------------------------------------------------------
# CPED (Chinese multi-party TV dialogues)
# --------------------------------------------------------------------------------------

_CPED_LABELS = {"emotion": "emotion", "sentiment": "sentiment", "da": "da"}
_CPED_TURN_FIELDS = {
    "Utterance_ID": "utterance_id", "Emotion": "emotion", "Sentiment": "sentiment",
    "DA": "da", "Gender": "gender", "Age": "age", "Neuroticism": "neuroticism",
    "Extraversion": "extraversion", "Openness": "openness",
    "Agreeableness": "agreeableness", "Conscientiousness": "conscientiousness",
    "Scene": "scene",
}


def load_cped(split: str = "test", root: StrPath | None = None) -> list[Dialogue]:
    """CPED: Chinese multi-party TV-series dialogues with per-utterance emotion, sentiment
    and dialogue act (incl. ``irony``).

    Role convention: these are not customer-service chats and have several speakers, so no
    customer/agent mapping is possible: every turn is :attr:`Role.CUSTOMER` and the
    character's name is in ``Turn.speaker`` (``其他`` is the upstream placeholder for
    unnamed speakers).

    Args:
        split: ``"valid"`` (934 dialogues, 11,137 utterances) or ``"test"`` (2,815 /
            27,438). The large upstream train split is not in the shared copy.
        root: the data root (see :func:`data_root`).

    Returns:
        One :class:`Dialogue` per ``Dialogue_ID`` in file order, turns ordered by
        ``Utterance_ID``. ``Turn.metadata`` has ``utterance_id``, ``emotion`` (13 values as
        spelled in the files: happy, grateful, relaxed, positive-other, neutral, anger,
        sadness, fear, depress, disgust, astonished, worried, negative-other),
        ``sentiment`` (positive/neutral/negative), ``da`` (19 acts), ``gender``, ``age``,
        the Big-Five levels and ``scene``. ``Dialogue.metadata`` has ``tv_id`` and
        ``speakers`` (in order of first appearance).

    Example:
        >>> dialogues = load_cped("valid")                  # doctest: +SKIP
        >>> t = dialogues[0].turns[0]                        # doctest: +SKIP
        >>> t.role.value, t.metadata["emotion"]              # doctest: +SKIP
        ('customer', 'neutral')
    """
    split = _resolve_choice(split, ("valid", "test"), "split", "cped")
    path = _require_file(_dataset_dir(root, "cped") / f"{split}_split.csv")
    skips = _SkipLog(f"cped {split}")
    groups: dict[str, list[tuple[str, Turn, str]]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        _check_columns(reader.fieldnames,
                       ("TV_ID", "Dialogue_ID", "Speaker", "Utterance", *_CPED_TURN_FIELDS), path)
        for row in reader:
            where = f"line {reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                skips.add("a wrong number of fields", where)
                continue
            text = row["Utterance"]
            if not text.strip():
                skips.add("empty text", row["Utterance_ID"] or where)
                continue
            if not row["Dialogue_ID"].strip():
                skips.add("an empty Dialogue_ID", where)
                continue
            meta = {key: row[col] for col, key in _CPED_TURN_FIELDS.items()}
            turn = Turn(Role.CUSTOMER, text, speaker=row["Speaker"], metadata=meta)
            groups.setdefault(row["Dialogue_ID"], []).append(
                (row["Utterance_ID"], turn, row["TV_ID"])
            )
    out: list[Dialogue] = []
    for did, items in groups.items():
        items.sort(key=lambda item: item[0])
        turns = [t for _, t, _ in items]
        speakers = tuple(dict.fromkeys(t.speaker for t in turns if t.speaker))
        meta = {"tv_id": items[0][2], "speakers": speakers}
        out.append(Dialogue(did, tuple(turns), metadata=meta))
    skips.warn()
    return out


def cped_examples(
    split: str = "test",
    root: StrPath | None = None,
    *,
    label: str = "emotion",
    context: int = 5,
) -> list[LabelledExample]:
    """CPED as classification examples: one per utterance, with its preceding turns.

    Args:
        split: ``"valid"`` or ``"test"`` (see :func:`load_cped`).
        root: the data root (see :func:`data_root`).
        label: ``"emotion"`` (13 classes), ``"sentiment"`` (3) or ``"da"`` (19 dialogue
            acts; ``"irony"`` is the Chinese in-context sarcasm signal).
        context: how many preceding turns of the dialogue to keep (0 for none).

    Returns:
        Examples in dialogue order. Context turns are all :attr:`Role.CUSTOMER` with the
        speaker's name in ``Turn.speaker`` (see :func:`load_cped`); ``metadata`` has
        ``speaker``, ``utterance_id`` and the other two labels.

    Example:
        >>> ex = cped_examples("valid", label="da", context=3)   # doctest: +SKIP
        >>> sum(e.label == "irony" for e in ex)                   # doctest: +SKIP
        122
    """
    key = _resolve_choice(label, tuple(_CPED_LABELS), "label", "cped")
    n_context = _check_context(context)
    out: list[LabelledExample] = []
    for dlg in load_cped(split, root):
        turns = dlg.turns
        for i, turn in enumerate(turns):
            meta = {"speaker": turn.speaker, "utterance_id": turn.metadata["utterance_id"]}
            meta.update({k: turn.metadata[k] for k in _CPED_LABELS if k != key})
            out.append(LabelledExample(
                turn.text,
                turn.metadata[key],
                context=turns[max(0, i - n_context):i],
                dialogue_id=dlg.dialogue_id,
                turn_index=i,
                metadata=meta,
            ))
    return out


# --------------------------------------------------------------------------------------
# Task-oriented dialogues with dialogue acts: CrossWOZ, MultiWOZ-zh, MultiWOZ 2.1
# --------------------------------------------------------------------------------------

_Act: TypeAlias = "list[str]"


def _act_domains(turns: Iterable[Turn]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for t in turns:
        for act in t.metadata.get("dialogue_acts", ()):
            if act[1].casefold() not in _GENERAL_DOMAINS:
                seen.setdefault(act[1], None)
    return tuple(seen)


def load_crosswoz(split: str = "val", root: StrPath | None = None) -> list[Dialogue]:
    """CrossWOZ: Chinese task-oriented dialogues (hotel, restaurant, attraction, metro,
    taxi in Beijing) with user and system dialogue acts.

    Args:
        split: ``"val"`` or ``"test"`` (500 dialogues each); the train split is not in the
            shared copy.
        root: the data root (see :func:`data_root`).

    Returns:
        One :class:`Dialogue` per task id. ``usr`` turns are :attr:`Role.CUSTOMER`,
        ``sys`` turns :attr:`Role.AGENT`. ``Turn.metadata["dialogue_acts"]`` is a list of
        ``[intent, domain, slot, value]`` lists; upstream general acts
        ``["General", "greet", "none", "none"]`` are reordered to
        ``["greet", "General", "none", "none"]`` so that the intent comes first as in the
        MultiWOZ loaders. The user/system belief states are not kept.
        ``Dialogue.metadata`` has ``domains`` (from the acts, in order of appearance),
        ``goal_domains``, ``type`` (e.g. ``单领域``) and ``task_description``.

    Example:
        >>> d = load_crosswoz("val")[0]                      # doctest: +SKIP
        >>> d.turns[0].metadata["dialogue_acts"][0]          # doctest: +SKIP
        ['greet', 'General', 'none', 'none']
    """
    split = _resolve_choice(split, ("val", "test"), "split", "crosswoz")
    path = _dataset_dir(root, "crosswoz") / f"{split}.json.zip"
    data = _expect(_load_json_zip(path), dict, path, "an object {task_id: dialogue}")
    roles = {"usr": Role.CUSTOMER, "sys": Role.AGENT}
    skips = _SkipLog(f"crosswoz {split}")
    out: list[Dialogue] = []
    for did, rec in data.items():
        messages = rec.get("messages") if isinstance(rec, dict) else None
        if not isinstance(messages, list):
            skips.add("no message list (dialogue dropped)", did)
            continue
        turns: list[Turn] = []
        for i, msg in enumerate(messages):
            where = f"{did} message {i}"
            if not isinstance(msg, dict) or msg.get("role") not in roles:
                skips.add("a malformed message or a role other than usr/sys", where)
                continue
            text = msg.get("content")
            if not isinstance(text, str) or not text.strip():
                skips.add("empty text", where)
                continue
            acts = [_crosswoz_act(a, path) for a in msg.get("dialog_act") or []]
            turns.append(Turn(roles[msg["role"]], text, metadata={"dialogue_acts": acts}))
        if not turns:
            skips.add("no usable turns (dialogue dropped)", did)
            continue
        goal = rec.get("goal") or []
        goal_domains = tuple(dict.fromkeys(g[1] for g in goal if isinstance(g, list)
                                           and len(g) > 1))
        out.append(Dialogue(did, tuple(turns), metadata={
            "domains": _act_domains(turns),
            "goal_domains": goal_domains,
            "type": rec.get("type"),
            "task_description": tuple(rec.get("task description") or ()),
        }))
    skips.warn()
    return out


def _crosswoz_act(act: object, path: Path) -> _Act:
    if not isinstance(act, list) or len(act) != 4:
        raise DataFormatError(
            f"{str(path)!r}: a dialog act should be [intent, domain, slot, value], got "
            f"{act!r:.80}"
        )
    intent, domain, slot, value = (str(x) for x in act)
    if intent == "General":
        intent, domain = domain, intent
    return [intent, domain, slot, value]


def _multiwoz_act_list(dialog_act: object, where: str) -> list[_Act]:
    if not dialog_act:
        return []
    if not isinstance(dialog_act, dict):
        raise DataFormatError(
            f"{where}: dialog_act should be {{'Domain-Intent': [[slot, value], ...]}}, got "
            f"{type(dialog_act).__name__}"
        )
    acts: list[_Act] = []
    for key, pairs in dialog_act.items():
        domain, sep, intent = str(key).partition("-")
        if not sep or not isinstance(pairs, list):
            raise DataFormatError(
                f"{where}: dialog act {key!r}: {pairs!r:.60} is not 'Domain-Intent': "
                f"[[slot, value], ...]"
            )
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                raise DataFormatError(f"{where}: act {key!r} has a bad [slot, value] {pair!r}")
            acts.append([intent, domain, str(pair[0]), str(pair[1])])
    return acts


def _load_multiwoz(name: str, split: str, path: Path, *, keep_spans: bool) -> list[Dialogue]:
    data = _expect(_load_json_zip(path), dict, path, "an object {dialogue_id: {log: [...]}}")
    skips = _SkipLog(f"{name} {split}")
    out: list[Dialogue] = []
    for did, rec in data.items():
        log = rec.get("log") if isinstance(rec, dict) else None
        if not isinstance(log, list):
            skips.add("no log list (dialogue dropped)", did)
            continue
        turns: list[Turn] = []
        for i, entry in enumerate(log):
            where = f"{did} turn {i}"
            text = entry.get("text") if isinstance(entry, dict) else None
            if not isinstance(text, str) or not text.strip():
                skips.add("empty text", where)
                continue
            meta: dict[str, Any] = {
                "dialogue_acts": _multiwoz_act_list(entry.get("dialog_act"), f"{path}: {where}")
            }
            if keep_spans and entry.get("span_info"):
                meta["span_info"] = entry["span_info"]
            # MultiWOZ logs alternate strictly, user first: the role is the turn's parity.
            turns.append(Turn(Role.CUSTOMER if i % 2 == 0 else Role.AGENT, text, metadata=meta))
        if not turns:
            skips.add("no usable turns (dialogue dropped)", did)
            continue
        meta_d: dict[str, Any] = {"domains": _act_domains(turns)}
        goal = rec.get("goal")
        if isinstance(goal, dict):
            meta_d["goal_domains"] = tuple(
                k for k, v in goal.items() if v and k not in ("topic", "message")
            )
        out.append(Dialogue(did, tuple(turns), metadata=meta_d))
    skips.warn(stacklevel=4)
    return out


def load_multiwoz_zh(split: str = "val", root: StrPath | None = None) -> list[Dialogue]:
    """MultiWOZ-zh: MultiWOZ 2.1 machine-translated to Chinese (DSTC9), dialogue acts in
    Chinese (e.g. ``旅馆-请求``).

    Args:
        split: ``"val"`` (999 dialogues, though the data README says 1,000), ``"test"``
            (1,000) or ``"human_val"`` (250, human-translated).
        root: the data root (see :func:`data_root`).

    Returns:
        One :class:`Dialogue` per id; even turns (user) are :attr:`Role.CUSTOMER`, odd
        turns (system) :attr:`Role.AGENT`. ``Turn.metadata["dialogue_acts"]`` is a list of
        ``[intent, domain, slot, value]`` lists (``{"旅馆-通知": [["区域", "东方"]]}`` becomes
        ``[["通知", "旅馆", "区域", "东方"]]``; general acts have domain ``常规``).
        ``Dialogue.metadata["domains"]``: the act domains in order of appearance.

    Example:
        >>> d = load_multiwoz_zh("val")[0]                   # doctest: +SKIP
        >>> d.turns[0].metadata["dialogue_acts"][0]          # doctest: +SKIP
        ['通知', '旅馆', '区域', '东方']
    """
    split = _resolve_choice(split, ("val", "test", "human_val"), "split", "multiwoz_zh")
    path = _dataset_dir(root, "multiwoz_zh") / f"{split}.json.zip"
    return _load_multiwoz("multiwoz_zh", split, path, keep_spans=False)


def load_multiwoz21(split: str = "val", root: StrPath | None = None) -> list[Dialogue]:
    """MultiWOZ 2.1 (ConvLab copy): English task-oriented dialogues with dialogue acts.

    Args:
        split: ``"val"`` (999 dialogues) or ``"test"`` (1,000); train is not in the
            shared copy.
        root: the data root (see :func:`data_root`).

    Returns:
        One :class:`Dialogue` per id; even turns (user) are :attr:`Role.CUSTOMER`, odd
        turns (system) :attr:`Role.AGENT`. ``Turn.metadata["dialogue_acts"]`` is a list of
        ``[intent, domain, slot, value]`` lists (``{"Hotel-Inform": [["Area", "east"]]}``
        becomes ``[["Inform", "Hotel", "Area", "east"]]``; general acts such as
        ``general-thank`` become ``["thank", "general", "none", "none"]``);
        ``Turn.metadata["span_info"]`` keeps the upstream slot spans when there are any.
        The belief states are not kept. ``Dialogue.metadata`` has ``domains`` (act
        domains in order of appearance, incl. the ``Booking`` pseudo-domain) and
        ``goal_domains`` (the non-empty domains of the user goal).

    Example:
        >>> d = load_multiwoz21("val")[0]                    # doctest: +SKIP
        >>> d.dialogue_id, d.turns[0].metadata["dialogue_acts"][0]   # doctest: +SKIP
        ('PMUL1635', ['Inform', 'Hotel', 'Area', 'east'])
    """
    split = _resolve_choice(split, ("val", "test"), "split", "multiwoz21")
    path = _dataset_dir(root, "multiwoz21") / f"{split}.json.zip"
    return _load_multiwoz("multiwoz21", split, path, keep_spans=True)


_GRANULARITIES = ("intent", "intent-domain", "intent-domain-slot")


def dialogue_act_examples(
    dialogues: Iterable[Dialogue],
    *,
    role: Role | str = "customer",
    granularity: str = "intent-domain-slot",
    context: int = 2,
) -> list[LabelledExample]:
    """Turn dialogues with ``Turn.metadata["dialogue_acts"]`` into act-labelled examples.

    Works on the output of :func:`load_crosswoz`, :func:`load_multiwoz_zh` and
    :func:`load_multiwoz21` (or any dialogue whose turns carry
    ``[intent, domain, slot, value]`` act lists). Turns of ``role`` without acts are left
    out (about 8% of MultiWOZ user turns).

    Args:
        dialogues: the dialogues.
        role: whose turns to label (``"customer"`` = the user side, ``"agent"`` = system).
        granularity: ``"intent"``, ``"intent-domain"`` or ``"intent-domain-slot"``. Each
            act gives ``intent[-domain[-slot]]``; a slot of ``none`` or empty is dropped
            (``thank-general``, not ``thank-general-none``).
        context: how many preceding turns (either role) to keep (0 for none).

    Returns:
        One example per labelled turn; ``label`` is the distinct act labels sorted and
        joined with ``"+"``, e.g. ``"Inform-Hotel-Area+Inform-Hotel-Stars"``; ``metadata``
        has the turn's ``dialogue_acts`` and ``role``.

    Example:
        >>> d = Dialogue("d1", [
        ...     Turn("customer", "How much is it?",
        ...          metadata={"dialogue_acts": [["Request", "Hotel", "Price", "?"]]}),
        ...     Turn("agent", "100 pounds.",
        ...          metadata={"dialogue_acts": [["Inform", "Hotel", "Price", "100"]]})])
        >>> [e.label for e in dialogue_act_examples([d])]
        ['Request-Hotel-Price']
        >>> dialogue_act_examples([d], role="agent")[0].context[0].text
        'How much is it?'
    """
    wanted = parse_role(role)
    level = _resolve_choice(granularity, _GRANULARITIES, "granularity", "dialogue_act_examples")
    n_parts = len(level.split("-"))
    n_context = _check_context(context)
    if isinstance(dialogues, Dialogue):
        dialogues = [dialogues]
    out: list[LabelledExample] = []
    for dlg in dialogues:
        if not isinstance(dlg, Dialogue):
            raise ValidationError(
                f"dialogues must be Dialogue objects (e.g. from load_multiwoz21), got "
                f"{type(dlg).__name__}"
            )
        turns = dlg.turns
        for i, turn in enumerate(turns):
            if turn.role is not wanted:
                continue
            acts = turn.metadata.get("dialogue_acts")
            if not acts:
                continue
            labels: set[str] = set()
            for act in acts:
                parts = [str(p) for p in act[:n_parts]]
                if len(parts) == 3 and parts[2].strip().lower() in ("", "none"):
                    parts = parts[:2]
                labels.add("-".join(parts))
            out.append(LabelledExample(
                turn.text,
                "+".join(sorted(labels)),
                context=turns[max(0, i - n_context):i],
                dialogue_id=dlg.dialogue_id,
                turn_index=i,
                metadata={"dialogue_acts": acts, "role": wanted.value},
            ))
    return out


# --------------------------------------------------------------------------------------
# Request -> reply pairs (answer checking), from the dialogue acts
# --------------------------------------------------------------------------------------

_REQUEST_INTENTS = frozenset({"Request", "请求"})
# system acts that give information (an answer), in CrossWOZ, MultiWOZ 2.1 and MultiWOZ-zh
_INFORM_INTENTS = frozenset({"Inform", "Recommend", "Book", "OfferBooked",
                             "通知", "推荐", "预定", "完成预定"})
_BOOKING_DOMAINS = frozenset({"Booking", "预定"})


@dataclass(frozen=True)
class RequestReplyPair:
    """A user turn that requests slots and the system turn right after it.

    Attributes:
        question: the user turn's text.
        reply: the next system turn's text.
        requested: the ``(domain, slot)`` pairs the user requests.
        informed: the ``(domain, slot)`` pairs the reply gives (Inform, Recommend, Book,
            OfferBooked and their Chinese names).
        answered: every requested slot is informed (a booking pseudo-domain counts for any
            domain).
        dialogue_id, turn_index: where the question is.
        context: the turns before the question.
    """

    question: str
    reply: str
    requested: tuple[tuple[str, str], ...]
    informed: tuple[tuple[str, str], ...]
    answered: bool
    dialogue_id: str
    turn_index: int
    context: tuple[Turn, ...] = ()


def request_reply_pairs(dialogues: Iterable[Dialogue], *, context: int = 2,
                        skip_unannotated: bool = True) -> list[RequestReplyPair]:
    """Labelled "was the question answered?" pairs from dialogues with dialogue acts.

    A user turn with ``Request`` acts (``请求`` in MultiWOZ-zh) and the system turn right
    after it; the reply answers when its informing acts carry every requested slot. Works
    on :func:`load_crosswoz`, :func:`load_multiwoz_zh` and :func:`load_multiwoz21`.

    A system turn with no dialogue act at all was not annotated upstream (CrossWOZ test:
    29 of its 3,325 pairs; "北京西西友谊酒店电话是010-63024929。" after a request for the
    phone is one of them): it says nothing about the slots, so by default its pair gets no
    label and is skipped. ``skip_unannotated=False`` keeps those pairs, labelled
    unanswered (the behaviour of csdialog 0.1.0 before this option).

    Example:
        >>> d = Dialogue("d1", [
        ...     Turn("customer", "What is the phone number?",
        ...          metadata={"dialogue_acts": [["Request", "Hotel", "Phone", "?"]]}),
        ...     Turn("agent", "It is 01223 356354.",
        ...          metadata={"dialogue_acts": [["Inform", "Hotel", "Phone", "01223356354"]]})])
        >>> p = request_reply_pairs([d])[0]
        >>> p.requested, p.answered
        ((('Hotel', 'Phone'),), True)
    """
    n_context = _check_context(context)
    out: list[RequestReplyPair] = []
    for dlg in dialogues:
        turns = dlg.turns
        for i in range(len(turns) - 1):
            turn, nxt = turns[i], turns[i + 1]
            if turn.role is not Role.CUSTOMER or nxt.role is not Role.AGENT:
                continue
            req = tuple(dict.fromkeys(
                (str(a[1]), str(a[2])) for a in turn.metadata.get("dialogue_acts", ())
                if a[0] in _REQUEST_INTENTS
            ))
            if not req:
                continue
            reply_acts = nxt.metadata.get("dialogue_acts") or ()
            if skip_unannotated and not reply_acts:
                continue
            inf = tuple(dict.fromkeys(
                (str(a[1]), str(a[2])) for a in reply_acts if a[0] in _INFORM_INTENTS
            ))
            answered = all(
                any(slot == s and (dom == d or d in _BOOKING_DOMAINS) for d, s in inf)
                for dom, slot in req
            )
            out.append(RequestReplyPair(
                question=turn.text, reply=nxt.text, requested=req, informed=inf,
                answered=answered, dialogue_id=dlg.dialogue_id, turn_index=i,
                context=turns[max(0, i - n_context):i],
            ))
    return out
