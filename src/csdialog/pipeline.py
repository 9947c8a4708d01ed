"""One pipeline from exported chats to annotated turns, viewpoints, answer checks,
inspection scores, alerts and a report: the same result in services, notebooks and the
``csdialog analyze`` command.

Steps (any subset, in this order): ``intent`` (needs a trained model), ``emotion``,
``viewpoints``, ``answers``, ``inspection``, ``alerts``. Dialogues are read and annotated
in chunks (``chunk_size``), every distinct text is embedded once and shared by all steps.
Viewpoint clustering needs every question, so it runs after the stream; the per-turn
annotations kept in memory are small records, not embeddings.

Example:
    >>> from csdialog.encoders import HashingEncoder
    >>> p = Pipeline(steps=("viewpoints", "answers", "inspection", "alerts"),
    ...              encoder=HashingEncoder(dim=64))
    >>> r = p.run("examples/data/sample_chats.jsonl")            # doctest: +SKIP
    >>> r.to_frame("alerts").head()                                # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from csdialog.alerts import Alert, RepeatRule, alerts_frame, complaint_risk, repeat_contacts
from csdialog.answers import (
    AnswerCheck,
    AnswerLogic,
    AnswerLogicMatcher,
    PairScorer,
    load_answer_logics,
    load_scorer,
)
from csdialog.answers.mining import mine_answer_logics
from csdialog.dialogue import Dialogue, Role
from csdialog.encoders import Encoder, get_encoder
from csdialog.encoders.cache import CachedEncoder
from csdialog.errors import ValidationError
from csdialog.inspection import InspectionResult, Inspector
from csdialog.io import ReadReport, ReadResult

__all__ = ["STEPS", "AnalysisResult", "Pipeline"]

STEPS: tuple[str, ...] = ("intent", "emotion", "viewpoints", "answers", "inspection", "alerts")
DEFAULT_STEPS: tuple[str, ...] = ("emotion", "viewpoints", "answers", "inspection", "alerts")
_TURN_COLUMNS = (
    "dialogue_id", "turn_index", "role", "speaker", "text", "timestamp", "customer_id", "channel",
    "shop", "product", "category", "intent", "intent_score", "out_of_scope", "emotion", "emotion_zh",
    "emotion_score", "sarcastic", "sarcasm_score", "surface", "polarity", "is_question", "viewpoint_id",
)


@dataclass
class AnalysisResult:
    """Everything one pipeline run found. Use :meth:`to_frame` for tables and
    :meth:`save` to write every output (and the HTML report) into a folder."""

    turns: list[dict[str, Any]]
    read_report: ReadReport | None
    clusterer: Any = None
    checks: list[AnswerCheck] = field(default_factory=list)
    logics: list[AnswerLogic] = field(default_factory=list)
    inspections: list[InspectionResult] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    steps: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)

    _FRAMES = ("turns", "viewpoints", "questions", "top_by_category", "answers", "inspections",
               "findings", "alerts", "logics")

    def to_frame(self, what: str = "turns") -> Any:
        """A DataFrame view: ``turns``, ``viewpoints``, ``questions``, ``top_by_category``,
        ``answers``, ``inspections``, ``findings``, ``alerts`` or ``logics``."""
        import pandas as pd

        if what == "turns":
            frame = pd.DataFrame(self.turns, columns=list(_TURN_COLUMNS))
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], errors="coerce", utc=True)
            return frame
        if what in ("viewpoints", "questions", "top_by_category"):
            if self.clusterer is None or not getattr(self.clusterer, "viewpoints_", None):
                cols = {"viewpoints": ["viewpoint_id", "label", "size", "share", "keywords", "examples"],
                        "questions": ["text", "dialogue_id", "turn_index", "viewpoint_id"],
                        "top_by_category": ["category", "rank", "viewpoint_id", "label", "count",
                                            "share_in_group"]}[what]
                return pd.DataFrame(columns=cols)
            if what == "top_by_category":
                return self.clusterer.top(self.summary.get("top", 10), by="category")
            return self.clusterer.to_frame(what)
        if what == "answers":
            return pd.DataFrame([c.to_dict() for c in self.checks],
                                columns=list(AnswerCheck.__dataclass_fields__))
        if what in ("inspections", "findings"):
            level = "dialogues" if what == "inspections" else "findings"
            return Inspector.to_frame(self.inspections, level)
        if what == "alerts":
            return alerts_frame(self.alerts)
        if what == "logics":
            return pd.DataFrame([lg.to_dict() for lg in self.logics])
        raise ValidationError(f"to_frame() takes one of {list(self._FRAMES)}, got {what!r}")

    def report_data(self) -> Any:
        """The inputs of :func:`csdialog.report.render_report`."""
        from csdialog.report import ReportData

        turns = self.to_frame("turns")
        insp = self.to_frame("inspections")
        if len(insp):
            meta = turns.drop_duplicates("dialogue_id").set_index("dialogue_id")
            insp = insp.rename(columns={"agent": "speaker"})
            insp["shop"] = insp["dialogue_id"].map(meta["shop"]) if len(meta) else None
        answers = self.to_frame("answers")
        return ReportData(
            summary=dict(self.summary), turns=turns, viewpoints=self.to_frame("viewpoints"),
            top_by_category=self.to_frame("top_by_category"), answer_checks=answers,
            inspections=insp, alerts=self.to_frame("alerts"),
        )

    def save(
        self, folder: str | os.PathLike[str], *, report: bool = True, redact: bool = True,
        parquet: bool = True, redact_patterns: Mapping[str, str] | None = None,
    ) -> dict[str, Path]:
        """Write every output into ``folder``; returns ``{name: path}``.

        ``turns.jsonl`` (+ ``turns.parquet`` when pyarrow is installed), ``viewpoints.csv``,
        ``questions.csv``, ``top_by_category.csv``, ``answer_checks.csv``,
        ``answer_logics.yaml``, ``inspections.csv``, ``findings.csv``, ``alerts.csv``,
        ``read_report.json``, ``summary.json`` and ``report.html`` (personal data redacted
        unless ``redact=False``, plus your own ``redact_patterns`` such as
        ``{"order": r"EX-\\d{8}-\\d{4}"}``; the machine-readable files keep the original
        text).
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        turns = self.to_frame("turns")
        p = out / "turns.jsonl"
        with p.open("w", encoding="utf-8") as fh:
            for row in self.turns:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        paths["turns.jsonl"] = p
        if parquet:
            try:
                import pyarrow  # noqa: F401

                turns.to_parquet(out / "turns.parquet", index=False)
                paths["turns.parquet"] = out / "turns.parquet"
            except ImportError:
                pass
        for name, what in (("viewpoints.csv", "viewpoints"), ("questions.csv", "questions"),
                           ("top_by_category.csv", "top_by_category"), ("answer_checks.csv", "answers"),
                           ("inspections.csv", "inspections"), ("findings.csv", "findings"),
                           ("alerts.csv", "alerts")):
            self.to_frame(what).to_csv(out / name, index=False)
            paths[name] = out / name
        if self.logics:
            from csdialog.answers import save_answer_logics

            paths["answer_logics.yaml"] = save_answer_logics(self.logics, out / "answer_logics.yaml")
        if self.read_report is not None:
            p = out / "read_report.json"
            p.write_text(json.dumps(self.read_report.to_dict(), ensure_ascii=False, indent=2),
                         encoding="utf-8")
            paths["read_report.json"] = p
        p = out / "summary.json"
        p.write_text(json.dumps(self.summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        paths["summary.json"] = p
        if report:
            from csdialog.report import write_report

            paths["report.html"] = write_report(out / "report.html", self.report_data(),
                                                redact_personal_data=redact,
                                                redact_patterns=redact_patterns)
        return paths


class Pipeline:
    """Configurable analysis of customer-service chats.

    Args:
        steps: which of :data:`STEPS` to run (default all but ``intent``; ``intent`` runs
            when ``intent_model`` is given).
        encoder: encoder name or object shared by every step (default: the offline
            ``e5-small``).
        emotion_model: ``"default"`` (shipped) or a folder saved by
            :meth:`~csdialog.EmotionClassifier.save_pretrained`.
        intent_model: a folder saved by :meth:`~csdialog.IntentClassifier.save_pretrained`.
        answer_logics: a YAML / JSON file or a list of :class:`AnswerLogic`; with
            ``mine_logics`` the mined ones are added for viewpoints without a written logic.
        answer_scorer: how replies are judged: a folder saved by
            :meth:`~csdialog.answers.PairClassifierScorer.save_pretrained` or
            :meth:`~csdialog.answers.CrossEncoderScorer.save_pretrained` (trained on your
            labels), or a scorer object (default: the shipped ``SimilarityScorer``).
        mine_logics: mine answer logics from the chats themselves (written to
            ``answer_logics.yaml`` for review).
        judge_with_mined: also judge replies against the mined logics (off by default: a
            mined logic is the most common reply, which may itself be a dodge, until a
            person has reviewed it).
        inspection_rules: a YAML / JSON rule file, a mapping, or an :class:`Inspector`
            (default: the shipped rules).
        repeat_rules: repeat-contact rules, e.g. ``["3/1d", "3/3d"]``.
        min_cluster_size: smallest viewpoint.
        top: top-N viewpoints per category in the outputs.
        chunk_size: dialogues annotated per batch (memory stays bounded by it plus the
            per-turn records).
        max_turn_chars: longer turns are cut to this length for the analysis (the models
            read at most 512 tokens anyway); each cut is listed in
            ``summary["truncated_turns"]``.
        progress: callable ``(stage, done, total_or_None)`` for progress reporting.
    """

    def __init__(
        self,
        steps: Iterable[str] | None = None,
        *,
        encoder: str | Encoder | None = None,
        emotion_model: str | os.PathLike[str] = "default",
        intent_model: str | os.PathLike[str] | None = None,
        answer_logics: str | os.PathLike[str] | Sequence[AnswerLogic] | None = None,
        answer_scorer: str | os.PathLike[str] | PairScorer | None = None,
        mine_logics: bool = True,
        judge_with_mined: bool = False,
        inspection_rules: str | os.PathLike[str] | Mapping[str, Any] | Inspector | None = None,
        repeat_rules: Iterable[Any] = ("3/1d", "3/3d"),
        min_cluster_size: int = 2,
        top: int = 10,
        chunk_size: int = 256,
        max_turn_chars: int = 5000,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        chosen = tuple(steps) if steps is not None else (
            DEFAULT_STEPS if intent_model is None else STEPS)
        unknown = [s for s in chosen if s not in STEPS]
        if unknown:
            raise ValidationError(f"unknown step(s) {unknown}; choose from {list(STEPS)}")
        if "intent" in chosen and intent_model is None:
            raise ValidationError(
                "the intent step needs intent_model=<folder saved by IntentClassifier.save_pretrained>")
        self.steps = tuple(s for s in STEPS if s in chosen)
        if chunk_size < 1:
            raise ValidationError(f"chunk_size must be >= 1, got {chunk_size}")
        enc = get_encoder(encoder)
        self.encoder = enc if isinstance(enc, CachedEncoder) else CachedEncoder(enc, max_entries=200_000)
        self.emotion_model = emotion_model
        self.intent_model = intent_model
        if answer_logics is None:
            self.logics: list[AnswerLogic] = []
        elif isinstance(answer_logics, str | os.PathLike):
            self.logics = load_answer_logics(answer_logics)
        else:
            self.logics = list(answer_logics)
        if answer_scorer is None or hasattr(answer_scorer, "score"):
            self.answer_scorer: PairScorer | None = answer_scorer  # type: ignore[assignment]
        elif isinstance(answer_scorer, str | os.PathLike):
            self.answer_scorer = load_scorer(answer_scorer, encoder=self.encoder)
        else:
            raise ValidationError(
                "answer_scorer must be a scorer folder (saved by PairClassifierScorer or "
                "CrossEncoderScorer.save_pretrained) or an object with score(questions, replies, "
                f"logics); got {type(answer_scorer).__name__}")
        self.mine_logics = mine_logics
        self.judge_with_mined = judge_with_mined
        if isinstance(inspection_rules, Inspector):
            self.inspector = inspection_rules
        elif inspection_rules is None:
            self.inspector = Inspector.default()
        else:
            self.inspector = Inspector.from_config(inspection_rules)
        self.repeat_rules = [RepeatRule.parse(r) for r in repeat_rules]
        self.min_cluster_size = min_cluster_size
        self.top = top
        self.chunk_size = chunk_size
        if max_turn_chars < 100:
            raise ValidationError(f"max_turn_chars must be >= 100, got {max_turn_chars}")
        self.max_turn_chars = max_turn_chars
        self.progress = progress

    def _tick(self, stage: str, done: int, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    @staticmethod
    def _source(
        source: object, columns: Mapping[str, Any] | None, encoding: str,
    ) -> tuple[Iterator[Dialogue], Callable[[], ReadReport | None], str]:
        if isinstance(source, str | os.PathLike):
            from csdialog.io import ChatReader

            reader = ChatReader(source, columns=columns, encoding=encoding)
            return iter(reader), lambda: reader.report, str(source)
        if isinstance(source, ReadResult):
            return iter(source.dialogues), lambda: source.report, "ReadResult"
        if isinstance(source, Dialogue):
            return iter([source]), lambda: None, "dialogue"
        if isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
            return iter(source), lambda: None, "dialogues"
        raise ValidationError(
            f"run() takes a chat file path, a ReadResult or an iterable of Dialogue objects, got "
            f"{type(source).__name__}"
        )

    @staticmethod
    def _annotate(
        chunk: Sequence[Dialogue], emo: Any, intent: Any,
    ) -> tuple[list[dict[str, Any]], dict[str, list[Any]], dict[str, list[Any]]]:
        """One record per turn of ``chunk``, with the per-turn models' predictions."""
        rows: list[dict[str, Any]] = []
        emotions: dict[str, list[Any]] = {}
        intents: dict[str, list[Any]] = {}
        pairs = [(d, i) for d in chunk for i in range(len(d.turns))]
        e_pred = emo.classify(pairs) if emo is not None and pairs else None
        i_pred = intent.classify(pairs) if intent is not None and pairs else None
        k = 0
        for d in chunk:
            for i, t in enumerate(d.turns):
                row = {"dialogue_id": d.dialogue_id, "turn_index": i, "role": t.role.value,
                       "speaker": t.speaker, "text": t.text,
                       "timestamp": t.timestamp.isoformat() if t.timestamp else None,
                       "customer_id": d.customer_id, "channel": d.channel, "shop": d.shop,
                       "product": d.product, "category": d.category, "is_question": False,
                       "viewpoint_id": None}
                if e_pred is not None:
                    p = e_pred[k]
                    emotions.setdefault(d.dialogue_id, []).append(p)
                    row.update(emotion=p.label, emotion_zh=p.label_zh, emotion_score=round(p.score, 4),
                               sarcastic=p.sarcastic,
                               sarcasm_score=(None if p.sarcasm_score is None
                                              else round(p.sarcasm_score, 4)),
                               surface=p.surface, polarity=p.polarity)
                if i_pred is not None:
                    q = i_pred[k]
                    intents.setdefault(d.dialogue_id, []).append(q)
                    row.update(intent=q.label if isinstance(q.label, str) else "+".join(q.label),
                               intent_score=round(q.score, 4), out_of_scope=q.out_of_scope)
                rows.append(row)
                k += 1
        return rows, emotions, intents

    def _analyse_chunk(
        self, chunk: Sequence[Dialogue], emo: Any, intent: Any, clusterer: Any, matcher: Any,
        truncated: list[dict[str, Any]],
    ) -> dict[str, list[dict[str, Any]]]:
        """Every per-dialogue step on one chunk, with a clusterer fitted beforehand; the
        rows of each output table. Shared by :meth:`stream` and the Ray engine."""
        from csdialog.viewpoints import extract_questions

        chunk = [self._cap(d, truncated) for d in chunk]
        rows, emotions, intents = self._annotate(chunk, emo, intent)
        by_key = {(r["dialogue_id"], r["turn_index"]): r for r in rows}
        questions = extract_questions(chunk)
        assign = clusterer is not None and "viewpoints" in self.steps
        vids = clusterer.assign(questions) if assign else [None] * len(questions)
        q_rows = []
        for q, vid in zip(questions, vids, strict=True):
            row = by_key[(q.dialogue_id, q.turn_index)]
            row["is_question"] = True
            if row["viewpoint_id"] is None:
                row["viewpoint_id"] = vid
            q_rows.append({**q.to_dict(context=False), "viewpoint_id": vid})
        checks = matcher.check(chunk) if matcher is not None else []
        answered = checks if matcher is not None else None
        inspections = (self.inspector.inspect(chunk, checks=answered,
                                              emotions=emotions if emo is not None else None)
                       if "inspection" in self.steps else [])
        alerts = (complaint_risk(chunk, emotions=emotions or None, checks=answered,
                                 intents=intents or None, min_score=0.4)
                  if "alerts" in self.steps else [])
        return {"turns": rows, "questions": q_rows, "answers": [c.to_dict() for c in checks],
                "inspections": Inspector.rows(inspections),
                "findings": Inspector.rows(inspections, "findings"),
                "alerts": [a.to_dict() for a in alerts]}

    def _models(self) -> tuple[Any, Any]:
        emo = intent = None
        if "emotion" in self.steps:
            from csdialog.emotion import EmotionClassifier

            emo = EmotionClassifier.from_pretrained(self.emotion_model, encoder=self.encoder)
        if "intent" in self.steps:
            from csdialog.intent import IntentClassifier

            intent = IntentClassifier.from_pretrained(self.intent_model, encoder=self.encoder)  # type: ignore[arg-type]
        return emo, intent

    def _cap(self, d: Dialogue, cut: list[dict[str, Any]]) -> Dialogue:
        if all(len(t.text) <= self.max_turn_chars for t in d.turns):
            return d
        from dataclasses import replace

        turns = []
        for i, t in enumerate(d.turns):
            if len(t.text) > self.max_turn_chars:
                cut.append({"dialogue_id": d.dialogue_id, "turn_index": i, "chars": len(t.text)})
                t = replace(t, text=t.text[: self.max_turn_chars])
            turns.append(t)
        return replace(d, turns=tuple(turns))

    def stream(
        self,
        source: str | os.PathLike[str],
        out: str | os.PathLike[str],
        *,
        columns: Mapping[str, Any] | None = None,
        encoding: str = "utf-8",
        resume: bool = True,
        question_sample: int = 20_000,
        report_sample: int = 2_000,
        report: bool = True,
        redact: bool = True,
        redact_patterns: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run over a chat file of any size with bounded memory, writing into ``out``.

        Two passes over the file (see :mod:`csdialog.streaming`): a deterministic sample of
        the questions fits the viewpoints, then chunks of ``chunk_size`` dialogues are
        annotated, checked and inspected and written to ``out/parts/`` as they finish. An
        interrupted run resumes where it stopped (``resume=True``) without losing or
        repeating rows. The outputs are those of :meth:`AnalysisResult.save`; the report is
        drawn from ``report_sample`` dialogues, with the full counts.

        Returns:
            ``{"summary": {...}, "files": {name: path}}``.
        """
        from csdialog.streaming import stream_pipeline

        return stream_pipeline(self, source, out, columns=columns, encoding=encoding, resume=resume,
                               question_sample=question_sample, report_sample=report_sample,
                               report=report, redact=redact, redact_patterns=redact_patterns)

    def run(
        self, source: object, *, columns: Mapping[str, Any] | None = None, encoding: str = "utf-8",
        clusterer: Any = None,
    ) -> AnalysisResult:
        """Analyse ``source`` (a .jsonl / .csv / .parquet path, a ``ReadResult`` or
        dialogues) and return an :class:`AnalysisResult`.

        Args:
            source: what to analyse.
            columns: column mapping for files (see :class:`~csdialog.io.ColumnMapping`).
            encoding: text encoding of JSONL / CSV files.
            clusterer: a fitted :class:`~csdialog.viewpoints.ViewpointClusterer` to assign
                the questions to (its viewpoint ids are kept) instead of fitting one.
        """
        from csdialog.viewpoints import extract_questions

        t0 = time.perf_counter()
        fitted = clusterer
        stream, report_of, name = self._source(source, columns, encoding)
        truncated: list[dict[str, Any]] = []
        emo, intent = self._models()
        dialogues: list[Dialogue] = []
        rows: list[dict[str, Any]] = []
        emotions: dict[str, list[Any]] = {}
        intents: dict[str, list[Any]] = {}
        chunk: list[Dialogue] = []

        def flush() -> None:
            r, e, i = self._annotate(chunk, emo, intent)
            rows.extend(r)
            emotions.update(e)
            intents.update(i)
            chunk.clear()

        self._tick("annotate", 0)
        for d in stream:
            if not isinstance(d, Dialogue):
                raise ValidationError(
                    f"run() got a {type(d).__name__} among the dialogues; expected Dialogue")
            d = self._cap(d, truncated)
            dialogues.append(d)
            chunk.append(d)
            if len(chunk) >= self.chunk_size:
                flush()
                self._tick("annotate", len(dialogues))
        flush()
        self._tick("annotate", len(dialogues), len(dialogues))
        read_report = report_of()
        timings = {"annotate": round(time.perf_counter() - t0, 2)}

        # viewpoints over all questions
        clusterer = fitted
        questions = extract_questions(dialogues)
        q_rows = {(q.dialogue_id, q.turn_index) for q in questions}
        index = {(r["dialogue_id"], r["turn_index"]): r for r in rows}
        for key in q_rows:
            index[key]["is_question"] = True
        t1 = time.perf_counter()
        if fitted is not None and "viewpoints" in self.steps:
            for q, vid in zip(questions, fitted.assign(questions), strict=True):
                if vid is not None and index[(q.dialogue_id, q.turn_index)]["viewpoint_id"] is None:
                    index[(q.dialogue_id, q.turn_index)]["viewpoint_id"] = vid
        elif "viewpoints" in self.steps and len({q.text for q in questions}) >= 2:
            from csdialog.viewpoints import ViewpointClusterer

            clusterer = ViewpointClusterer(encoder=self.encoder, min_cluster_size=self.min_cluster_size)
            clusterer.fit(questions)
            ids = [v.viewpoint_id for v in clusterer.viewpoints_]
            for q, g in zip(questions, clusterer.labels_, strict=True):
                if g >= 0 and index[(q.dialogue_id, q.turn_index)]["viewpoint_id"] is None:
                    index[(q.dialogue_id, q.turn_index)]["viewpoint_id"] = ids[int(g)]
        timings["viewpoints"] = round(time.perf_counter() - t1, 2)
        self._tick("viewpoints", 1, 1)

        # answer checks
        t1 = time.perf_counter()
        logics = list(self.logics)
        mined: list[AnswerLogic] = []
        checks: list[AnswerCheck] = []
        if "answers" in self.steps:
            if self.mine_logics and clusterer is not None:
                mined = mine_answer_logics(dialogues, clusterer, encoder=self.encoder)
            judge = logics + (mined if self.judge_with_mined else [])
            matcher = AnswerLogicMatcher(judge, clusterer=clusterer, encoder=self.encoder,
                                         scorer=self.answer_scorer or "similarity")
            checks = matcher.check(dialogues)
            logics = logics + mined
        timings["answers"] = round(time.perf_counter() - t1, 2)
        self._tick("answers", 1, 1)

        t1 = time.perf_counter()
        inspections = []
        if "inspection" in self.steps:
            inspections = self.inspector.inspect(
                dialogues, checks=checks if "answers" in self.steps else None,
                emotions=emotions if emo is not None else None)
        alerts: list[Alert] = []
        if "alerts" in self.steps:
            alerts = complaint_risk(dialogues, emotions=emotions or None,
                                    checks=checks if "answers" in self.steps else None,
                                    intents=intents or None, min_score=0.4)
            known = [d for d in dialogues if d.customer_id]  # no customer ids: nothing to count
            if known:
                alerts += repeat_contacts(known, self.repeat_rules)
        timings["inspection_alerts"] = round(time.perf_counter() - t1, 2)

        n_rejected = read_report.rows_rejected if read_report is not None else 0
        summary = {
            "input": name, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rows_read": getattr(read_report, "rows_read", None), "rows_rejected": n_rejected,
            "dialogues": len(dialogues), "turns": len(rows),
            "customer_turns": sum(1 for r in rows if r["role"] == Role.CUSTOMER.value),
            "questions": len(questions), "viewpoints": len(clusterer.viewpoints_) if clusterer else 0,
            "answer_checks": len(checks), "unanswered": sum(1 for c in checks if not c.answered),
            "answer_logics": len(logics), "alerts": len(alerts), "steps": list(self.steps),
            "encoder": self.encoder.name,
            "emotion_model": str(self.emotion_model) if emo is not None else None,
            "intent_model": str(self.intent_model) if intent is not None else None,
            "top": self.top, "seconds": round(time.perf_counter() - t0, 2), "timings": timings,
            "truncated_turns": truncated,
        }
        return AnalysisResult(turns=rows, read_report=read_report, clusterer=clusterer, checks=checks,
                              logics=logics, inspections=inspections, alerts=alerts, steps=self.steps,
                              summary=summary)
