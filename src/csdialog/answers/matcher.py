"""Did the agent give the answer the question calls for?

:class:`AnswerLogicMatcher` finds the customer's questions in a dialogue, matches each to
a viewpoint (with a fitted :class:`~csdialog.viewpoints.ViewpointClusterer`) or directly
to the example questions of the :class:`AnswerLogic` s, finds the agent reply (the first
agent turn after the question that answers it, else the next one), and judges it with a
pluggable scorer. Every judgement is a frozen :class:`AnswerCheck` with the evidence.

Example:
    >>> from csdialog import Dialogue, Turn
    >>> from csdialog.encoders import HashingEncoder
    >>> logic = AnswerLogic("price", "因为面膜B含有依克多因,这个成分比较珍贵",
    ...                     questions=("面膜B为什么比A贵?",), keywords=("依克多因|玻色因|成分",))
    >>> m = AnswerLogicMatcher([logic], encoder=HashingEncoder(dim=256))
    >>> d = Dialogue("d1", [Turn("customer", "面膜B为什么比A贵?"),
    ...                     Turn("agent", "亲，一分价钱一分货哦")])
    >>> c = m.check([d])[0]
    >>> c.logic_id, c.reply_turn, c.answered, c.missing_keywords
    ('price', 1, False, ('依克多因|玻色因|成分',))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from csdialog.answers.logic import AnswerLogic, _check_unique
from csdialog.answers.scorers import PairScorer, SimilarityScorer
from csdialog.answers.types import EXPECTED_ANSWERS, answer_types, question_type
from csdialog.dialogue import Dialogue, Role
from csdialog.encoders import Encoder, get_encoder
from csdialog.encoders.cache import CachedEncoder
from csdialog.errors import ValidationError
from csdialog.viewpoints.questions import Question, extract_questions

__all__ = ["LOGIC_THRESHOLDS", "AnswerCheck", "AnswerLogicMatcher"]

# Cosine a question needs with a logic's example question for the logic to apply, per
# encoder. e5-small puts paraphrases of one question at >= 0.95 and different questions
# of the same shop at 0.80-0.91 (measured on the sample chats; see docs/answers.md).
LOGIC_THRESHOLDS: Mapping[str, float] = {"e5-small": 0.93, "usem3": 0.62, "hashing": 0.5}
_FALLBACK_LOGIC_THRESHOLD = 0.85


@dataclass(frozen=True)
class AnswerCheck:
    """The verdict on one customer question.

    Attributes:
        dialogue_id, question_turn, question: where the question is and its text.
        question_type: what kind of answer it asks for (see
            :func:`~csdialog.answers.question_type`), or ``None``.
        viewpoint_id: its viewpoint, when a clusterer was given.
        logic_id, logic_score: the expected answer logic matched and how well (cosine of
            the question to the logic's questions; 1.0 for a viewpoint match), or
            ``None``.
        reply_turn, reply: the agent turn judged (``None`` if the agent never replied).
        answered: the verdict (``score >= threshold`` and no required keyword missing).
        score: the scorer's probability that the reply answers the question.
        type_agrees: does the reply carry the kind of answer asked for (``None``: the
            question's type is unknown)?
        answer_types: kinds of answer found in the reply.
        missing_keywords: required keywords of the logic the reply lacks.
        reason: a one-line explanation for reports.
    """

    dialogue_id: str | None
    question_turn: int | None
    question: str
    question_type: str | None
    viewpoint_id: str | None
    logic_id: str | None
    logic_score: float | None
    reply_turn: int | None
    reply: str | None
    answered: bool
    score: float
    type_agrees: bool | None
    answer_types: tuple[str, ...]
    missing_keywords: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["answer_types"] = ", ".join(self.answer_types)
        out["missing_keywords"] = ", ".join(self.missing_keywords)
        return out


class AnswerLogicMatcher:
    """Check every customer question of a dialogue against the answer it calls for.

    Args:
        logics: the expected answers (written or mined); may be empty, then only the
            question/reply evidence is used.
        clusterer: a fitted :class:`~csdialog.viewpoints.ViewpointClusterer`; questions
            are assigned to its viewpoints and matched to the logics of that viewpoint.
        encoder: encoder name or object (default: the clusterer's, else the offline
            default). Wrapped in a cache, so each distinct text is embedded once.
        scorer: ``"similarity"`` (default, :class:`SimilarityScorer`) or any object with
            ``score(questions, replies, logics)`` (see :class:`PairScorer`).
        threshold: a reply answers when the score reaches it (and no required keyword is
            missing).
        logic_threshold: minimum cosine between a question and a logic's example
            questions for the logic to apply (when there is no viewpoint match); default
            the encoder's entry in :data:`LOGIC_THRESHOLDS`.
        max_reply_turns: how many agent turns after the question (before the customer's
            next question) may hold the answer.
        is_question: sentence -> bool, passed to
            :func:`~csdialog.viewpoints.extract_questions`.

    Example:
        >>> from csdialog import Dialogue, Turn
        >>> from csdialog.encoders import HashingEncoder
        >>> m = AnswerLogicMatcher(encoder=HashingEncoder(dim=64))
        >>> d = Dialogue("d1", [Turn("customer", "快递什么时候到?"), Turn("agent", "您好"),
        ...                     Turn("agent", "预计明天下午送达")])
        >>> c = m.check([d])[0]
        >>> c.question_type, c.type_agrees, c.reply_turn
        ('when', True, 2)
    """

    def __init__(
        self,
        logics: Iterable[AnswerLogic] = (),
        *,
        clusterer: Any = None,
        encoder: str | Encoder | None = None,
        scorer: str | PairScorer = "similarity",
        threshold: float = 0.5,
        logic_threshold: float | None = None,
        max_reply_turns: int = 3,
        is_question: Callable[[str], bool] | None = None,
    ) -> None:
        self.logics = list(logics)
        for lg in self.logics:
            if not isinstance(lg, AnswerLogic):
                raise ValidationError(
                    f"logics must be AnswerLogic objects (or use load_answer_logics(path)), got "
                    f"{type(lg).__name__}"
                )
        _check_unique(self.logics)
        if not 0.0 <= threshold <= 1.0:
            raise ValidationError(f"threshold must be in [0, 1], got {threshold}")
        if max_reply_turns < 1:
            raise ValidationError(f"max_reply_turns must be >= 1, got {max_reply_turns}")
        self.clusterer = clusterer
        if clusterer is not None and not hasattr(clusterer, "assign"):
            raise ValidationError(
                "clusterer must be a fitted ViewpointClusterer (with assign()), got "
                f"{type(clusterer).__name__}"
            )
        if encoder is None and clusterer is not None:
            encoder = getattr(clusterer, "encoder_", None)
        enc = get_encoder(encoder)
        self.encoder = enc if isinstance(enc, CachedEncoder) else CachedEncoder(enc)
        if isinstance(scorer, str):
            if scorer != "similarity":
                raise ValidationError(
                    "scorer must be 'similarity' or an object with score(questions, replies, logics), "
                    f"got {scorer!r}"
                )
            self.scorer: PairScorer = SimilarityScorer(self.encoder)
        elif hasattr(scorer, "score"):
            self.scorer = scorer
        else:
            raise ValidationError(
                "scorer must be 'similarity' or have a score(questions, replies, logics) method, "
                f"got {type(scorer).__name__}"
            )
        self.threshold = threshold
        self.logic_threshold = (
            logic_threshold if logic_threshold is not None
            else LOGIC_THRESHOLDS.get(self.encoder.name, LOGIC_THRESHOLDS.get(
                self.encoder.name.split("-")[0], _FALLBACK_LOGIC_THRESHOLD))
        )
        self.max_reply_turns = max_reply_turns
        self.is_question = is_question
        self._by_viewpoint: dict[str, list[AnswerLogic]] = {}
        for lg in self.logics:
            if lg.viewpoint_id is not None:
                self._by_viewpoint.setdefault(lg.viewpoint_id, []).append(lg)
        self._logic_q: list[tuple[int, str]] = [
            (k, q) for k, lg in enumerate(self.logics) for q in (lg.questions or ())
        ]
        self._logic_qvecs: np.ndarray | None = None

    # ------------------------------------------------------------------ matching logics

    def match_logics(
        self, questions: Sequence[str], viewpoint_ids: Sequence[str | None] | None = None
    ) -> list[tuple[AnswerLogic | None, float | None]]:
        """The expected logic of each question and its match score (or ``(None, None)``).

        A logic whose ``viewpoint_id`` equals the question's viewpoint wins (score 1.0);
        otherwise the logic with the most similar example question, when the cosine
        reaches ``logic_threshold``.
        """
        vids = list(viewpoint_ids) if viewpoint_ids is not None else [None] * len(questions)
        out: list[tuple[AnswerLogic | None, float | None]] = [(None, None)] * len(questions)
        todo = []
        for i, vid in enumerate(vids):
            cands = self._by_viewpoint.get(vid, []) if vid is not None else []
            if cands:
                out[i] = (max(cands, key=lambda lg: lg.support), 1.0)
            else:
                todo.append(i)
        if todo and self._logic_q:
            if self._logic_qvecs is None:
                self._logic_qvecs = self.encoder.encode([q for _, q in self._logic_q])
            sims = self.encoder.encode([questions[i] for i in todo]) @ self._logic_qvecs.T
            owners = np.asarray([k for k, _ in self._logic_q])
            for row, i in enumerate(todo):
                best = int(np.argmax(sims[row]))
                if sims[row, best] >= self.logic_threshold:
                    out[i] = (self.logics[int(owners[best])], float(sims[row, best]))
        return out

    # ------------------------------------------------------------------ checking

    def _reply_candidates(self, d: Dialogue, turn: int, next_question_turn: int | None) -> list[int]:
        out = []
        stop = next_question_turn if next_question_turn is not None else len(d.turns)
        for j in range(turn + 1, min(stop, len(d.turns))):
            if d.turns[j].role is Role.AGENT:
                out.append(j)
                if len(out) >= self.max_reply_turns:
                    break
        if not out and next_question_turn is not None:
            # the agent answered after the customer's follow-up question: look one step on
            for j in range(stop, len(d.turns)):
                if d.turns[j].role is Role.AGENT:
                    out.append(j)
                    break
        return out

    def check(self, dialogues: Iterable[Dialogue] | Dialogue) -> list[AnswerCheck]:
        """One :class:`AnswerCheck` per customer question in ``dialogues``, in order."""
        if isinstance(dialogues, Dialogue):
            dialogues = [dialogues]
        dialogues = list(getattr(dialogues, "dialogues", dialogues))
        by_id: dict[int, Dialogue] = {}
        items: list[tuple[Dialogue, Question]] = []
        for d in dialogues:
            if not isinstance(d, Dialogue):
                raise ValidationError(f"check() takes Dialogue objects, got {type(d).__name__}")
            by_id[id(d)] = d
            for q in extract_questions([d], is_question=self.is_question):
                items.append((d, q))
        if not items:
            return []
        qtexts = [q.text for _, q in items]
        vids: list[str | None] = (
            list(self.clusterer.assign([q for _, q in items])) if self.clusterer is not None
            else [None] * len(items)
        )
        matched = self.match_logics(qtexts, vids)
        # candidate replies of every question, scored in one batch
        cand: list[list[int]] = []
        for k, (d, q) in enumerate(items):
            nxt = next((items[m][1].turn_index for m in range(k + 1, len(items))
                        if items[m][0] is d and items[m][1].turn_index != q.turn_index), None)
            cand.append(self._reply_candidates(d, int(q.turn_index or 0), nxt))
        flat = [(k, j) for k, js in enumerate(cand) for j in js]
        scores = self.scorer.score(
            [qtexts[k] for k, _ in flat],
            [items[k][0].turns[j].text for k, j in flat],
            [matched[k][0] for k, _ in flat],
        ) if flat else np.zeros(0)
        per_q: dict[int, list[tuple[int, float]]] = {}
        for (k, j), s in zip(flat, scores, strict=True):
            per_q.setdefault(k, []).append((j, float(s)))
        return [self._verdict(items[k][0], items[k][1], vids[k], matched[k], per_q.get(k, []))
                for k in range(len(items))]

    def _verdict(
        self, d: Dialogue, q: Question, vid: str | None,
        matched: tuple[AnswerLogic | None, float | None], scored: list[tuple[int, float]],
    ) -> AnswerCheck:
        logic, logic_score = matched
        qtype = question_type(q.text)
        common: dict[str, Any] = {
                  "dialogue_id": d.dialogue_id, "question_turn": q.turn_index, "question": q.text,
                  "question_type": qtype, "viewpoint_id": vid,
                  "logic_id": logic.logic_id if logic else None,
                  "logic_score": round(logic_score, 4) if logic_score is not None else None}
        if not scored:
            return AnswerCheck(**common, reply_turn=None, reply=None, answered=False, score=0.0,
                               type_agrees=None, answer_types=(), missing_keywords=(),
                               reason="no agent reply after the question")
        # the first candidate that answers, else the best-scoring one
        ok = [(j, s) for j, s in scored
              if s >= self.threshold and not (logic and logic.missing_keywords(d.turns[j].text))]
        j, s = ok[0] if ok else max(scored, key=lambda js: js[1])
        reply = d.turns[j].text
        found = answer_types(reply)
        expected = set(EXPECTED_ANSWERS[qtype]) if qtype else set()
        if logic is not None and logic.answer_type is not None:
            expected = {logic.answer_type}
        agrees = bool(expected & found) if expected else None
        missing = logic.missing_keywords(reply) if logic else ()
        answered = bool(ok)
        if answered:
            reason = "answered" + (f" with logic {logic.logic_id}" if logic else "")
        elif missing:
            reason = f"reply lacks required keywords: {', '.join(missing)}"
        elif agrees is False and logic is not None and logic.answer_type is not None:
            reason = f"logic {logic.logic_id} expects a {logic.answer_type}; the reply gives none"
        elif agrees is False:
            reason = f"a {qtype} question, but the reply gives no {'/'.join(sorted(expected))}"
        elif logic is not None:
            reason = f"reply does not carry the expected logic {logic.logic_id}"
        else:
            reason = "reply does not address the question"
        return AnswerCheck(**common, reply_turn=j, reply=reply, answered=answered, score=round(s, 4),
                           type_agrees=agrees, answer_types=tuple(sorted(found)),
                           missing_keywords=missing, reason=reason)

    def to_frame(self, checks: Sequence[AnswerCheck]) -> Any:
        """The checks as a DataFrame (one row per question)."""
        import pandas as pd

        cols = list(AnswerCheck.__dataclass_fields__)
        return pd.DataFrame([c.to_dict() for c in checks], columns=cols)

    def describe(self) -> Mapping[str, Any]:
        """What the matcher uses, for reports."""
        return {"logics": len(self.logics), "encoder": self.encoder.name,
                "scorer": type(self.scorer).__name__, "threshold": self.threshold,
                "clusterer": self.clusterer is not None}
