"""Bounded-memory, resumable runs of the pipeline over files of any size.

:meth:`Pipeline.stream <csdialog.pipeline.Pipeline.stream>` reads the input twice:

1. **Sample.** Stream the file once, keep a deterministic sample of the distinct customer
   questions (the ``question_sample`` with the smallest hashes: independent of the order of
   the input) and of the dialogues (``report_sample``, same rule on the dialogue ids), and
   fit the viewpoint clusterer on the sampled questions. Memory: the two samples.
2. **Annotate.** Stream the file again in chunks of ``chunk_size`` dialogues: annotate the
   turns, assign each question to a viewpoint, check the answers, inspect, score the
   complaint risk, and write each chunk's rows into ``<out>/parts/`` (written to a temporary
   name, then renamed) before recording the chunk as done in ``<out>/progress.json``.
   Memory: one chunk, plus one small tuple per dialogue for the repeat-contact alerts.

An interrupted run started again with the same input and settings skips the chunks already
done; a chunk cut off half-way is redone from scratch, so no row is lost or written twice.
At the end the parts are joined into the usual outputs (``turns.jsonl``,
``answer_checks.csv``, ...); ``report.html`` is drawn from the dialogue sample, with the full
counts in its summary.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csdialog.dialogue import Dialogue, Role, Turn, parse_timestamp
from csdialog.errors import ValidationError

if TYPE_CHECKING:
    from csdialog.pipeline import Pipeline

__all__ = ["BottomK", "stream_pipeline"]

_PARTS = "parts"
_STATE = "progress.json"
_KINDS = ("turns.jsonl", "questions.jsonl", "answer_checks.jsonl", "inspections.jsonl",
          "findings.jsonl", "alerts.jsonl", "contacts.jsonl")


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


class BottomK:
    """The ``k`` distinct keys with the smallest hashes, with how often each was seen.

    The sample does not depend on the order the keys arrive in, and a kept key's count is
    exact (it was under the cut every time it came).

    Example:
        >>> s = BottomK(2)
        >>> for key in ["a", "b", "c", "a", "d"]:
        ...     s.add(key, key.upper())
        >>> sorted(s.items()) == sorted(BottomK.of(2, ["d", "a", "c", "b", "a"]).items())
        True
    """

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValidationError(f"a sample needs k >= 1, got {k}")
        self.k = k
        self._heap: list[tuple[int, str]] = []  # (-hash, key): the largest hash on top
        self._items: dict[str, list[Any]] = {}  # key -> [hash, count, value]

    @classmethod
    def of(cls, k: int, keys: Sequence[str]) -> BottomK:
        s = cls(k)
        for key in keys:
            s.add(key, key.upper())
        return s

    def add(self, key: str, value: Any) -> None:
        item = self._items.get(key)
        if item is not None:
            item[1] += 1
            return
        h = _hash(key)
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, (-h, key))
            self._items[key] = [h, 1, value]
        elif h < -self._heap[0][0]:
            _, out = heapq.heapreplace(self._heap, (-h, key))
            del self._items[out]
            self._items[key] = [h, 1, value]

    def items(self) -> list[tuple[str, int, Any]]:
        """``(key, count, value)`` in hash order (deterministic)."""
        return [(k, v[1], v[2]) for k, v in sorted(self._items.items(), key=lambda kv: kv[1][0])]

    def __len__(self) -> int:
        return len(self._items)


def _write_jsonl_atomic(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


def _fingerprint(pipe: Pipeline, source: Path, chunk_size: int, question_sample: int,
                 report_sample: int) -> dict[str, Any]:
    st = source.stat()
    return {"source": str(source.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "steps": list(pipe.steps), "encoder": pipe.encoder.name, "chunk_size": chunk_size,
            "question_sample": question_sample, "report_sample": report_sample,
            "logics": hashlib.sha256(json.dumps([lg.to_dict() for lg in pipe.logics], sort_keys=True,
                                                ensure_ascii=False).encode("utf-8")).hexdigest(),
            "rules": [(type(r).__name__, r.rule_id, r.deduct) for r in pipe.inspector.rules],
            "max_score": pipe.inspector.max_score, "min_cluster_size": pipe.min_cluster_size,
            "max_turn_chars": pipe.max_turn_chars,
            "repeat_rules": [(r.count, r.days) for r in pipe.repeat_rules],
            "emotion_model": str(pipe.emotion_model), "intent_model": str(pipe.intent_model)}


def _dialogues(
    source: Path, columns: Mapping[str, Any] | None, encoding: str,
) -> tuple[Iterator[Dialogue], Any]:
    from csdialog.io import ChatReader

    reader = ChatReader(source, columns=columns, encoding=encoding)
    return iter(reader), reader


def _chunks(it: Iterator[Dialogue], size: int) -> Iterator[list[Dialogue]]:
    chunk: list[Dialogue] = []
    for d in it:
        chunk.append(d)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_pipeline(
    pipe: Pipeline,
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
    """See :meth:`csdialog.pipeline.Pipeline.stream`."""
    src = Path(source)
    if not src.is_file():
        raise ValidationError(f"stream() reads a chat file twice; {str(src)!r} is not a file")
    folder = Path(out)
    parts = folder / _PARTS
    # through JSON, so that it compares equal to the one read back from progress.json
    fp = json.loads(json.dumps(
        _fingerprint(pipe, src, pipe.chunk_size, question_sample, report_sample)))
    state: dict[str, Any] = {}
    state_path = folder / _STATE
    if resume and state_path.is_file():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            state = {}
        if state.get("fingerprint") != fp:
            state = {}
    if not state:
        shutil.rmtree(parts, ignore_errors=True)
        state = {"fingerprint": fp, "chunks_done": 0, "pass1": None}
    parts.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    # the embedding cache only needs to span a chunk and the viewpoint fit: cap it
    cache_cap = getattr(pipe.encoder, "max_entries", None)
    if cache_cap is not None:
        pipe.encoder.max_entries = min(cache_cap, max(question_sample, 50 * pipe.chunk_size))
    try:
        return _run(pipe, src, folder, parts, state, state_path, t0, columns, encoding,
                    question_sample, report_sample, report, redact, redact_patterns)
    finally:
        if cache_cap is not None:
            pipe.encoder.max_entries = cache_cap


def _run(pipe: Pipeline, src: Path, folder: Path, parts: Path, state: dict[str, Any], state_path: Path,
         t0: float, columns: Mapping[str, Any] | None, encoding: str, question_sample: int,
         report_sample: int, report: bool, redact: bool,
         redact_patterns: Mapping[str, str] | None) -> dict[str, Any]:
    from csdialog.alerts import repeat_contacts
    from csdialog.answers import AnswerLogicMatcher
    from csdialog.viewpoints import Question, ViewpointClusterer, extract_questions, normalize_question

    def save_state() -> None:
        tmp = state_path.with_name(_STATE + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, state_path)

    clusterer: Any = None
    # ---------------------------------------------------------------- pass 1: samples
    if state["pass1"] is None:
        q_sample, d_sample = BottomK(question_sample), BottomK(report_sample)
        n_questions = 0
        it, _ = _dialogues(src, columns, encoding)
        for d in it:
            d_sample.add(d.dialogue_id, None)
            for q in extract_questions([d]):
                n_questions += 1
                q_sample.add(normalize_question(q.text) or q.text, q.text)
        sampled = [Question(text) for _, count, text in q_sample.items() for _ in range(min(count, 100))]
        if "viewpoints" in pipe.steps and len({q.text for q in sampled}) >= 2:
            clusterer = ViewpointClusterer(encoder=pipe.encoder, min_cluster_size=pipe.min_cluster_size)
            clusterer.fit(sampled)
            clusterer.save_pretrained(parts / "clusterer")
        (parts / "report_sample.json").write_text(
            json.dumps([k for k, _, _ in d_sample.items()], ensure_ascii=False), encoding="utf-8")
        state["pass1"] = {"questions": n_questions, "distinct_sampled": len(q_sample),
                          "seconds": round(time.perf_counter() - t0, 2)}
        save_state()
    elif (parts / "clusterer").is_dir():
        clusterer = ViewpointClusterer.from_pretrained(parts / "clusterer", encoder=pipe.encoder)
    pipe._tick("sample", 1, 1)

    # ---------------------------------------------------------------- pass 2: chunks
    emo, intent = pipe._models()
    matcher = (AnswerLogicMatcher(pipe.logics, clusterer=clusterer, encoder=pipe.encoder,
                                  scorer=pipe.answer_scorer or "similarity")
               if "answers" in pipe.steps else None)
    it, reader = _dialogues(src, columns, encoding)
    truncated: list[dict[str, Any]] = list(state.get("truncated", []))
    done = int(state["chunks_done"])
    for index, chunk in enumerate(_chunks(it, pipe.chunk_size)):
        if index < done:
            continue
        tables = pipe._analyse_chunk(chunk, emo, intent, clusterer, matcher, truncated)
        contacts = [{"dialogue_id": d.dialogue_id, "customer_id": d.customer_id,
                     "start": next((t.timestamp.isoformat() for t in d.turns if t.timestamp), None)}
                    for d in chunk if d.customer_id]
        payload = {
            "turns.jsonl": tables["turns"], "questions.jsonl": tables["questions"],
            "answer_checks.jsonl": tables["answers"], "inspections.jsonl": tables["inspections"],
            "findings.jsonl": tables["findings"], "alerts.jsonl": tables["alerts"],
            "contacts.jsonl": contacts,
        }
        for kind, items in payload.items():
            _write_jsonl_atomic(parts / f"{index:06d}.{kind}", items)
        state["chunks_done"] = index + 1
        state["truncated"] = truncated[:1000]
        save_state()
        pipe._tick("annotate", (index + 1) * pipe.chunk_size)
    read_report = reader.report
    n_chunks = int(state["chunks_done"])
    pipe._tick("annotate", n_chunks * pipe.chunk_size, n_chunks * pipe.chunk_size)

    # ---------------------------------------------------------------- join the parts
    import pandas as pd

    counts: dict[str, int] = {}
    totals: Counter[str] = Counter()
    vp_counts: Counter[str] = Counter()
    top_alerts: list[tuple[float, int, dict[str, Any]]] = []
    files = {"turns.jsonl": folder / "turns.jsonl"}
    with files["turns.jsonl"].open("w", encoding="utf-8") as fh:
        for i in range(n_chunks):
            with (parts / f"{i:06d}.turns.jsonl").open(encoding="utf-8") as part:
                for line in part:
                    fh.write(line)
                    rec = json.loads(line)
                    totals["turns"] += 1
                    totals["customer_turns"] += rec["role"] == Role.CUSTOMER.value
    for kind, name in (("questions.jsonl", "questions.csv"), ("answer_checks.jsonl", "answer_checks.csv"),
                       ("inspections.jsonl", "inspections.csv"), ("findings.jsonl", "findings.csv")):
        target = folder / name
        header = True
        n = 0
        with target.open("w", encoding="utf-8", newline="") as fh:
            for i in range(n_chunks):
                frame = pd.read_json(parts / f"{i:06d}.{kind}", lines=True, dtype=False)
                if kind == "questions.jsonl" and len(frame):
                    vp_counts.update(v for v in frame["viewpoint_id"] if isinstance(v, str))
                if kind == "answer_checks.jsonl" and len(frame):
                    totals["unanswered"] += int((~frame["answered"].astype(bool)).sum())
                if len(frame):
                    frame.to_csv(fh, index=False, header=header)
                    header = False
                n += len(frame)
        counts[name] = n
        files[name] = target
    stubs: list[Dialogue] = []  # one turn each: what repeat_contacts needs
    for i in range(n_chunks):
        for line in (parts / f"{i:06d}.alerts.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            heapq.heappush(top_alerts, (rec["score"], len(top_alerts), rec))
        for line in (parts / f"{i:06d}.contacts.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            ts = parse_timestamp(rec["start"]) if rec["start"] else None
            stubs.append(Dialogue(rec["dialogue_id"], (Turn(Role.CUSTOMER, "-", timestamp=ts),),
                                  customer_id=rec["customer_id"]))
    repeats = repeat_contacts(stubs, pipe.repeat_rules) if stubs and "alerts" in pipe.steps else []
    del stubs
    alert_rows = sorted((r for _, _, r in top_alerts), key=lambda r: (-r["score"], r["dialogue_id"]))
    alert_rows = [a.to_dict() for a in repeats] + alert_rows
    from csdialog.alerts import alerts_frame

    cols = list(alerts_frame([]).columns)
    pd.DataFrame(alert_rows, columns=cols).to_csv(folder / "alerts.csv", index=False)
    files["alerts.csv"] = folder / "alerts.csv"
    if clusterer is not None:
        vp = clusterer.to_frame()
        vp["sample_size"] = vp["size"]
        vp["size"] = [vp_counts.get(v, 0) for v in vp["viewpoint_id"]]
        total_q = max(1, sum(vp_counts.values()))
        vp["share"] = vp["size"] / total_q
        vp = vp.sort_values(["size", "viewpoint_id"], ascending=[False, True])
        vp.to_csv(folder / "viewpoints.csv", index=False)
        files["viewpoints.csv"] = folder / "viewpoints.csv"
    (folder / "read_report.json").write_text(json.dumps(read_report.to_dict(), ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    files["read_report.json"] = folder / "read_report.json"
    summary = {
        "input": str(src), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "stream", "rows_read": read_report.rows_read, "rows_rejected": read_report.rows_rejected,
        "dialogues": read_report.dialogues, "turns": totals["turns"],
        "customer_turns": totals["customer_turns"], "questions": counts["questions.csv"],
        "viewpoints": len(clusterer.viewpoints_) if clusterer is not None else 0,
        "answer_checks": counts["answer_checks.csv"], "unanswered": totals["unanswered"],
        "alerts": len(alert_rows), "steps": list(pipe.steps), "encoder": pipe.encoder.name,
        "chunks": n_chunks, "question_sample": (state["pass1"] or {}).get("distinct_sampled"),
        "seconds": round(time.perf_counter() - t0, 2), "truncated_turns": truncated[:1000],
    }
    if report:
        summary["report_sample"] = _report(pipe, src, folder, parts, clusterer, summary, alert_rows,
                                           columns, encoding, redact, redact_patterns)
        files["report.html"] = folder / "report.html"
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str),
                                         encoding="utf-8")
    files["summary.json"] = folder / "summary.json"
    state["finished"] = True
    save_state()
    return {"summary": summary, "files": files}


def _report(pipe: Pipeline, src: Path, folder: Path, parts: Path, clusterer: Any,
            summary: dict[str, Any], alert_rows: list[dict[str, Any]], columns: Mapping[str, Any] | None,
            encoding: str, redact: bool, redact_patterns: Mapping[str, str] | None) -> int:
    """The report, drawn from the dialogue sample; counts and lists from the full run."""
    import pandas as pd

    from csdialog.report import write_report

    keep = set(json.loads((parts / "report_sample.json").read_text(encoding="utf-8")))
    it, _ = _dialogues(src, columns, encoding)
    sample = [d for d in it if d.dialogue_id in keep]
    result = pipe.run(sample, clusterer=clusterer)
    data = result.report_data()
    full_vp = folder / "viewpoints.csv"
    note = (f"report drawn from {len(sample):,} of {summary['dialogues']:,} dialogues; "
            "the counts above and the CSV files cover all of them")
    from dataclasses import replace

    data = replace(
        data,
        summary={**summary, "note": note},
        viewpoints=pd.read_csv(full_vp) if full_vp.is_file() else data.viewpoints,
        alerts=pd.DataFrame(alert_rows[:500]) if alert_rows else data.alerts,
    )
    write_report(folder / "report.html", data, redact_personal_data=redact, redact_patterns=redact_patterns)
    return len(sample)

