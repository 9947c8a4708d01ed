"""The pipeline on Ray: read, sample and fit, annotate on an actor pool, reduce, write."""

from __future__ import annotations

import heapq
import inspect
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from csdialog.dialogue import Dialogue, Role, Turn, parse_timestamp
from csdialog.errors import ValidationError
from csdialog.ray._spec import PipelineSpec, shipped_folders
from csdialog.ray.annotator import (
    ERROR,
    LINE,
    ROW,
    SOURCE,
    TABLES,
    DialogueAnnotator,
    RowReader,
    _rows_of,
    bottom_k,
    explode,
    question_keys,
)

__all__ = ["RayResult", "analyze", "annotate", "fit_viewpoints", "read_chats", "sample_questions"]

_BOM = b"\xef\xbb\xbf"
_LINES_PER_BLOCK = 4096
_JSONL = (".jsonl", ".json", ".ndjson")
#: Turn columns in the order Pipeline.run writes them into turns.jsonl (by step).
_BASE_KEYS = ("dialogue_id", "turn_index", "role", "speaker", "text", "timestamp", "customer_id",
              "channel", "shop", "product", "category", "is_question", "viewpoint_id")
_EMOTION_KEYS = ("emotion", "emotion_zh", "emotion_score", "sarcastic", "sarcasm_score", "surface",
                 "polarity")
_INTENT_KEYS = ("intent", "intent_score", "out_of_scope")


def _ray() -> Any:
    from csdialog._optional import require

    return require("ray", "csdialog.ray (running the pipeline on Ray)")


def _ensure_init(ray: Any) -> None:
    if not ray.is_initialized():
        ray.init()  # RAY_ADDRESS or a local instance, as Ray Data itself would do


# --------------------------------------------------------------------------- reading


def _split_lines(batch: Any, encoding: str) -> Any:
    """Whole files (``path``, ``bytes``) -> one row per non-blank line, numbered from 1."""
    import pyarrow as pa

    from csdialog.io import _decode_reason, _is_utf8

    def table(rows: list[tuple[str, int, str | None, str | None]]) -> Any:
        cols = list(zip(*rows, strict=True))
        return pa.table({SOURCE: pa.array(cols[0], pa.string()), LINE: pa.array(cols[1], pa.int64()),
                         ROW: pa.array(cols[2], pa.string()), ERROR: pa.array(cols[3], pa.string())})

    for path, data in zip(batch.column("path").to_pylist(), batch.column("bytes").to_pylist(), strict=True):
        rows: list[tuple[str, int, str | None, str | None]] = []
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if number == 1 and raw.startswith(_BOM) and _is_utf8(encoding):
                raw = raw[3:]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                rows.append((path, number, raw.decode(encoding, "replace"), _decode_reason(raw, encoding)))
            else:
                if not text.strip():
                    continue
                rows.append((path, number, text, None))
            if len(rows) >= _LINES_PER_BLOCK:
                yield table(rows)
                rows = []
        if rows:
            yield table(rows)


def _format_of(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], fmt: str) -> str:
    if fmt in ("jsonl", "parquet"):
        return fmt
    if fmt != "auto":
        raise ValidationError(f"format must be 'auto', 'jsonl' or 'parquet', got {fmt!r}")
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not items:
        raise ValidationError("no paths given; pass a chat file, a folder or a list of them")
    names = [os.fspath(p).rstrip("/") for p in items]
    local_dirs = [Path(n) for n in names if "://" not in n and Path(n).is_dir()]
    for d in local_dirs:
        names += [str(p) for p in d.iterdir() if p.is_file()]
    if any(n.endswith(".parquet") for n in names):
        return "parquet"
    if any(n.endswith(_JSONL) for n in names):
        return "jsonl"
    raise ValidationError(
        f"cannot tell the format of {names[0]!r}; pass format='jsonl' or 'parquet' (csdialog.ray reads "
        "JSON lines and Parquet with one dialogue per row; convert CSV or one-turn-per-row files with "
        "csdialog.read_chats(...) and csdialog.write_jsonl(...))")


def read_chats(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    format: str = "auto",
    encoding: str = "utf-8",
    **read_args: Any,
) -> Any:
    """A Ray Dataset of the rows of chat files, one dialogue per row, read lazily.

    JSON lines are kept as text with their file and line number and parsed in the workers,
    so a corrupted line becomes a reported row (with its line number) instead of failing
    the whole read; Parquet rows are read as they are. Paths may be files, folders or
    anything Ray reads (``s3://``, ``gs://``...).

    Args:
        paths: one path or a list.
        format: ``"auto"`` (from the extensions), ``"jsonl"`` or ``"parquet"``.
        encoding: text encoding of JSON lines.
        **read_args: passed to ``ray.data.read_binary_files`` / ``read_parquet``.
    """
    ray = _ray()
    fmt = _format_of(paths, format)
    target: Any = ([os.fspath(p) for p in paths] if isinstance(paths, list | tuple)
                   else os.fspath(paths))  # type: ignore[arg-type]
    if fmt == "parquet":
        return ray.data.read_parquet(target, **read_args)
    files = ray.data.read_binary_files(target, include_paths=True, **read_args)
    return files.map_batches(_split_lines, fn_kwargs={"encoding": encoding}, batch_size=1,
                             batch_format="pyarrow")


