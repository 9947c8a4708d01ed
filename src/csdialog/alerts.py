"""Alerts: complaint risk per dialogue, and customers who keep coming back.

- :func:`complaint_risk`: a score in ``[0, 1]`` per dialogue from the signals that precede
  complaints: escalation words (投诉, 差评, 12315, "manager", "report you"...), negative or
  sarcastic customer turns (when emotions are given), a complaint intent (when intents
  are given), questions left unanswered (when answer checks are given), and a customer who
  ends the chat upset. Signals combine as a noisy-OR; every reason carries its evidence.
- :func:`repeat_contacts`: customers with ``N`` contacts within ``D`` days, for each
  configured :class:`RepeatRule` (e.g. 3 in 1 day, 3 in 3 days). Dialogues without a
  timestamp are left out and counted, never guessed.

Example:
    >>> from csdialog import Dialogue, Turn
    >>> d = Dialogue("d1", [Turn("customer", "再不处理我就去12315投诉"), Turn("agent", "请耐心等待")])
    >>> a = complaint_risk([d])[0]
    >>> a.kind, a.severity, a.reasons[0]
    ('complaint_risk', 'high', 'escalation words: 12315, 投诉')
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csdialog.dialogue import Dialogue, Role
from csdialog.errors import ValidationError

__all__ = [
    "ESCALATION",
    "Alert",
    "RepeatRule",
    "alerts_frame",
    "complaint_risk",
    "repeat_contacts",
]

ESCALATION = re.compile(
    r"投诉|投訴|差评|差評|(?<!\d)12315(?!\d)|(?<!\d)12345(?!\d)|消协|消協|消费者协会|工商局|举报|舉報|曝光|媒体|媒體|律师|律師|起诉|起訴|"
    r"法院|找你们领导|找你們領導|找你们经理|找你們經理|叫你们主管|叫你們主管|黑猫|黑貓|维权|維權|"
    r"\bcomplain(?:t|ts|ing)?\b|\bmanager\b|\bsupervisor\b|\breport(?:ing)? (?:you|this|it)\b|\blawyer\b|"
    r"\bconsumer protection\b|"
    r"\bsue\b|\bchargeback\b|\bbetter business bureau\b|\bbbb\b|\b1-star\b|\bone[- ]star\b|"
    r"\bbad review\b|\bescalate\b|\bsocial media\b|\bregulator\b|\bombudsman\b",
    re.IGNORECASE,
)
NEGATIVE = frozenset({"angry", "dissatisfied", "disappointed"})

# signal weights of the noisy-OR (documented in docs/inspection.md)
WEIGHTS: Mapping[str, float] = {
    "escalation": 0.75,
    "complaint_intent": 0.6,
    "sarcasm": 0.4,
    "negative": 0.3,
    "ends_upset": 0.25,
    "unanswered": 0.15,
}


def _severity(score: float) -> str:
    return "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"


@dataclass(frozen=True)
class Alert:
    """One alert.

    Attributes:
        kind: ``"complaint_risk"`` or ``"repeat_contact"``.
        score: in ``[0, 1]``.
        severity: ``"high"`` (>= 0.7), ``"medium"`` (>= 0.4) or ``"low"``.
        dialogue_ids: the dialogue(s) concerned.
        customer_id: the customer, when known.
        reasons: why, one line each.
        evidence: ``"<dialogue_id>#<turn>: <text>"`` lines.
    """

    kind: str
    score: float
    severity: str
    dialogue_ids: tuple[str, ...]
    customer_id: str | None
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "score": self.score, "severity": self.severity,
                "dialogue_id": ", ".join(self.dialogue_ids), "customer_id": self.customer_id,
                "reasons": "; ".join(self.reasons), "evidence": " | ".join(self.evidence)}


def complaint_risk(
    dialogues: Iterable[Dialogue] | Dialogue,
    *,
    emotions: Mapping[str, Sequence[Any]] | None = None,
    checks: Sequence[Any] | None = None,
    intents: Mapping[str, Sequence[Any]] | None = None,
    complaint_labels: Iterable[str] = ("complaint", "投诉"),
    min_score: float = 0.0,
    weights: Mapping[str, float] | None = None,
    min_emotion_score: float = 0.5,
) -> list[Alert]:
    """Complaint risk of each dialogue (sorted by score, highest first).

    Args:
        dialogues: the dialogues.
        emotions: ``{dialogue_id: [EmotionPrediction per turn]}`` (optional).
        checks: :class:`~csdialog.answers.AnswerCheck` s (optional).
        intents: ``{dialogue_id: [IntentPrediction or label per turn]}`` (optional); a
            customer turn whose label is in ``complaint_labels`` is a signal.
        complaint_labels: intent labels that mean "complaint".
        min_score: dialogues below it are left out.
        weights: override the signal weights (keys of :data:`WEIGHTS`).
        min_emotion_score: a negative emotion counts when its probability reaches this.
    """
    if isinstance(dialogues, Dialogue):
        dialogues = [dialogues]
    w = dict(WEIGHTS)
    if weights:
        unknown = set(weights) - set(WEIGHTS)
        if unknown:
            raise ValidationError(f"unknown weight(s) {sorted(unknown)}; expected some of {sorted(WEIGHTS)}")
        w.update(weights)
    labels = frozenset(complaint_labels)
    unanswered: dict[str, list[Any]] = {}
    for c in checks or ():
        if not c.answered:
            unanswered.setdefault(str(c.dialogue_id), []).append(c)
    out: list[Alert] = []
    for d in getattr(dialogues, "dialogues", dialogues):
        if not isinstance(d, Dialogue):
            raise ValidationError(f"complaint_risk() takes Dialogue objects, got {type(d).__name__}")
        signals: list[tuple[float, str, list[str]]] = []
        turns = d.turns
        cust = [i for i, t in enumerate(turns) if t.role is Role.CUSTOMER]
        hits = [(i, sorted(set(m.group(0) for m in ESCALATION.finditer(turns[i].text)))) for i in cust]
        hits = [(i, h) for i, h in hits if h]
        if hits:
            words = sorted({x for _, h in hits for x in h})
            signals.append((w["escalation"], f"escalation words: {', '.join(words)}",
                            [f"{d.dialogue_id}#{i}: {turns[i].text}" for i, _ in hits]))
        preds = emotions.get(d.dialogue_id) if emotions else None
        if preds:
            sarc = [i for i in cust if i < len(preds) and preds[i] is not None and preds[i].sarcastic]
            if sarc:
                s = max(float(preds[i].sarcasm_score or 1.0) for i in sarc)
                signals.append((w["sarcasm"] * s, f"sarcastic customer turn(s): {len(sarc)}",
                                [f"{d.dialogue_id}#{i}: {turns[i].text}" for i in sarc]))
            def upset(i: int, preds: Sequence[Any] = preds) -> bool:
                p = preds[i] if i < len(preds) else None
                return p is not None and p.label in NEGATIVE and p.score >= min_emotion_score

            neg = [i for i in cust if upset(i)]
            if neg:
                share = len(neg) / max(1, len(cust))
                signals.append((w["negative"] * min(1.0, 0.5 + share),
                                f"negative customer turns: {len(neg)} of {len(cust)}",
                                [f"{d.dialogue_id}#{i}: {turns[i].text}" for i in neg[:3]]))
            if cust and (upset(cust[-1]) or (cust[-1] < len(preds) and preds[cust[-1]] is not None
                                             and preds[cust[-1]].sarcastic)):
                signals.append((w["ends_upset"], "the customer's last turn is negative",
                                [f"{d.dialogue_id}#{cust[-1]}: {turns[cust[-1]].text}"]))
        pred_int = intents.get(d.dialogue_id) if intents else None
        if pred_int:
            comp = [i for i in cust if i < len(pred_int)
                    and str(getattr(pred_int[i], "label", pred_int[i])) in labels]
            if comp:
                signals.append((w["complaint_intent"], "complaint intent",
                                [f"{d.dialogue_id}#{i}: {turns[i].text}" for i in comp]))
        missed = unanswered.get(d.dialogue_id, [])
        if missed:
            signals.append((min(3 * w["unanswered"], w["unanswered"] * len(missed)),
                            f"unanswered questions: {len(missed)}",
                            [f"{d.dialogue_id}#{c.question_turn}: {c.question}" for c in missed]))
        keep = 1.0
        for s, _, _ in signals:
            keep *= 1.0 - min(1.0, max(0.0, s))
        score = round(1.0 - keep, 4)
        if score < min_score or not signals:
            continue
        signals.sort(key=lambda x: -x[0])
        out.append(Alert("complaint_risk", score, _severity(score), (d.dialogue_id,), d.customer_id,
                         tuple(r for _, r, _ in signals), tuple(e for _, _, ev in signals for e in ev)))
    out.sort(key=lambda a: (-a.score, a.dialogue_ids))
    return out


@dataclass(frozen=True)
class RepeatRule:
    """``count`` contacts by one customer within ``days`` days (a sliding window)."""

    count: int = 3
    days: float = 1.0

    def __post_init__(self) -> None:
        if int(self.count) < 2:
            raise ValidationError(f"a repeat rule needs count >= 2, got {self.count}")
        if not self.days > 0:
            raise ValidationError(f"a repeat rule needs days > 0, got {self.days}")

    @property
    def label(self) -> str:
        d = f"{self.days:g}"
        return f"{self.count} contacts in {d} day{'s' if d != '1' else ''}"

    @classmethod
    def parse(cls, value: object) -> RepeatRule:
        """From a ``RepeatRule``, a ``(count, days)`` pair or text like ``"3/1d"`` / ``"3 in 3 days"``."""
        if isinstance(value, RepeatRule):
            return value
        if isinstance(value, tuple | list) and len(value) == 2:
            return cls(int(value[0]), float(value[1]))
        if isinstance(value, str):
            m = re.fullmatch(r"\s*(\d+)\s*(?:/|in|per)\s*(\d+(?:\.\d+)?)\s*(?:d|days?)?\s*", value,
                             re.IGNORECASE)
            if m:
                return cls(int(m.group(1)), float(m.group(2)))
        raise ValidationError(
            f"a repeat rule is (count, days), RepeatRule(count, days) or text like '3/1d' or '3 in 3 days'; "
            f"got {value!r}"
        )


def _start(d: Dialogue) -> datetime | None:
    for t in d.turns:
        if t.timestamp is not None:
            return t.timestamp
    return None


def repeat_contacts(
    dialogues: Iterable[Dialogue],
    rules: Iterable[RepeatRule | tuple[int, float] | str] = ((3, 1), (3, 3)),
) -> list[Alert]:
    """Customers who contacted ``count`` times or more within ``days`` days, per rule.

    One alert per customer and rule, listing every dialogue of the windows that reached
    the count (overlapping windows are merged). A dialogue's time is its first timestamp;
    dialogues without one, or without a ``customer_id``, are left out (a warning says how
    many). Scores: ``min(1, contacts / count) * (0.6 + 0.4 / days)``, so tighter rules rank first.
    """
    parsed = [RepeatRule.parse(r) for r in rules]
    if not parsed:
        raise ValidationError("give at least one repeat rule, e.g. rules=[(3, 1)]")
    by_customer: dict[str, list[tuple[datetime, str]]] = {}
    undated = anonymous = 0
    for d in getattr(dialogues, "dialogues", dialogues):
        if not isinstance(d, Dialogue):
            raise ValidationError(f"repeat_contacts() takes Dialogue objects, got {type(d).__name__}")
        if not d.customer_id:
            anonymous += 1
            continue
        start = _start(d)
        if start is None:
            undated += 1
            continue
        by_customer.setdefault(d.customer_id, []).append((start, d.dialogue_id))
    if undated or anonymous:
        warnings.warn(f"repeat_contacts: {undated} dialogue(s) without timestamps and {anonymous} without "
                      "a customer_id were left out", stacklevel=2)
    out: list[Alert] = []
    for rule in parsed:
        window = timedelta(days=rule.days)
        for cid in sorted(by_customer):
            contacts = sorted(by_customer[cid], key=lambda x: _sortable(x[0]))
            flagged: list[int] = []
            lo = 0
            for hi in range(len(contacts)):
                while _sortable(contacts[hi][0]) - _sortable(contacts[lo][0]) > window:
                    lo += 1
                if hi - lo + 1 >= rule.count:
                    flagged.extend(range(lo, hi + 1))
            if not flagged:
                continue
            idx = sorted(set(flagged))
            n = len(idx)
            score = round(min(1.0, n / rule.count) * (0.6 + 0.4 / max(1.0, rule.days)), 4)
            first, last = contacts[idx[0]][0], contacts[idx[-1]][0]
            span = _sortable(last) - _sortable(first)
            out.append(Alert(
                "repeat_contact", score, _severity(score), tuple(contacts[i][1] for i in idx), cid,
                (f"{rule.label}: {n} contacts within {span.total_seconds() / 3600:.1f} h",),
                tuple(f"{contacts[i][1]}: {contacts[i][0].isoformat()}" for i in idx),
            ))
    out.sort(key=lambda a: (-a.score, a.customer_id or "", a.reasons))
    return out


def _sortable(ts: datetime) -> datetime:
    """Naive timestamps are taken as UTC so they compare with aware ones."""
    from datetime import timezone

    return ts if ts.tzinfo is not None else ts.replace(tzinfo=timezone.utc)


def alerts_frame(alerts: Sequence[Alert]) -> Any:
    """The alerts as a DataFrame (one row each)."""
    import pandas as pd

    cols = ["kind", "severity", "score", "dialogue_id", "customer_id", "reasons", "evidence"]
    return pd.DataFrame([a.to_dict() for a in alerts], columns=cols)
