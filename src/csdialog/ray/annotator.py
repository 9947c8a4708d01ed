"""The per-batch work of a distributed run: rows in, one annotated record per row out.

:class:`DialogueAnnotator` does not import Ray. Ray Data calls it through ``map_batches``
(one instance per actor, so the models load once per actor); Spark can call it from
``mapInArrow``; a plain loop can call it too. Each call reuses the pipeline's own per-chunk
pieces, exactly as :mod:`csdialog.streaming` does, so a row gives the same turn rows,
answer checks, inspection and alerts as :meth:`csdialog.pipeline.Pipeline.run`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from csdialog.dialogue import Dialogue, Role
from csdialog.ray._spec import PackedFolder, PipelineSpec

__all__ = ["RECORD_COLUMNS", "TABLES", "DialogueAnnotator", "RowReader", "explode", "records_schema"]

# columns of the rows written by csdialog.ray.read_chats (one JSON line each)
SOURCE, LINE, ROW, ERROR = "_source", "_line", "_row", "_error"

_S, _I, _F, _B = "string", "int64", "float64", "bool_"
#: The flat tables nested in each record, with their columns and Arrow types.
TABLES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "turns": (("dialogue_id", _S), ("turn_index", _I), ("role", _S), ("speaker", _S), ("text", _S),
              ("timestamp", _S), ("customer_id", _S), ("channel", _S), ("shop", _S), ("product", _S),
              ("category", _S), ("intent", _S), ("intent_score", _F), ("out_of_scope", _B),
              ("emotion", _S), ("emotion_zh", _S), ("emotion_score", _F), ("sarcastic", _B),
              ("sarcasm_score", _F), ("surface", _S), ("polarity", _S), ("is_question", _B),
              ("viewpoint_id", _S)),
    "questions": (("text", _S), ("dialogue_id", _S), ("turn_index", _I), ("product", _S),
                  ("category", _S), ("shop", _S), ("timestamp", _S), ("viewpoint_id", _S)),
    "answers": (("dialogue_id", _S), ("question_turn", _I), ("question", _S), ("question_type", _S),
                ("viewpoint_id", _S), ("logic_id", _S), ("logic_score", _F), ("reply_turn", _I),
                ("reply", _S), ("answered", _B), ("score", _F), ("type_agrees", _B),
                ("answer_types", _S), ("missing_keywords", _S), ("reason", _S)),
    "inspections": (("dialogue_id", _S), ("score", _F), ("agent", _S), ("deductions", _I), ("tags", _S)),
    "findings": (("dialogue_id", _S), ("rule_id", _S), ("passed", _B), ("deduction", _F),
                 ("message", _S), ("turns", _S), ("evidence", _S)),
    "alerts": (("kind", _S), ("severity", _S), ("score", _F), ("dialogue_id", _S), ("customer_id", _S),
               ("reasons", _S), ("evidence", _S)),
    "truncated": (("dialogue_id", _S), ("turn_index", _I), ("chars", _I)),
    "errors": (("source", _S), ("line", _I), ("dialogue_id", _S), ("status", _S), ("turn_index", _I),
               ("reason", _S), ("raw", _S)),
}
#: One record per input row: where it came from, what became of it, and its tables.
RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", _S), ("line", _I), ("dialogue_id", _S), ("status", _S), ("reason", _S), ("raw", _S),
    ("customer_id", _S), ("start", _S), ("sample_hash", _I), ("n_turns", _I),
    ("n_customer_turns", _I), ("n_questions", _I), ("n_answers", _I), ("n_unanswered", _I),
    ("n_alerts", _I),
)
_RAW_LIMIT = 200


@cache
def _struct(name: str) -> Any:
    import pyarrow as pa

    return pa.struct([pa.field(col, getattr(pa, kind)()) for col, kind in TABLES[name]])


@lru_cache(maxsize=1)
def records_schema() -> Any:
    """The Arrow schema of the annotated records (scalars, then one list column per table)."""
    import pyarrow as pa

    fields = [pa.field(col, getattr(pa, kind)()) for col, kind in RECORD_COLUMNS]
    fields += [pa.field(name, pa.list_(_struct(name))) for name in TABLES]
    return pa.schema(fields)


def explode(records: Any, name: str) -> Any:
    """The flat table ``name`` (a key of :data:`TABLES`) of a batch of records, as a
    ``pyarrow.Table``: every nested row, in record order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; choose from {sorted(TABLES)}")
    column = records.column(name).combine_chunks() if records.num_rows else None
    if column is None or len(column) == 0:
        return pa.Table.from_pylist([], schema=pa.schema(list(_struct(name))))
    flat = pc.list_flatten(column)
    return pa.Table.from_struct_array(flat)