def _paths(source: object) -> bool:
    return isinstance(source, list | tuple) and bool(source) and all(
        isinstance(s, str | os.PathLike) for s in source)


def _source_name(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, list | tuple) and _paths(source):
        return ", ".join(os.fspath(s) for s in source[:3]) + (" ..." if len(source) > 3 else "")
    return "<dataset>" if hasattr(source, "map_batches") else "<dialogues>"


def _as_dataset(source: object, *, format: str = "auto", encoding: str = "utf-8") -> Any:
    ray = _ray()
    if isinstance(source, ray.data.Dataset):
        return source
    if isinstance(source, str | os.PathLike) or _paths(source):
        return read_chats(source, format=format, encoding=encoding)  # type: ignore[arg-type]
    items = getattr(source, "dialogues", source)
    if isinstance(items, Iterable) and not isinstance(items, str | bytes | Mapping):
        rows = []
        for i, d in enumerate(items):
            if not isinstance(d, Dialogue):
                raise ValidationError(f"item {i} is a {type(d).__name__}; pass Dialogue objects, paths "
                                      "or a ray.data.Dataset")
            rows.append({SOURCE: "<dialogues>", LINE: i + 1, ROW: json.dumps(d.to_dict(), ensure_ascii=False),
                         ERROR: None})
        return ray.data.from_items(rows)
    raise ValidationError(
        f"expected chat file path(s), a ray.data.Dataset or Dialogue objects, got {type(source).__name__}")


# --------------------------------------------------------------------------- sampling


_SAMPLE_SCHEMA = (("key", "string"), ("hash", "uint64"), ("count", "int64"), ("text", "string"),
                  ("no_line", "bool_"), ("source", "string"), ("line", "int64"), ("pos", "int64"))


def _sample_batch(batch: Any, k: int, columns: Mapping[str, Any] | None, which: str) -> Any:
    """A batch's bottom-k of question keys: of the input rows (``which="input"``) or of the
    unassigned questions of annotated records (``which="unassigned"``)."""
    import pyarrow as pa

    if which == "input":
        reader = RowReader(columns)
        parsed = [(source, line, d) for row in _rows_of(batch)
                  for source, line, d, _ in [reader.parse_safely(row)] if d is not None]
        items = bottom_k(question_keys(parsed), k)
    else:
        from csdialog.viewpoints import normalize_question

        qs = explode(batch, "questions")
        nowhere = (True, "", 0, 0)  # first occurrence unknown here: the smallest text stands
        items = bottom_k(((normalize_question(t) or t, t, nowhere) for t, v in
                          zip(qs.column("text").to_pylist(), qs.column("viewpoint_id").to_pylist(),
                              strict=True) if v is None), k)
    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in _SAMPLE_SCHEMA])
    return pa.Table.from_pylist(items, schema=schema)


def _merge_samples(ds: Any, k: int) -> list[tuple[str, int, str]]:
    """Merge per-batch bottom-k samples on the driver: exact, bounded by ``2k`` keys; each
    key keeps the text of its first occurrence (smallest file, line, position)."""
    kept: dict[str, list[Any]] = {}  # key -> [hash, count, (where, text)]
    cut: int | None = None
    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        cols = [batch.column(name).to_pylist() for name, _ in _SAMPLE_SCHEMA]
        for key, h, count, text, no_line, source, line, pos in zip(*cols, strict=True):
            if cut is not None and h > cut:
                continue  # above the cut once, above it for good: the cut only falls
            seen = ((no_line, source, line, pos), text)
            item = kept.get(key)
            if item is None:
                kept[key] = [h, count, seen]
            else:
                item[1] += count
                item[2] = min(item[2], seen)
        if len(kept) > 2 * k:
            survivors = heapq.nsmallest(k, kept.items(), key=lambda kv: kv[1][0])
            cut = survivors[-1][1][0]
            kept = dict(survivors)
    ordered = sorted(kept.items(), key=lambda kv: kv[1][0])[:k]
    return [(key, v[1], v[2][1]) for key, v in ordered]


def sample_questions(
    source: object, *, k: int = 20_000, columns: Mapping[str, Any] | None = None,
    format: str = "auto", encoding: str = "utf-8",
) -> list[tuple[str, int, str]]:
    """The ``k`` distinct customer questions with the smallest hashes, as ``(key, count,
    text)`` in hash order: the same sample whatever the order or partitioning of the input
    (the rule of :class:`csdialog.streaming.BottomK`; ``text`` is the wording of the key's
    first occurrence, by file, line and position, as the stream keeps it). Each batch keeps
    its own bottom-k in parallel; the driver merges them.
    """
    if k < 1:
        raise ValidationError(f"a sample needs k >= 1, got {k}")
    ds = _as_dataset(source, format=format, encoding=encoding)
    parts = ds.map_batches(_sample_batch, fn_kwargs={"k": k, "columns": columns, "which": "input"},
                           batch_format="pyarrow", batch_size=1024)
    return _merge_samples(parts, k)


