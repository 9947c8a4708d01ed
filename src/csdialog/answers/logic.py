"""Answer logics: what a good answer to a viewpoint must contain.

An :class:`AnswerLogic` is written by a QA manager (the expected answer in natural
language, optional required keywords) or mined from historical dialogues by
:func:`~csdialog.answers.mine_answer_logics`. Logics live in a readable YAML or JSON file:

.. code-block:: yaml

    logics:
      - logic_id: price-B-vs-A
        questions: ["为什么面膜B比面膜A贵?", "面膜B贵在哪里?"]
        answer: "因为面膜B含有依克多因/玻色因等珍贵成分,原料成本高"
        keywords: ["依克多因|玻色因|成分"]      # every entry required; "|" = any of
        answer_type: reason

Example:
    >>> logic = AnswerLogic("price", "因为面膜B含有依克多因", keywords=("依克多因|玻色因",))
    >>> logic.missing_keywords("B里面加了玻色因"), logic.missing_keywords("一分钱一分货")
    ((), ('依克多因|玻色因',))
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csdialog.answers.types import ANSWER_TYPES
from csdialog.errors import DataFormatError, ValidationError

__all__ = ["AnswerLogic", "load_answer_logics", "save_answer_logics"]

_SOURCES = ("rule", "mined")


def _str_tuple(value: object, what: str, logic_id: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise ValidationError(
            f"answer logic {logic_id!r}: {what} must be a list of strings, got "
            f"{type(value).__name__}"
        )
    out = tuple(str(v) for v in value)
    if any(not v.strip() for v in out):
        raise ValidationError(f"answer logic {logic_id!r}: {what} has an empty string")
    return out


@dataclass(frozen=True)
class AnswerLogic:
    """What a good answer to one viewpoint (or one kind of question) must contain.

    Attributes:
        logic_id: a unique id.
        answer: the expected answer in natural language; the reply is compared with it.
        viewpoint_id: the viewpoint it answers (from a fitted
            :class:`~csdialog.viewpoints.ViewpointClusterer`), if any.
        questions: example questions it answers; used to match questions to logics when
            there is no clusterer (or no viewpoint id).
        keywords: required keywords; each entry must occur in the reply, ``"a|b"`` means
            any of ``a`` and ``b`` (case-insensitive).
        answer_type: the kind of answer expected (one of
            :data:`~csdialog.answers.ANSWER_TYPES`), if it should be checked.
        support: for mined logics, how many resolving replies carried it.
        examples: for mined logics, example replies (most typical first).
        source: ``"rule"`` (written by people) or ``"mined"``.
    """

    logic_id: str
    answer: str
    viewpoint_id: str | None = None
    questions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    answer_type: str | None = None
    support: int = 0
    examples: tuple[str, ...] = ()
    source: str = "rule"

    def __post_init__(self) -> None:
        if not isinstance(self.logic_id, str) or not self.logic_id.strip():
            raise ValidationError(f"an answer logic needs a non-empty logic_id, got {self.logic_id!r}")
        if not isinstance(self.answer, str) or not self.answer.strip():
            raise ValidationError(
                f"answer logic {self.logic_id!r}: answer must be the expected answer in words, "
                f"got {self.answer!r:.60}"
            )
        for name in ("questions", "keywords", "examples"):
            object.__setattr__(self, name, _str_tuple(getattr(self, name), name, self.logic_id))
        if self.answer_type is not None and self.answer_type not in ANSWER_TYPES:
            raise ValidationError(
                f"answer logic {self.logic_id!r}: answer_type {self.answer_type!r} is not one of "
                f"{list(ANSWER_TYPES)}"
            )
        if self.source not in _SOURCES:
            raise ValidationError(
                f"answer logic {self.logic_id!r}: source must be one of {_SOURCES}, got {self.source!r}"
            )

    def missing_keywords(self, reply: str) -> tuple[str, ...]:
        """The required keyword entries that ``reply`` lacks (empty when all are there)."""
        low = reply.casefold()
        return tuple(
            entry for entry in self.keywords
            if not any(alt.strip().casefold() in low for alt in entry.split("|") if alt.strip())
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"logic_id": self.logic_id, "answer": self.answer}
        for name in ("viewpoint_id", "answer_type"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("questions", "keywords", "examples"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.support:
            out["support"] = self.support
        out["source"] = self.source
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerLogic:
        if not isinstance(data, Mapping):
            raise ValidationError(f"an answer logic must be a mapping, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"answer logic {data.get('logic_id')!r}: unknown field(s) {unknown}; "
                f"expected some of {sorted(known)}"
            )
        if "logic_id" not in data or "answer" not in data:
            raise ValidationError(
                f"an answer logic needs 'logic_id' and 'answer', got fields {sorted(data)}"
            )
        return cls(**{k: data[k] for k in data})


def _read_config(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        from csdialog._optional import require

        yaml = require("yaml", "YAML config files")
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataFormatError(f"{str(path)!r} is not valid YAML: {exc}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{str(path)!r} is not valid JSON: {exc}") from None
    raise ValidationError(f"{str(path)!r}: expected a .yaml, .yml or .json file")


def load_answer_logics(path: str | os.PathLike[str]) -> list[AnswerLogic]:
    """Read answer logics from a YAML or JSON file: ``{"logics": [...]}`` or a bare list."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"answer-logic file {str(p)!r} does not exist")
    data = _read_config(p)
    items = data.get("logics") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise DataFormatError(
            f"{str(p)!r}: expected a list of logics or {{'logics': [...]}}, got {type(data).__name__}"
        )
    try:
        logics = [AnswerLogic.from_dict(d) for d in items]
    except ValidationError as exc:
        raise ValidationError(f"{str(p)!r}: {exc}") from None
    _check_unique(logics)
    return logics


def save_answer_logics(logics: Sequence[AnswerLogic], path: str | os.PathLike[str]) -> Path:
    """Write logics as YAML (``.yaml``/``.yml``) or JSON, readable by :func:`load_answer_logics`."""
    p = Path(path)
    payload = {"logics": [lg.to_dict() for lg in logics]}
    if p.suffix.lower() in (".yaml", ".yml"):
        from csdialog._optional import require

        yaml = require("yaml", "YAML config files")
        p.write_text(yaml.safe_dump(payload, allow_unicode=True, sort_keys=False), encoding="utf-8")
    else:
        p.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return p


def _check_unique(logics: Sequence[AnswerLogic]) -> None:
    seen: set[str] = set()
    for lg in logics:
        if lg.logic_id in seen:
            raise ValidationError(f"answer logic id {lg.logic_id!r} is used twice; ids must be unique")
        seen.add(lg.logic_id)