def _hash(key: str) -> int:
    from csdialog.streaming import _hash as stream_hash

    return stream_hash(key)


def _raw(value: object) -> str:
    try:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:_RAW_LIMIT]


def _rows_of(batch: Any) -> list[dict[str, Any]]:
    """A batch as Python dicts: a ``pyarrow.Table``, a ``pandas.DataFrame``, a dict of columns or
    a list of rows."""
    if hasattr(batch, "to_pylist"):
        rows: list[dict[str, Any]] = batch.to_pylist()
        return rows
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):
        return list(batch.to_dict(orient="records"))
    if isinstance(batch, Mapping):
        cols = list(batch)
        n = len(batch[cols[0]]) if cols else 0
        return [{c: batch[c][i] for c in cols} for i in range(n)]
    if isinstance(batch, list | tuple) and all(isinstance(r, Mapping) for r in batch):
        return [dict(r) for r in batch]
    from csdialog.errors import ValidationError

    raise ValidationError(f"a batch is a pyarrow.Table, a pandas.DataFrame, a dict of columns or a list "
                          f"of row dicts, got {type(batch).__name__}")


def _problem(source: str, line: int | None, dialogue_id: str | None, status: str,
             turn_index: int | None, reason: str, raw: object) -> dict[str, Any]:
    return {"source": source, "line": line, "dialogue_id": dialogue_id, "status": status,
            "turn_index": turn_index, "reason": reason, "raw": _raw(raw) if raw is not None else ""}


class RowReader:
    """Input rows -> dialogues, by the rules of :class:`csdialog.io.ChatReader` (dialogues
    layout), with every problem reported.

    Args:
        columns: a :class:`~csdialog.io.ColumnMapping` as a dict (or the mapping itself).
        source: the name reported for rows that do not say where they came from.
    """

    def __init__(self, columns: Any = None, *, source: str = "<dataset>") -> None:
        from csdialog.io import _mapping

        self.columns = _mapping(columns)
        self.source = source

    def parse(self, row: Mapping[str, Any]) -> tuple[str, int | None, Dialogue | None, list[dict[str, Any]]]:
        """``(source, line, dialogue or None, reported problems)`` of one input row."""
        from csdialog.io import _Assembler

        obj: object = row
        source, line = self.source, None
        if ROW in row:  # a JSON line from read_chats
            source, line = str(row.get(SOURCE) or self.source), row.get(LINE)
            text = row.get(ROW)
            problem = row.get(ERROR)
            if problem is None and text is not None:
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    problem = f"not valid JSON: {exc.msg} at column {exc.colno}"
                except RecursionError:
                    problem = "JSON nested too deeply"
            if problem is not None or text is None:
                return source, line, None, [_problem(source, line, None, "rejected", None,
                                                     str(problem or "empty row"), text)]
        asm = _Assembler(source, self.columns, "dialogues", "report", False)
        got = list(asm.feed(line if line is not None else 0, obj))
        problems = [_problem(source, line, got[0].dialogue_id if got else None,
                             "rejected" if r.turn_index is None else "turn_rejected", r.turn_index,
                             r.reason, r.raw) for r in asm.rejected]
        return source, line, (got[0] if got else None), problems

    def parse_safely(
        self, row: Mapping[str, Any],
    ) -> tuple[str, int | None, Dialogue | None, list[dict[str, Any]]]:
        try:
            return self.parse(row)
        except Exception as exc:  # an unreadable row is reported, never dropped
            source = str(row.get(SOURCE) or self.source) if isinstance(row, Mapping) else self.source
            line = row.get(LINE) if isinstance(row, Mapping) else None
            reason = f"could not read the row: {type(exc).__name__}: {exc}"
            raw = row.get(ROW, row) if isinstance(row, Mapping) else row
            return source, line, None, [_problem(source, line, None, "rejected", None, reason, raw)]