def fit_viewpoints(
    source: object, spec: PipelineSpec | None = None, *, sample: int = 20_000,
    folder: str | os.PathLike[str] | None = None, format: str = "auto", encoding: str = "utf-8",
) -> Any:
    """Fit a :class:`~csdialog.viewpoints.ViewpointClusterer` on a sample of the questions.

    The sample is that of :func:`sample_questions`; each distinct question counts as often
    as it was asked (at most 100 times), as in :meth:`Pipeline.stream
    <csdialog.pipeline.Pipeline.stream>`. With ``folder`` the fitted clusterer is saved
    there (``save_pretrained``), ready to be shipped to the workers.

    Returns:
        The fitted clusterer, or ``None`` when fewer than two distinct questions were found.
    """
    from csdialog.encoders import get_encoder
    from csdialog.encoders.cache import CachedEncoder
    from csdialog.viewpoints import Question, ViewpointClusterer

    spec = spec or PipelineSpec()
    items = sample_questions(source, k=sample, columns=spec.columns, format=format, encoding=encoding)
    questions = [Question(text) for _, count, text in items for _ in range(min(count, 100))]
    if len({q.text for q in questions}) < 2:
        return None
    encoder = CachedEncoder(get_encoder(spec.encoder, **dict(spec.encoder_kwargs)))
    clusterer = ViewpointClusterer(encoder=encoder, min_cluster_size=spec.min_cluster_size).fit(questions)
    if folder is not None:
        clusterer.save_pretrained(folder)
    return clusterer


# --------------------------------------------------------------------------- annotating


def _rebatch(ds: Any, rows: int, actors: int) -> Any:
    """Blocks of about ``rows`` rows, so that every actor gets work even from one big file."""
    if "target_num_rows_per_block" in inspect.signature(ds.repartition).parameters:
        return ds.repartition(target_num_rows_per_block=rows)
    return ds.repartition(max(4 * actors, 8))  # older Ray: a fixed number of blocks


