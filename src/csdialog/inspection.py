"""Automated quality inspection of every dialogue: a readable rule set, a score, and a
tag with evidence for every deduction.

Rules live in a YAML or JSON file (``Inspector.from_config``); the shipped default is
``csdialog/config/inspection_default.yaml``. Each rule has an ``id``, a ``type`` (a
built-in or one registered with :func:`register_rule`), the points it ``deduct`` s, an
optional ``applies_if`` (a regular expression the customer's text must match for the rule
to apply) and the type's own parameters:

.. code-block:: yaml

    max_score: 100
    rules:
      - {id: greeting, type: greeting, deduct: 5, within: 1}
      - {id: forbidden, type: forbidden_phrases, deduct: 10, phrases: ["不知道", "这不归我管"]}
      - {id: first_response, type: first_response_time, deduct: 5, max_seconds: 60}

Built-in types: ``greeting``, ``needs_discovery``, ``recommendation``, ``answered``
(uses the :class:`~csdialog.answers.AnswerCheck` s), ``apology_where_due`` (uses the
emotions when given), ``forbidden_phrases``, ``first_response_time``,
``average_response_time`` (both skipped when timestamps are missing) and
``repeated_reply`` (the same agent message sent twice).

Example:
    >>> from csdialog import Dialogue, Turn
    >>> d = Dialogue("d1", [Turn("customer", "在吗"), Turn("agent", "不知道")])
    >>> r = Inspector.default().inspect([d])[0]
    >>> r.score < 100, "forbidden_phrases" in r.tags, "greeting" in r.tags
    (True, True, True)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csdialog.dialogue import Dialogue, Role
from csdialog.errors import ValidationError

__all__ = [
    "DEFAULT_CONFIG",
    "DialogueView",
    "Finding",
    "InspectionResult",
    "Inspector",
    "Rule",
    "register_rule",
    "registered_rules",
]

DEFAULT_CONFIG = Path(__file__).parent / "config" / "inspection_default.yaml"
NEGATIVE_EMOTIONS = frozenset({"angry", "dissatisfied", "disappointed", "impatient", "sad", "anxious"})


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule on one dialogue.

    Attributes:
        rule_id: the rule's id from the config.
        passed: ``True`` / ``False``, or ``None`` when the rule did not apply or could not
            be checked (e.g. no timestamps); ``message`` says which.
        deduction: points taken off (0 unless ``passed`` is ``False``).
        message: what was found, in one line.
        turns: the turn indices that are the evidence.
        evidence: the texts of those turns (or the measured value).
    """

    rule_id: str
    passed: bool | None
    deduction: float
    message: str
    turns: tuple[int, ...] = ()
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "passed": self.passed, "deduction": self.deduction,
                "message": self.message, "turns": list(self.turns), "evidence": list(self.evidence)}