class DialogueAnnotator:
    """Annotate batches of dialogue rows with the pipeline's models, loaded once.

    Use it as the callable class of ``ray.data.Dataset.map_batches`` (what
    :func:`csdialog.ray.annotate` does), from Spark's ``mapInArrow``, or directly. Each
    input row (one dialogue in our dialogues layout, or a JSON line read by
    :func:`csdialog.ray.read_chats`) gives exactly one record: ``status`` is ``"ok"``
    (annotated), ``"rejected"`` (the row is not a usable dialogue; ``reason`` says why) or
    ``"failed"`` (annotating it raised; ``reason`` holds the error). The record's list
    columns hold its turn rows, questions, answer checks, inspection, findings, alerts,
    cut turns and reported turns (see :data:`TABLES`).

    Args:
        spec: a :class:`PipelineSpec` (or its ``to_dict()``).
        clusterer: a folder saved by ``ViewpointClusterer.save_pretrained``: questions are
            assigned to its viewpoints.
        folders: model folders shipped as bytes (``"clusterer"``, ``"emotion_model"``,
            ``"intent_model"``), written to a temporary folder here and used instead of
            the paths.
        source: the name reported for rows that do not say where they came from.
        cache_entries: distinct texts kept in the embedding cache of this worker.
        isolate_failures: when a batch raises, annotate its dialogues one by one so that
            only the ones that fail are reported as failed.

    Example:
        >>> spec = PipelineSpec(steps=("viewpoints", "inspection"), encoder="hashing",
        ...                     encoder_kwargs={"dim": 64})
        >>> ann = DialogueAnnotator(spec)
        >>> out = ann([{"dialogue_id": "d1", "turns": [{"role": "customer", "text": "在吗?"},
        ...                                             {"role": "agent", "text": "您好"}]},
        ...            {"dialogue_id": "d2", "turns": []}])
        >>> out.column("status").to_pylist(), out.column("n_turns").to_pylist()
        (['ok', 'rejected'], [2, 0])
    """

    def __init__(
        self,
        spec: PipelineSpec | Mapping[str, Any],
        *,
        clusterer: str | os.PathLike[str] | None = None,
        folders: Mapping[str, PackedFolder] | None = None,
        source: str = "<dataset>",
        cache_entries: int = 20_000,
        isolate_failures: bool = True,
    ) -> None:
        from csdialog.answers import AnswerLogicMatcher

        self.spec = spec if isinstance(spec, PipelineSpec) else PipelineSpec.from_dict(spec)
        self.source = source
        self.isolate_failures = isolate_failures
        folders = dict(folders or {})
        self._tmp = tempfile.TemporaryDirectory(prefix="csdialog-models-") if folders else None
        local = {k: f.unpack(Path(self._tmp.name) / k) for k, f in folders.items()} if self._tmp else {}
        self.pipe = self.spec.pipeline(emotion_model=local.get("emotion_model"),
                                       intent_model=local.get("intent_model"),
                                       answer_scorer=local.get("answer_scorer"))
        self.pipe.encoder.max_entries = cache_entries
        self.reader = RowReader(self.spec.columns, source=source)
        self.emo, self.intent = self.pipe._models()
        folder = local.get("clusterer", clusterer)
        self.clusterer: Any = None
        if folder is not None:
            from csdialog.viewpoints import ViewpointClusterer

            self.clusterer = ViewpointClusterer.from_pretrained(folder, encoder=self.pipe.encoder)
        self.matcher = (AnswerLogicMatcher(self.pipe.logics, clusterer=self.clusterer,
                                           encoder=self.pipe.encoder,
                                           scorer=self.pipe.answer_scorer or "similarity")
                        if "answers" in self.pipe.steps else None)

    # ------------------------------------------------------------------ annotating

    def annotate_dialogues(self, chunk: Sequence[Dialogue]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """The tables of each dialogue of ``chunk``: ``{dialogue_id: {table: rows}}``.

        The same steps, in the same order, as one chunk of :meth:`Pipeline.stream
        <csdialog.pipeline.Pipeline.stream>`.
        """
        truncated: list[dict[str, Any]] = []
        tables = self.pipe._analyse_chunk(chunk, self.emo, self.intent, self.clusterer, self.matcher,
                                          truncated)
        out: dict[str, dict[str, list[dict[str, Any]]]] = {
            d.dialogue_id: {name: [] for name in TABLES} for d in chunk}
        for name, table_rows in tables.items():  # complaint-risk alerts name one dialogue each
            for row in table_rows:
                out[str(row["dialogue_id"])][name].append(row)
        for t in truncated:
            out[t["dialogue_id"]]["truncated"].append(t)
        return out

    def _annotate_safely(
        self, chunk: list[Dialogue],
    ) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], dict[str, str]]:
        """Tables per dialogue id, and the error of each dialogue that failed."""
        try:
            return self.annotate_dialogues(chunk), {}
        except Exception as exc:  # reported per dialogue below, never dropped
            if not self.isolate_failures or len(chunk) == 1:
                reason = f"{type(exc).__name__}: {exc}"
                return {}, {d.dialogue_id: reason for d in chunk}
        done: dict[str, dict[str, list[dict[str, Any]]]] = {}
        failed: dict[str, str] = {}
        for d in chunk:
            got, bad = self._annotate_safely([d])
            done.update(got)
            failed.update(bad)
        return done, failed

    def __call__(self, batch: Any) -> Any:
        """Annotate one batch; returns a ``pyarrow.Table`` with :func:`records_schema`,
        one record per input row, in input order."""
        import pyarrow as pa

        parsed = [self.reader.parse_safely(row) for row in _rows_of(batch)]
        chunk = [d for _, _, d, _ in parsed if d is not None]
        tables, failed = self._annotate_safely(chunk) if chunk else ({}, {})
        records = []
        for source, line, d, problems in parsed:
            rec: dict[str, Any] = {"source": source, "line": line, "dialogue_id": None,
                                   "status": "rejected", "reason": None, "raw": None,
                                   **dict.fromkeys(("n_turns", "n_customer_turns", "n_questions",
                                                    "n_answers", "n_unanswered", "n_alerts"), 0)}
            empty: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
            if d is None:
                first = problems[0] if problems else {"reason": "not a dialogue", "raw": ""}
                rec.update(reason=first["reason"], raw=first["raw"])
                rec.update(empty)
                rec["errors"] = problems
                records.append(rec)
                continue
            rec["dialogue_id"] = d.dialogue_id
            rec["customer_id"] = d.customer_id
            rec["start"] = next((t.timestamp.isoformat() for t in d.turns if t.timestamp), None)
            rec["sample_hash"] = _hash(d.dialogue_id) >> 1  # same order, fits int64 (Spark)
            got = tables.pop(d.dialogue_id, None)  # a repeated id: its tables go to the first row
            if d.dialogue_id in failed:
                rec.update(status="failed", reason=failed[d.dialogue_id], raw=_raw(d.to_dict()))
                problems = [*problems, _problem(source, line, d.dialogue_id, "failed", None,
                                                failed[d.dialogue_id], d.to_dict())]
                got = None
            else:
                rec["status"] = "ok"
            rec.update(got if got is not None else empty)
            rec["errors"] = problems
            turns = rec["turns"]
            rec.update(n_turns=len(turns),
                       n_customer_turns=sum(1 for r in turns if r["role"] == Role.CUSTOMER.value),
                       n_questions=len(rec["questions"]), n_answers=len(rec["answers"]),
                       n_unanswered=sum(1 for c in rec["answers"] if not c["answered"]),
                       n_alerts=len(rec["alerts"]))
            records.append(rec)
        return pa.Table.from_pylist(records, schema=records_schema())