def _pool(ray: Any, num_actors: int | tuple[int, int] | None, num_cpus: float) -> tuple[Any, int]:
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    if num_actors is None:
        num_actors = max(1, int((cpus - 1) // num_cpus)) if cpus > 1 else 1
    if isinstance(num_actors, tuple):
        lo, hi = num_actors
        if not 1 <= lo <= hi:
            raise ValidationError(f"num_actors=(min, max) needs 1 <= min <= max, got {num_actors}")
        return ray.data.ActorPoolStrategy(min_size=lo, max_size=hi), hi
    if num_actors < 1:
        raise ValidationError(f"num_actors must be >= 1, got {num_actors}")
    if num_actors * num_cpus > cpus - 1 + 1e-9:
        warnings.warn(
            f"{num_actors} actors x {num_cpus:g} CPU hold {num_actors * num_cpus:g} of the cluster's "
            f"{cpus:g} CPUs; reading needs one CPU besides them or the job can stall. Use fewer actors or "
            f"num_cpus={max(0.1, (cpus - 1) / num_actors):.2g}", UserWarning, stacklevel=3)
    return ray.data.ActorPoolStrategy(size=num_actors), num_actors


def _clusterer_folder(clusterer: object, keep: list[Any]) -> str | None:
    """A folder for ``clusterer`` (a folder already, or a fitted object saved to a temporary one)."""
    if clusterer is None:
        return None
    if isinstance(clusterer, str | os.PathLike):
        return os.fspath(clusterer)
    if hasattr(clusterer, "save_pretrained"):
        tmp = tempfile.TemporaryDirectory(prefix="csdialog-clusterer-")
        keep.append(tmp)
        return str(clusterer.save_pretrained(Path(tmp.name) / "clusterer"))
    raise ValidationError(
        f"clusterer must be a folder saved by ViewpointClusterer.save_pretrained or a fitted "
        f"ViewpointClusterer, got {type(clusterer).__name__}")


def annotate(
    source: object,
    spec: PipelineSpec | None = None,
    *,
    clusterer: object = None,
    num_actors: int | tuple[int, int] | None = None,
    batch_size: int = 256,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    memory: float | None = None,
    ray_remote_args: Mapping[str, Any] | None = None,
    ship_models: bool = True,
    isolate_failures: bool = True,
    format: str = "auto",
    encoding: str = "utf-8",
    annotator: type[DialogueAnnotator] = DialogueAnnotator,
) -> Any:
    """Annotate dialogues on a pool of Ray actors; returns a lazy Ray Dataset of records.

    Each actor builds the pipeline of ``spec`` once (models from names and folders) and
    annotates batches of ``batch_size`` dialogues. The result has one record per input row
    (``status`` ok / rejected / failed, in input order) with the turn rows, questions,
    answer checks, inspection, findings and alerts of that dialogue as list columns; take
    the flat tables with :func:`csdialog.ray.annotator.explode` or use :func:`analyze`.

    Args:
        source: chat file path(s) (see :func:`read_chats`), a ``ray.data.Dataset`` with one
            dialogue per row, or ``Dialogue`` objects.
        spec: the pipeline's settings (default: the default pipeline).
        clusterer: a folder saved by ``ViewpointClusterer.save_pretrained`` (or a fitted
            clusterer, saved to a temporary folder) to assign questions to.
        num_actors: actors in the pool, or ``(min, max)`` to autoscale; default: as many
            as fit in the cluster's CPUs with one CPU left for reading.
        batch_size: dialogues per batch.
        num_cpus, num_gpus, memory: resources of each actor (with ``num_gpus`` the
            encoder runs on the actor's GPU).
        ray_remote_args: more options for the actors (``resources``, ``runtime_env``...).
        ship_models: send the model folders with the job as bytes (written back to a local
            folder on each worker); ``False`` passes their paths, which must then be
            readable on every node (shared storage).
        isolate_failures: when a batch raises, retry its dialogues one at a time so that
            only the failing ones are reported as ``failed``.
        format, encoding: how to read file paths.
        annotator: the per-batch class (a subclass of :class:`DialogueAnnotator`).
    """
    ray = _ray()
    _ensure_init(ray)
    spec = spec or PipelineSpec()
    if batch_size < 1:
        raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
    keep: list[Any] = []
    folder = _clusterer_folder(clusterer, keep)
    if keep and not ship_models:
        raise ValidationError("a clusterer object needs ship_models=True; with ship_models=False pass "
                              "the folder it was saved to, on storage every node can read")
    folders = shipped_folders(spec, folder, ship=ship_models)
    for tmp in keep:
        tmp.cleanup()  # packed already
    compute, n = _pool(ray, num_actors, num_cpus)
    ds = _rebatch(_as_dataset(source, format=format, encoding=encoding), batch_size, n)
    out = ds.map_batches(
        annotator, batch_size=batch_size, batch_format="pyarrow", compute=compute,
        fn_constructor_kwargs={"spec": spec.to_dict(), "folders": folders, "source": _source_name(source),
                               "clusterer": None if "clusterer" in folders else folder,
                               "isolate_failures": isolate_failures},
        num_cpus=num_cpus, num_gpus=num_gpus, memory=memory, **dict(ray_remote_args or {}))
    out.context.execution_options.preserve_order = True
    return out


# --------------------------------------------------------------------------- result


def _ordered(ds: Any) -> Any:
    ds.context.execution_options.preserve_order = True
    return ds


def _in_sample(batch: Any, cut: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pc.and_(pc.equal(batch.column("status"), "ok"),
                   pc.less_equal(batch.column("sample_hash"), pa.scalar(cut, pa.int64())))
    return batch.filter(pc.fill_null(mask, False))


def _pairs(batch: Any) -> Any:
    """Per-batch counts of (viewpoint_id, category) over the assigned questions."""
    import pyarrow as pa

    qs = explode(batch, "questions").select(["viewpoint_id", "category"])
    qs = qs.filter(qs.column("viewpoint_id").is_valid())
    counts = qs.group_by(["viewpoint_id", "category"], use_threads=False).aggregate([([], "count_all")])
    return pa.table({"viewpoint_id": counts.column("viewpoint_id"), "category": counts.column("category"),
                     "count": counts.column("count_all").cast(pa.int64())})


def _frame(table: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get)


def _turns_frame(table: Any) -> Any:
    import pandas as pd

    frame = _frame(table)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], errors="coerce", utc=True)
    return frame


@dataclass
class RayResult:
    """What :func:`analyze` found: the annotated records (materialized in the Ray object
    store) plus the driver-side reductions.

    Use :meth:`dataset` for the big tables as Ray Datasets, :meth:`to_frame` for pandas
    (small results), :meth:`save` to write the outputs of the local engine into a folder.

    Attributes:
        records: one record per input row (see :class:`~csdialog.ray.DialogueAnnotator`).
        spec: the pipeline's settings.
        clusterer: the fitted (or given) viewpoint clusterer, or ``None``.
        candidates: new viewpoints found among the questions no viewpoint took
            (their ids continue the clusterer's), largest first.
        updated_clusterer: the clusterer plus the candidates (``partial_fit``), to review
            and reuse for the next run.
        repeat_alerts: repeat-contact alerts (reduced on the driver).
        viewpoint_counts: assigned questions per viewpoint and category.
        read_report: rows in, read, rejected and failed, with the first reported rows.
        summary: counts, settings and timings of the run.
    """

    records: Any
    spec: PipelineSpec
    clusterer: Any = None
    candidates: list[Any] = field(default_factory=list)
    updated_clusterer: Any = None
    repeat_alerts: list[Any] = field(default_factory=list)
    viewpoint_counts: Any = None
    read_report: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    report_cut: int | None = None

    _DATASETS = ("records", *TABLES)
    _FRAMES = (*TABLES, "viewpoints", "top_by_category", "candidates", "records")

    def dataset(self, what: str = "turns") -> Any:
        """A Ray Dataset: ``records`` or one of the flat tables (``turns``, ``questions``,
        ``answers``, ``inspections``, ``findings``, ``alerts`` (complaint risk, then the
        repeat contacts), ``truncated``, ``errors``), in input order."""
        ray = _ray()
        if what == "records":
            return self.records
        if what not in TABLES:
            raise ValidationError(f"dataset() takes one of {list(self._DATASETS)}, got {what!r}")
        ds = _ordered(self.records.map_batches(explode, fn_kwargs={"name": what}, batch_format="pyarrow",
                                               batch_size=None))
        if what == "alerts" and self.repeat_alerts:
            import pyarrow as pa

            from csdialog.ray.annotator import _struct

            repeats = pa.Table.from_pylist([a.to_dict() for a in self.repeat_alerts],
                                           schema=pa.schema(list(_struct("alerts"))))
            ds = _ordered(ds.union(ray.data.from_arrow(repeats)))
        return ds

    def _arrow(self, what: str) -> Any:
        return _concat(self.dataset(what), what)

    def to_frame(self, what: str = "turns") -> Any:
        """A pandas DataFrame (collected on the driver: for small results): a flat table
        (see :meth:`dataset`), ``viewpoints`` (with the full counts), ``top_by_category``,
        ``candidates`` or ``records``."""
        import pandas as pd

        if what == "turns":
            return _turns_frame(self._arrow("turns"))
        if what == "alerts":
            # the order of Pipeline.run: complaint risk (highest first), then repeat contacts
            frame = _frame(self._arrow("alerts"))
            risk = frame[frame["kind"] != "repeat_contact"].sort_values(
                ["score", "dialogue_id"], ascending=[False, True], kind="stable")
            return pd.concat([risk, frame[frame["kind"] == "repeat_contact"]], ignore_index=True)
        if what in TABLES:
            return _frame(self._arrow(what))
        if what == "records":
            return _frame(_concat(self.records, None))
        if what == "viewpoints":
            return self._viewpoints()
        if what == "top_by_category":
            return self._top_by_category()
        if what == "candidates":
            if not self.candidates:
                return pd.DataFrame(columns=["viewpoint_id", "label", "size", "share", "keywords",
                                             "examples"])
            return pd.DataFrame([{**v.to_dict(), "keywords": ", ".join(v.keywords),
                                  "examples": " | ".join(v.examples)} for v in self.candidates])
        raise ValidationError(f"to_frame() takes one of {list(self._FRAMES)}, got {what!r}")

    def _viewpoints(self) -> Any:
        import pandas as pd

        cols = ["viewpoint_id", "label", "size", "share", "keywords", "examples"]
        if self.clusterer is None or not getattr(self.clusterer, "viewpoints_", None):
            return pd.DataFrame(columns=cols)
        vp = self.clusterer.to_frame()
        counts = self.viewpoint_counts
        sizes = (counts.groupby("viewpoint_id")["count"].sum() if counts is not None and len(counts)
                 else pd.Series(dtype=int))
        vp["sample_size"] = vp["size"]
        vp["size"] = [int(sizes.get(v, 0)) for v in vp["viewpoint_id"]]
        vp["share"] = vp["size"] / max(1, int(sizes.sum()))
        return vp.sort_values(["size", "viewpoint_id"], ascending=[False, True]).reset_index(drop=True)

    def _top_by_category(self) -> Any:
        import pandas as pd

        cols = ["category", "rank", "viewpoint_id", "label", "count", "share_in_group"]
        counts = self.viewpoint_counts
        if self.clusterer is None or counts is None or not len(counts):
            return pd.DataFrame(columns=cols)
        labels = {v.viewpoint_id: v.label for v in self.clusterer.viewpoints_}
        rows = []
        for category, group in counts.dropna(subset=["category"]).groupby("category", sort=True):
            total = int(group["count"].sum())
            ranked = group.sort_values(["count", "viewpoint_id"], ascending=[False, True]).head(self.spec.top)
            for rank, (vid, n) in enumerate(zip(ranked["viewpoint_id"], ranked["count"], strict=True), 1):
                rows.append({"category": category, "rank": rank, "viewpoint_id": vid,
                             "label": labels.get(vid, ""), "count": int(n), "share_in_group": int(n) / total})
        return pd.DataFrame(rows, columns=cols)

    # ------------------------------------------------------------------ writing

    def save(
        self, folder: str | os.PathLike[str], *, report: bool = True, redact: bool = True,
        parquet: bool = True, redact_patterns: Mapping[str, str] | None = None,
    ) -> dict[str, Path]:
        """Write the outputs of :meth:`AnalysisResult.save <csdialog.pipeline.AnalysisResult.save>`
        into ``folder``, streaming the big tables from the cluster batch by batch:
        ``turns.jsonl`` (+ ``turns.parquet``), ``questions.csv``, ``answer_checks.csv``,
        ``inspections.csv``, ``findings.csv``, ``alerts.csv``, ``viewpoints.csv``,
        ``top_by_category.csv``, ``answer_logics.yaml`` (the logics used), ``read_report.json``,
        ``summary.json`` and ``report.html`` (drawn from a sample of dialogues, with the full
        counts), plus ``errors.csv`` (every rejected row, dropped turn and failed dialogue),
        ``candidate_viewpoints.csv`` and the clusterers (``clusterer/``,
        ``clusterer_with_candidates/``).
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        steps = set(self.summary.get("steps", ()))
        keys = _BASE_KEYS + (_EMOTION_KEYS if "emotion" in steps else ()) + (
            _INTENT_KEYS if "intent" in steps else ())
        writer = None
        p = out / "turns.jsonl"
        with p.open("w", encoding="utf-8") as fh:
            for batch in self.dataset("turns").iter_batches(batch_format="pyarrow", batch_size=None):
                for row in batch.to_pylist():
                    fh.write(json.dumps({k: row[k] for k in keys}, ensure_ascii=False, default=str) + "\n")
                if parquet:
                    writer = _write_parquet(writer, out / "turns.parquet", batch)
        paths["turns.jsonl"] = p
        if parquet:
            if writer is None:
                writer = _write_parquet(None, out / "turns.parquet", _empty("turns"))
            writer.close()
            paths["turns.parquet"] = out / "turns.parquet"
        for name, what in (("questions.csv", "questions"), ("answer_checks.csv", "answers"),
                           ("inspections.csv", "inspections"), ("findings.csv", "findings"),
                           ("errors.csv", "errors")):
            paths[name] = _write_csv(self.dataset(what), what, out / name)
        self.to_frame("alerts").to_csv(out / "alerts.csv", index=False)
        paths["alerts.csv"] = out / "alerts.csv"
        for name, what in (("viewpoints.csv", "viewpoints"), ("top_by_category.csv", "top_by_category"),
                           ("candidate_viewpoints.csv", "candidates")):
            self.to_frame(what).to_csv(out / name, index=False)
            paths[name] = out / name
        if self.clusterer is not None:
            paths["clusterer"] = Path(self.clusterer.save_pretrained(out / "clusterer"))
        if self.updated_clusterer is not None and self.candidates:
            paths["clusterer_with_candidates"] = Path(
                self.updated_clusterer.save_pretrained(out / "clusterer_with_candidates"))
        logics = self.spec.logics()
        if logics:
            from csdialog.answers import save_answer_logics

            paths["answer_logics.yaml"] = save_answer_logics(logics, out / "answer_logics.yaml")
        p = out / "read_report.json"
        p.write_text(json.dumps(self.read_report, ensure_ascii=False, indent=2, default=str),
                     encoding="utf-8")
        paths["read_report.json"] = p
        summary = dict(self.summary)
        if report:
            paths["report.html"], summary["report_sample"] = self._report(
                out / "report.html", summary, redact=redact, redact_patterns=redact_patterns)
        p = out / "summary.json"
        p.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        paths["summary.json"] = p
        return paths

    def _report(self, path: Path, summary: dict[str, Any], *, redact: bool,
                redact_patterns: Mapping[str, str] | None) -> tuple[Path, int]:
        """The report of the local engine, drawn from the sampled dialogues; the viewpoints,
        top questions and alerts with the full counts."""
        import pyarrow as pa

        from csdialog.report import ReportData, write_report

        if self.report_cut is None:
            sample = self.records.limit(0)
        else:
            sample = self.records.map_batches(_in_sample, fn_kwargs={"cut": self.report_cut},
                                              batch_format="pyarrow", batch_size=None)
        tables = list(sample.iter_batches(batch_format="pyarrow", batch_size=None))
        recs = pa.concat_tables(tables) if tables else None

        def table(name: str) -> Any:
            return explode(recs, name) if recs is not None else _empty(name)

        turns = _turns_frame(table("turns"))
        insp = _frame(table("inspections"))
        if len(insp):
            meta = turns.drop_duplicates("dialogue_id").set_index("dialogue_id")
            insp = insp.rename(columns={"agent": "speaker"})
            insp["shop"] = insp["dialogue_id"].map(meta["shop"]) if len(meta) else None
        n = 0 if recs is None else recs.num_rows
        note = (f"report drawn from {n:,} of {summary.get('dialogues', 0):,} dialogues; "
                "the counts above and the CSV files cover all of them")
        alerts = self.to_frame("alerts")
        data = ReportData(summary={**summary, "note": note}, turns=turns,
                          viewpoints=self.to_frame("viewpoints"),
                          top_by_category=self.to_frame("top_by_category"),
                          answer_checks=_frame(table("answers")), inspections=insp, alerts=alerts.head(500))
        return write_report(path, data, redact_personal_data=redact, redact_patterns=redact_patterns), n


def _concat(ds: Any, what: str | None) -> Any:
    import pyarrow as pa

    from csdialog.ray.annotator import records_schema

    tables = list(ds.iter_batches(batch_format="pyarrow", batch_size=None))
    if tables:
        return pa.concat_tables(tables)
    return _empty(what) if what is not None else records_schema().empty_table()


def _empty(name: str) -> Any:
    import pyarrow as pa

    from csdialog.ray.annotator import _struct

    return pa.Table.from_pylist([], schema=pa.schema(list(_struct(name))))


def _write_parquet(writer: Any, path: Path, batch: Any) -> Any:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = batch.to_pandas()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], errors="coerce", utc=True)
    schema = batch.schema.set(batch.schema.get_field_index("timestamp"),
                              pa.field("timestamp", pa.timestamp("ns", tz="UTC")))
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, schema)
    writer.write_table(table)
    return writer


def _write_csv(ds: Any, what: str, path: Path) -> Path:
    header = True
    with path.open("w", encoding="utf-8", newline="") as fh:
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            if not batch.num_rows:
                continue
            _frame(batch).to_csv(fh, index=False, header=header)
            header = False
        if header:
            _frame(_empty(what)).to_csv(fh, index=False)
    return path


# --------------------------------------------------------------------------- analyze


def analyze(
    source: object,
    spec: PipelineSpec | None = None,
    *,
    clusterer: object = None,
    question_sample: int = 20_000,
    report_sample: int = 2_000,
    candidate_sample: int = 20_000,
    num_actors: int | tuple[int, int] | None = None,
    batch_size: int = 256,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    memory: float | None = None,
    ray_remote_args: Mapping[str, Any] | None = None,
    ship_models: bool = True,
    format: str = "auto",
    encoding: str = "utf-8",
    annotator: type[DialogueAnnotator] = DialogueAnnotator,
) -> RayResult:
    """The whole pipeline on Ray: the same outputs as ``Pipeline.stream`` on one machine.

    1. **Fit on a sample.** Unless ``clusterer`` is given, the viewpoints are fitted on the
       driver from a deterministic sample of the distinct questions (:func:`fit_viewpoints`)
       and saved to a folder.
    2. **Annotate in parallel.** :func:`annotate` on an actor pool: every turn annotated,
       every question assigned to the broadcast clusterer, answers checked, dialogues
       inspected, complaint risk scored; the records are materialized in the object store.
    3. **Reduce.** On the driver, from small columns: counts, repeat contacts (they need all
       dialogues of a customer), the report's sample of dialogues; the viewpoint counts per
       category are pre-aggregated per batch; the questions no viewpoint took are sampled
       and clustered (``partial_fit``) into candidate new viewpoints.

    Args:
        source, spec, clusterer, num_actors, batch_size, num_cpus, num_gpus, memory,
            ray_remote_args, ship_models, format, encoding, annotator: see :func:`annotate`.
        question_sample: distinct questions the viewpoints are fitted on.
        report_sample: dialogues the HTML report is drawn from.
        candidate_sample: distinct unassigned questions clustered into candidates.

    Example:
        >>> import ray                                                      # doctest: +SKIP
        >>> ray.init()                                                      # doctest: +SKIP
        >>> spec = PipelineSpec(answer_logics="answer_logic.yaml")          # doctest: +SKIP
        >>> res = analyze("s3://bucket/chats/2026-11-24/", spec, num_actors=32)  # doctest: +SKIP
        >>> res.save("results/2026-11-24")                                  # doctest: +SKIP
    """
    from csdialog.alerts import repeat_contacts
    from csdialog.encoders import get_encoder
    from csdialog.encoders.cache import CachedEncoder
    from csdialog.viewpoints import Question, ViewpointClusterer

    ray = _ray()
    _ensure_init(ray)
    spec = spec or PipelineSpec()
    steps = spec.pipeline().steps  # validated here, before any work
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    ds = _as_dataset(source, format=format, encoding=encoding)
    keep: list[Any] = []
    encoder = CachedEncoder(get_encoder(spec.encoder, **dict(spec.encoder_kwargs)))
    fitted: Any = None
    folder: str | None = None
    n_sampled = None
    if clusterer is None and "viewpoints" in steps:
        tmp = tempfile.TemporaryDirectory(prefix="csdialog-clusterer-")
        keep.append(tmp)
        folder = os.path.join(tmp.name, "clusterer")
        items = sample_questions(ds, k=question_sample, columns=spec.columns)
        n_sampled = len(items)
        questions = [Question(text) for _, count, text in items for _ in range(min(count, 100))]
        if len({q.text for q in questions}) >= 2:
            fitted = ViewpointClusterer(encoder=encoder, min_cluster_size=spec.min_cluster_size)
            fitted.fit(questions)
            fitted.save_pretrained(folder)
        else:
            folder = None
    elif clusterer is not None:
        folder = _clusterer_folder(clusterer, keep)
        fitted = ViewpointClusterer.from_pretrained(folder, encoder=encoder)  # type: ignore[arg-type]
    timings["sample_fit"] = round(time.perf_counter() - t0, 2)

    t1 = time.perf_counter()
    records = annotate(ds, spec, clusterer=folder, num_actors=num_actors, batch_size=batch_size,
                       num_cpus=num_cpus, num_gpus=num_gpus, memory=memory, ray_remote_args=ray_remote_args,
                       ship_models=ship_models, annotator=annotator).materialize()
    for tmp in keep:
        tmp.cleanup()
    timings["annotate"] = round(time.perf_counter() - t1, 2)

    # ---------------------------------------------------------------- reduce on the driver
    t1 = time.perf_counter()
    status: dict[str, int] = {"ok": 0, "rejected": 0, "failed": 0}
    totals = dict.fromkeys(("turns", "customer_turns", "questions", "answers", "unanswered", "alerts"), 0)
    problems: list[dict[str, Any]] = []
    n_problems = turns_rejected = 0
    truncated: list[dict[str, Any]] = []
    stubs: list[Dialogue] = []
    heap: list[int] = []  # the report sample: the smallest dialogue-id hashes (negated, max on top)
    narrow = records.select_columns(
        ["dialogue_id", "status", "customer_id", "start", "sample_hash", "n_turns", "n_customer_turns",
         "n_questions", "n_answers", "n_unanswered", "n_alerts", "truncated", "errors"])
    for batch in narrow.iter_batches(batch_format="pyarrow", batch_size=None):
        cols = {name: batch.column(name).to_pylist() for name in batch.column_names}
        for i, st in enumerate(cols["status"]):
            status[st] = status.get(st, 0) + 1
            for err in cols["errors"][i]:
                n_problems += 1
                turns_rejected += err["status"] == "turn_rejected"
                if len(problems) < 1000:
                    problems.append(err)
            if st != "ok":
                continue
            for name in totals:
                totals[name] += cols[f"n_{name}"][i] or 0
            if len(truncated) < 1000:
                truncated.extend(cols["truncated"][i][: 1000 - len(truncated)])
            if cols["customer_id"][i]:
                ts = parse_timestamp(cols["start"][i]) if cols["start"][i] else None
                stubs.append(Dialogue(cols["dialogue_id"][i], (Turn(Role.CUSTOMER, "-", timestamp=ts),),
                                      customer_id=cols["customer_id"][i]))
            h = cols["sample_hash"][i]
            if len(heap) < report_sample:
                heapq.heappush(heap, -h)
            elif h < -heap[0]:
                heapq.heapreplace(heap, -h)
    repeats = repeat_contacts(stubs, spec.repeat_rules) if stubs and "alerts" in steps else []
    del stubs
    import pandas as pd

    pair_parts = records.map_batches(_pairs, batch_format="pyarrow", batch_size=None)
    pair_tables = [b for b in pair_parts.iter_batches(batch_format="pandas", batch_size=None) if len(b)]
    counts = (pd.concat(pair_tables).groupby(["viewpoint_id", "category"], dropna=False,
                                             as_index=False)["count"].sum()
              if pair_tables else pd.DataFrame(columns=["viewpoint_id", "category", "count"]))
    candidates: list[Any] = []
    updated: Any = None
    if fitted is not None:
        parts = records.map_batches(_sample_batch, fn_kwargs={"k": candidate_sample, "columns": None,
                                                              "which": "unassigned"},
                                    batch_format="pyarrow", batch_size=None)
        rest = [Question(text) for _, count, text in _merge_samples(parts, candidate_sample)
                for _ in range(min(count, 100))]
        if rest:
            with tempfile.TemporaryDirectory(prefix="csdialog-clusterer-") as tmp_dir:
                updated = ViewpointClusterer.from_pretrained(fitted.save_pretrained(Path(tmp_dir) / "c"),
                                                             encoder=encoder)
            known = len(updated.viewpoints_)
            updated.partial_fit(rest)
            candidates = sorted(updated.viewpoints_[known:], key=lambda v: (-v.size, v.viewpoint_id))
    timings["reduce"] = round(time.perf_counter() - t1, 2)

    rows_in = sum(status.values())
    read_report = {
        "source": _source_name(source), "layout": "dialogues", "rows_in": rows_in,
        "rows_read": status["ok"] + status["failed"], "rows_rejected": status["rejected"],
        "turns_rejected": turns_rejected, "dialogues": status["ok"] + status["failed"],
        "failed": status["failed"], "reported": n_problems, "rejected": problems,
    }
    summary = {
        "input": _source_name(source), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "ray", "rows_read": read_report["rows_read"], "rows_rejected": status["rejected"],
        "dialogues": read_report["dialogues"], "annotated": status["ok"], "failed": status["failed"],
        "turns": totals["turns"], "customer_turns": totals["customer_turns"],
        "questions": totals["questions"],
        "viewpoints": len(fitted.viewpoints_) if fitted is not None else 0,
        "candidate_viewpoints": len(candidates), "answer_checks": totals["answers"],
        "unanswered": totals["unanswered"], "alerts": totals["alerts"] + len(repeats),
        "steps": list(steps), "encoder": encoder.name,
        "emotion_model": str(spec.emotion_model) if "emotion" in steps else None,
        "intent_model": str(spec.intent_model) if "intent" in steps else None,
        "top": spec.top, "question_sample": n_sampled, "batch_size": batch_size,
        "ray": {"num_actors": num_actors if num_actors is not None else "auto", "num_cpus": num_cpus,
                "num_gpus": num_gpus,
                "cluster_cpus": ray.cluster_resources().get("CPU")},
        "seconds": round(time.perf_counter() - t0, 2), "timings": timings, "truncated_turns": truncated,
    }
    return RayResult(records=records, spec=spec, clusterer=fitted, candidates=candidates,
                     updated_clusterer=updated, repeat_alerts=repeats, viewpoint_counts=counts,
                     read_report=read_report, summary=summary,
                     report_cut=-heap[0] if heap else None)