@dataclass(frozen=True)
class InspectionResult:
    """A dialogue's inspection: its score and every rule's finding."""

    dialogue_id: str
    score: float
    max_score: float
    findings: tuple[Finding, ...]
    agent: str | None = None

    @property
    def deductions(self) -> tuple[Finding, ...]:
        """The findings that took points off."""
        return tuple(f for f in self.findings if f.passed is False and f.deduction > 0)

    @property
    def tags(self) -> tuple[str, ...]:
        """The ids of the rules that took points off."""
        return tuple(f.rule_id for f in self.deductions)

    def to_dict(self) -> dict[str, Any]:
        return {"dialogue_id": self.dialogue_id, "score": self.score, "max_score": self.max_score,
                "agent": self.agent, "tags": list(self.tags),
                "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class DialogueView:
    """What a rule sees: the dialogue and what earlier steps found in it.

    Attributes:
        dialogue: the dialogue.
        checks: its :class:`~csdialog.answers.AnswerCheck` s (``None``: not run).
        emotions: one :class:`~csdialog.EmotionPrediction` per turn (``None``: not run).
    """

    dialogue: Dialogue
    checks: Sequence[Any] | None = None
    emotions: Sequence[Any] | None = None

    def agent_turns(self) -> list[tuple[int, str]]:
        return [(i, t.text) for i, t in enumerate(self.dialogue.turns) if t.role is Role.AGENT]

    def customer_text(self) -> str:
        return "\n".join(t.text for t in self.dialogue.turns if t.role is Role.CUSTOMER)


class Rule:
    """Base class of inspection rules. Subclasses implement :meth:`evaluate`, returning
    ``(passed, message, turns, evidence)``; ``passed`` ``None`` means "not applicable".

    Args:
        rule_id: the id shown in tags.
        deduct: points taken off when the rule fails.
        applies_if: a regular expression; the rule applies only to dialogues whose
            customer text matches it.
        description: free text, for reports.
    """

    def __init__(self, rule_id: str, *, deduct: float = 5.0, applies_if: str | None = None,
                 description: str = "") -> None:
        if not isinstance(rule_id, str) or not rule_id.strip():
            raise ValidationError(f"a rule needs a non-empty id, got {rule_id!r}")
        if deduct < 0:
            raise ValidationError(f"rule {rule_id!r}: deduct must be >= 0, got {deduct}")
        self.rule_id = rule_id
        self.deduct = float(deduct)
        self.applies_if = _compile(applies_if, rule_id, "applies_if") if applies_if else None
        self.description = description

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        raise NotImplementedError

    def check(self, view: DialogueView) -> Finding:
        if self.applies_if is not None and not self.applies_if.search(view.customer_text()):
            return Finding(self.rule_id, None, 0.0, "not applicable (applies_if did not match)")
        passed, message, turns, evidence = self.evaluate(view)
        return Finding(self.rule_id, passed, self._deduction(passed, turns), message,
                       tuple(int(t) for t in turns), tuple(str(e) for e in evidence))

    def _deduction(self, passed: bool | None, turns: Sequence[int]) -> float:
        return self.deduct if passed is False else 0.0


def _compile(pattern: str, rule_id: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValidationError(f"rule {rule_id!r}: {what} is not a valid regular expression ({exc})") from None


def _phrase_regex(phrase: str) -> str:
    """A phrase as a regex: Latin words match as whole words ("hi" not inside "this")."""
    body = re.escape(phrase)
    if phrase[:1].isascii() and phrase[:1].isalnum():
        body = r"\b" + body
    if phrase[-1:].isascii() and phrase[-1:].isalnum():
        body += r"\b"
    return body


def _phrases(phrases: object, rule_id: str) -> re.Pattern[str]:
    if isinstance(phrases, str) or not isinstance(phrases, Iterable):
        raise ValidationError(f"rule {rule_id!r}: phrases must be a list of strings, got {phrases!r:.60}")
    items = [str(p) for p in phrases if str(p).strip()]
    if not items:
        raise ValidationError(f"rule {rule_id!r}: phrases is empty")
    return re.compile("|".join(_phrase_regex(p) for p in sorted(items, key=len, reverse=True)),
                      re.IGNORECASE)


class PhraseRule(Rule):
    """Passes when an agent turn (the first ``within`` ones, if set) contains a phrase or
    matches a pattern."""

    def __init__(self, rule_id: str, *, phrases: Sequence[str] = (), patterns: Sequence[str] = (),
                 within: int | None = None, what: str = "phrase", **kw: Any) -> None:
        super().__init__(rule_id, **kw)
        alts = [_phrase_regex(p) for p in phrases if str(p).strip()] + [p for p in patterns if p.strip()]
        if not alts:
            raise ValidationError(f"rule {rule_id!r}: give phrases or patterns")
        self.pattern = _compile("|".join(alts), rule_id, "phrases/patterns")
        self.within = within
        self.what = what

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        turns = view.agent_turns()
        if not turns:
            return None, "no agent turns", (), ()
        scope = turns[: self.within] if self.within else turns
        for i, text in scope:
            if self.pattern.search(text):
                return True, f"{self.what} found", (i,), (text,)
        where = f"in the first {self.within} agent turn(s)" if self.within else "in any agent turn"
        return False, f"no {self.what} {where}", (scope[0][0],), (scope[0][1],)


class ForbiddenPhrasesRule(Rule):
    """Fails for every agent turn with a forbidden phrase (``deduct`` each, at most
    ``max_deduct``)."""

    def __init__(
        self, rule_id: str, *, phrases: Sequence[str], max_deduct: float | None = None, **kw: Any
    ) -> None:
        super().__init__(rule_id, **kw)
        self.pattern = _phrases(phrases, rule_id)
        self.max_deduct = None if max_deduct is None else float(max_deduct)

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        hits = [(i, t, [m.group(0) for m in self.pattern.finditer(t)]) for i, t in view.agent_turns()]
        hits = [h for h in hits if h[2]]
        if not hits:
            return True, "no forbidden phrase", (), ()
        return (False, "forbidden phrase(s): " + ", ".join(dict.fromkeys(p for h in hits for p in h[2])),
                [h[0] for h in hits], [h[1] for h in hits])

    def _deduction(self, passed: bool | None, turns: Sequence[int]) -> float:
        if passed is not False:
            return 0.0
        total = self.deduct * max(1, len(turns))
        return min(total, self.max_deduct) if self.max_deduct is not None else total


class AnsweredRule(Rule):
    """Fails for every customer question the agent did not answer (needs answer checks)."""

    def __init__(self, rule_id: str, *, max_deduct: float | None = None, **kw: Any) -> None:
        super().__init__(rule_id, **kw)
        self.max_deduct = None if max_deduct is None else float(max_deduct)

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        if view.checks is None:
            return None, "not checked (no answer checks were run)", (), ()
        if not view.checks:
            return None, "no customer questions", (), ()
        missed = [c for c in view.checks if not c.answered]
        if not missed:
            return True, f"all {len(view.checks)} question(s) answered", (), ()
        return (False, f"{len(missed)} of {len(view.checks)} question(s) not answered: "
                + "; ".join(c.reason for c in missed),
                [int(c.question_turn or 0) for c in missed], [c.question for c in missed])

    def _deduction(self, passed: bool | None, turns: Sequence[int]) -> float:
        if passed is not False:
            return 0.0
        total = self.deduct * max(1, len(turns))
        return min(total, self.max_deduct) if self.max_deduct is not None else total


_COMPLAINT = re.compile(
    r"投诉|投訴|差评|差評|12315|举报|舉報|曝光|消协|消協|太差|垃圾|气死|氣死|什么态度|什麼態度|"
    r"\bcomplain|\bterrible\b|\bawful\b|\bunacceptable\b|\bridiculous\b|\bmanager\b|"
    r"\bworst\b|\bfed up\b|\bfurious\b",
    re.IGNORECASE,
)


class ApologyRule(Rule):
    """Where the customer is upset (a negative or sarcastic turn, or complaint words), an
    agent turn after it must apologise."""

    def __init__(self, rule_id: str, *, phrases: Sequence[str],
                 emotions: Sequence[str] = tuple(NEGATIVE_EMOTIONS),
                 min_score: float = 0.5, **kw: Any) -> None:
        super().__init__(rule_id, **kw)
        self.pattern = _phrases(phrases, rule_id)
        self.emotions = frozenset(emotions)
        self.min_score = min_score

    def _upset(self, view: DialogueView) -> int | None:
        for i, t in enumerate(view.dialogue.turns):
            if t.role is not Role.CUSTOMER:
                continue
            p = view.emotions[i] if view.emotions is not None and i < len(view.emotions) else None
            if p is not None and (p.sarcastic or (p.label in self.emotions and p.score >= self.min_score)):
                return i
            if _COMPLAINT.search(t.text):
                return i
        return None

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        first = self._upset(view)
        if first is None:
            return None, "not due (the customer is not upset)", (), ()
        turns = view.dialogue.turns
        for i in range(first + 1, len(turns)):
            if turns[i].role is Role.AGENT and self.pattern.search(turns[i].text):
                return True, "apologised", (i,), (turns[i].text,)
        if any(t.role is Role.AGENT and self.pattern.search(t.text) for t in turns[:first]):
            return True, "apologised before the customer got upset", (), ()
        return False, "the customer was upset and no apology followed", (first,), (turns[first].text,)


def _response_delays(d: Dialogue) -> list[tuple[int, float]] | None:
    """(agent turn index, seconds since the customer turn it replies to), or None when
    timestamps are missing."""
    turns = d.turns
    if any(t.timestamp is None for t in turns if t.role in (Role.CUSTOMER, Role.AGENT)):
        return None
    out = []
    waiting: int | None = None
    for i, t in enumerate(turns):
        if t.role is Role.CUSTOMER and waiting is None:
            waiting = i
        elif t.role is Role.AGENT and waiting is not None:
            ts, tw = t.timestamp, turns[waiting].timestamp
            assert ts is not None and tw is not None
            out.append((i, (ts - tw).total_seconds()))
            waiting = None
    return out


class ResponseTimeRule(Rule):
    """First-response (``which="first"``) or average (``"average"``) agent reply time
    must stay within ``max_seconds``. Bot and system turns do not count as replies."""

    def __init__(self, rule_id: str, *, max_seconds: float, which: str = "first", **kw: Any) -> None:
        super().__init__(rule_id, **kw)
        if which not in ("first", "average"):
            raise ValidationError(f"rule {rule_id!r}: which must be 'first' or 'average', got {which!r}")
        if max_seconds <= 0:
            raise ValidationError(f"rule {rule_id!r}: max_seconds must be > 0, got {max_seconds}")
        self.max_seconds = float(max_seconds)
        self.which = which

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        delays = _response_delays(view.dialogue)
        if delays is None:
            return None, "not checked: timestamps missing", (), ()
        if not delays:
            return None, "no agent reply to a customer turn", (), ()
        if self.which == "first":
            i, sec = delays[0]
            turns: tuple[int, ...] = (i,)
        else:
            sec = sum(s for _, s in delays) / len(delays)
            turns = tuple(i for i, s in delays if s > self.max_seconds)
        label = "first response" if self.which == "first" else "average response"
        ok = sec <= self.max_seconds
        return (ok, f"{label} {sec:.0f}s ({'within' if ok else 'over'} {self.max_seconds:.0f}s)",
                turns if not ok else (), (f"{sec:.0f}s",))


class RepeatedReplyRule(Rule):
    """Fails when the agent sends the same message twice: identical after removing
    punctuation and case, or nearly so (``similarity`` of the character sequences, so a
    template with another opener such as "您好," / "亲," still counts)."""

    def __init__(self, rule_id: str, *, min_chars: int = 8, similarity: float = 0.85, **kw: Any) -> None:
        super().__init__(rule_id, **kw)
        if not 0 < similarity <= 1:
            raise ValidationError(f"rule {rule_id!r}: similarity must be in (0, 1], got {similarity}")
        self.min_chars = min_chars
        self.similarity = similarity

    def evaluate(self, view: DialogueView) -> tuple[bool | None, str, Sequence[int], Sequence[str]]:
        from difflib import SequenceMatcher

        seen: list[tuple[str, int]] = []
        for i, text in view.agent_turns():
            key = re.sub(r"\W+", "", text).casefold()
            if len(key) < self.min_chars:
                continue
            for other, j in seen:
                ratio = SequenceMatcher(None, key, other, autojunk=False).ratio()
                if key == other or ratio >= self.similarity:
                    return False, "the same reply was sent twice", (j, i), (text,)
            seen.append((key, i))
        return True, "no repeated reply", (), ()


_REGISTRY: dict[str, Callable[..., Rule]] = {
    "greeting": lambda rid, **kw: PhraseRule(rid, what="greeting", **kw),
    "needs_discovery": lambda rid, **kw: PhraseRule(rid, what="needs-discovery question", **kw),
    "recommendation": lambda rid, **kw: PhraseRule(rid, what="recommendation", **kw),
    "phrase_required": PhraseRule,
    "forbidden_phrases": ForbiddenPhrasesRule,
    "answered": AnsweredRule,
    "apology_where_due": ApologyRule,
    "first_response_time": lambda rid, **kw: ResponseTimeRule(rid, which="first", **kw),
    "average_response_time": lambda rid, **kw: ResponseTimeRule(rid, which="average", **kw),
    "repeated_reply": RepeatedReplyRule,
}


def register_rule(type_name: str, factory: Callable[..., Rule], *, overwrite: bool = False) -> None:
    """Make a rule type usable from config files: ``factory(rule_id, **params)`` must
    return a :class:`Rule`.

    Example:
        >>> class Emoji(Rule):
        ...     def evaluate(self, view):
        ...         bad = [i for i, t in view.agent_turns() if "🙄" in t]
        ...         return (not bad), "eye-roll emoji" if bad else "ok", bad, ()
        >>> register_rule("no_eye_roll", Emoji, overwrite=True)
        >>> "no_eye_roll" in registered_rules()
        True
    """
    if type_name in _REGISTRY and not overwrite:
        raise ValidationError(f"rule type {type_name!r} exists; pass overwrite=True to replace it")
    _REGISTRY[type_name] = factory


def registered_rules() -> list[str]:
    """The rule types a config can name."""
    return sorted(_REGISTRY)


@dataclass
class Inspector:
    """Score every dialogue against a rule set.

    Args:
        rules: the rules, in report order.
        max_score: the score of a dialogue with no deduction (scores never go below 0).
    """

    rules: list[Rule] = field(default_factory=list)
    max_score: float = 100.0

    def __post_init__(self) -> None:
        ids = [r.rule_id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValidationError(f"rule ids must be unique; used more than once: {dup}")
        for r in self.rules:
            if not hasattr(r, "check"):
                raise ValidationError(f"rules must be Rule objects, got {type(r).__name__}")

    @classmethod
    def from_config(cls, config: str | os.PathLike[str] | Mapping[str, Any]) -> Inspector:
        """Build from a YAML / JSON file or an already parsed mapping."""
        where = "config"
        if not isinstance(config, Mapping):
            from csdialog.answers.logic import _read_config

            path = Path(config)
            if not path.is_file():
                raise ValidationError(f"inspection config {str(path)!r} does not exist")
            where = str(path)
            config = _read_config(path)
            if not isinstance(config, Mapping):
                raise ValidationError(
                    f"{where}: expected a mapping with 'rules', got {type(config).__name__}")
        raw = config.get("rules")
        if not isinstance(raw, list) or not raw:
            raise ValidationError(f"{where}: 'rules' must be a non-empty list of rules")
        rules = []
        for k, spec in enumerate(raw):
            if not isinstance(spec, Mapping) or "type" not in spec:
                raise ValidationError(
                    f"{where}: rule {k} must be a mapping with 'id' and 'type', got {spec!r:.80}")
            params = dict(spec)
            kind = str(params.pop("type"))
            rid = str(params.pop("id", kind))
            if kind not in _REGISTRY:
                raise ValidationError(
                    f"{where}: rule {rid!r} has unknown type {kind!r}; known types: {registered_rules()} "
                    "(register your own with csdialog.inspection.register_rule)"
                )
            try:
                rules.append(_REGISTRY[kind](rid, **params))
            except TypeError as exc:
                raise ValidationError(f"{where}: rule {rid!r} ({kind}): bad parameters: {exc}") from None
        return cls(rules, max_score=float(config.get("max_score", 100.0)))

    @classmethod
    def default(cls) -> Inspector:
        """The shipped rule set (Chinese and English phrases)."""
        return cls.from_config(DEFAULT_CONFIG)

    def inspect(
        self,
        dialogues: Iterable[Dialogue] | Dialogue,
        *,
        checks: Sequence[Any] | None = None,
        emotions: Mapping[str, Sequence[Any]] | None = None,
    ) -> list[InspectionResult]:
        """Inspect each dialogue.

        Args:
            dialogues: the dialogues (a ``ReadResult`` works too).
            checks: answer checks of these dialogues (from
                :meth:`~csdialog.answers.AnswerLogicMatcher.check`); ``None`` skips the
                ``answered`` rule.
            emotions: ``{dialogue_id: [EmotionPrediction per turn]}``; without them the
                apology rule uses complaint words only.
        """
        if isinstance(dialogues, Dialogue):
            dialogues = [dialogues]
        dialogues = list(getattr(dialogues, "dialogues", dialogues))
        by_dialogue: dict[str, list[Any]] | None = None
        if checks is not None:
            by_dialogue = {}
            for c in checks:
                by_dialogue.setdefault(str(c.dialogue_id), []).append(c)
        out = []
        for d in dialogues:
            if not isinstance(d, Dialogue):
                raise ValidationError(f"inspect() takes Dialogue objects, got {type(d).__name__}")
            view = DialogueView(d, None if by_dialogue is None else by_dialogue.get(d.dialogue_id, []),
                                None if emotions is None else emotions.get(d.dialogue_id))
            findings = tuple(r.check(view) for r in self.rules)
            total = sum(f.deduction for f in findings)
            agents = [t.speaker for t in d.turns if t.role is Role.AGENT and t.speaker]
            agent = max(set(agents), key=agents.count) if agents else None
            out.append(InspectionResult(d.dialogue_id, max(0.0, self.max_score - total), self.max_score,
                                        findings, agent))
        return out

    @staticmethod
    def rows(results: Sequence[InspectionResult], level: str = "dialogues") -> list[dict[str, Any]]:
        """Flat table rows: one per dialogue (score, tags) or, with ``level="findings"``, per
        finding (turns and evidence joined into text)."""
        if level == "dialogues":
            return [{"dialogue_id": r.dialogue_id, "score": r.score, "agent": r.agent,
                     "deductions": len(r.deductions), "tags": ", ".join(r.tags)} for r in results]
        if level == "findings":
            return [{"dialogue_id": r.dialogue_id, **f.to_dict(), "turns": ",".join(map(str, f.turns)),
                     "evidence": " | ".join(f.evidence)} for r in results for f in r.findings]
        raise ValidationError(f"level must be 'dialogues' or 'findings', got {level!r}")

    @staticmethod
    def to_frame(results: Sequence[InspectionResult], level: str = "dialogues") -> Any:
        """:meth:`rows` as a DataFrame."""
        import pandas as pd

        rows = Inspector.rows(results, level)
        if level == "dialogues":
            return pd.DataFrame(rows, columns=["dialogue_id", "score", "agent", "deductions", "tags"])
        return pd.DataFrame(rows)