# --------------------------------------------------------------------------- small reducers


#: Where a question was seen: ``(no line known, source, line, position in the dialogue)``.
Order = tuple[bool, str, int, int]


def question_keys(
    parsed: Iterable[tuple[str, int | None, Dialogue]],
) -> Iterator[tuple[str, str, Order]]:
    """``(sample key, text, where)`` of every customer question of ``(source, line,
    dialogue)`` items, keyed as :mod:`csdialog.streaming` keys its sample."""
    from csdialog.viewpoints import extract_questions, normalize_question

    for source, line, d in parsed:
        for pos, q in enumerate(extract_questions([d])):
            yield normalize_question(q.text) or q.text, q.text, (line is None, source, line or 0, pos)


def bottom_k(items: Iterable[tuple[str, str, Order]], k: int) -> list[dict[str, Any]]:
    """The ``k`` distinct keys with the smallest hashes, with how often each was seen and
    the text of its first occurrence (smallest ``where``; the text breaks ties): the same
    whatever the order the items come in.

    Example:
        >>> items = [("a", "A1", (False, "f", 2, 0)), ("b", "B", (False, "f", 1, 0)),
        ...          ("a", "A0", (False, "f", 1, 1))]
        >>> [(r["key"], r["count"], r["text"]) for r in bottom_k(items, 5)] == sorted(
        ...     [(r["key"], r["count"], r["text"]) for r in bottom_k(items[::-1], 5)],
        ...     key=lambda t: _hash(t[0]))
        True
        >>> {r["key"]: r["text"] for r in bottom_k(items, 5)}["a"]
        'A0'
    """
    import heapq

    counts: Counter[str] = Counter()
    first: dict[str, tuple[Order, str]] = {}
    for key, text, where in items:
        counts[key] += 1
        if key not in first or (where, text) < first[key]:
            first[key] = (where, text)
    keep = heapq.nsmallest(k, ((_hash(key), key) for key in counts))
    return [{"key": key, "hash": h, "count": counts[key], "text": first[key][1],
             "no_line": first[key][0][0], "source": first[key][0][1], "line": first[key][0][2],
             "pos": first[key][0][3]} for h, key in keep]
