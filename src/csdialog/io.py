"""Read and write chats: JSONL, CSV, Parquet, pandas and Hugging Face ``datasets``.

Two layouts are understood, both with a :class:`ColumnMapping`:

- ``"turns"``: one row per turn, with a dialogue id column; rows of a dialogue are
  grouped (in order of first appearance; turn order is the row order);
- ``"dialogues"``: one row per dialogue, with a ``turns`` column holding a list of
  ``{"role", "text", ...}`` objects (or that list as JSON text, in CSV).

Every input row is accounted for: a row is either read or reported in
:class:`ReadReport.rejected` with its line number and the reason, so
``report.rows_in == report.rows_read + report.rows_rejected`` always holds.
In the dialogues layout a bad turn inside a good row is dropped and reported
(``RejectedRow.turn_index`` set); the row still counts as read.

Example:
    >>> import io as _io, json, tempfile, os
    >>> from csdialog.io import read_chats
    >>> path = os.path.join(tempfile.mkdtemp(), "chats.jsonl")
    >>> rows = [{"dialogue_id": "d1", "role": "customer", "text": "在吗?"},
    ...         {"dialogue_id": "d1", "role": "客服", "text": "在的,请问有什么可以帮您?"},
    ...         {"dialogue_id": "d1", "role": "customer", "text": ""}]
    >>> with open(path, "w", encoding="utf-8") as fh:
    ...     _ = fh.write("\\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    >>> result = read_chats(path)
    >>> len(result.dialogues), result.report.rows_read, result.report.rows_rejected
    (1, 2, 1)
    >>> result.report.rejected[0].reason
    "turn text is empty or whitespace only (''); drop the turn or give it text"
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Literal

from csdialog.dialogue import _DIALOGUE_FIELDS, Dialogue, Role, Turn, parse_role, parse_timestamp
from csdialog.errors import ColumnMappingError, DataFormatError, ValidationError

__all__ = [
    "ChatReader",
    "ColumnMapping",
    "ReadReport",
    "ReadResult",
    "RejectedRow",
    "from_hf_dataset",
    "from_pandas",
    "read_chats",
    "to_hf_dataset",
    "to_pandas",
    "write_csv",
    "write_jsonl",
]

Layout = Literal["auto", "turns", "dialogues"]
FileFormat = Literal["auto", "jsonl", "csv", "parquet"]
OnError = Literal["report", "raise"]

_DIALOGUE_META_PREFIX = "dialogue."
_RAW_LIMIT = 200


@dataclass(frozen=True)
class ColumnMapping:
    """Which input column holds which field. Defaults match csdialog's own output.

    Args:
        dialogue_id, role, text: required columns (``role`` may be omitted if
            ``default_role`` is set, e.g. for a file of customer questions only).
        timestamp, speaker: optional columns; ``None`` to ignore.
        turn_index: optional column giving each turn's position in its dialogue (turns
            layout); turns are ordered by it when present, else by row order.
        turns: the list-of-turns column of the dialogues layout.
        customer_id, channel, shop, product, category: optional dialogue-level columns.
        role_map: extra role spellings, e.g. ``{"SELLER": "agent", "BUYER": "customer"}``.
        default_role: role used when the role column is absent.
        keep_extra: keep unmapped columns as metadata (turn metadata in the turns layout,
            dialogue metadata in the dialogues layout; ``dialogue.<key>`` columns go to
            the dialogue's metadata in the turns layout).

    Example:
        >>> ColumnMapping(dialogue_id="session", role="sender", text="content")
        ... # doctest: +ELLIPSIS
        ColumnMapping(dialogue_id='session', role='sender', text='content', ...)
    """

    dialogue_id: str = "dialogue_id"
    role: str | None = "role"
    text: str = "text"
    timestamp: str | None = "timestamp"
    speaker: str | None = "speaker"
    turn_index: str | None = "turn_index"
    turns: str = "turns"
    customer_id: str | None = "customer_id"
    channel: str | None = "channel"
    shop: str | None = "shop"
    product: str | None = "product"
    category: str | None = "category"
    role_map: Mapping[str, str] = field(default_factory=dict)
    default_role: str | None = None
    keep_extra: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("role_map", "keep_extra", "default_role"):
                continue
            if value is not None and (not isinstance(value, str) or not value):
                raise ValidationError(
                    f"ColumnMapping.{f.name} must be a column name (text) or None, got {value!r}"
                )
        if self.role is None and self.default_role is None:
            raise ValidationError(
                "ColumnMapping.role is None but no default_role is given; say which role the "
                "rows have, e.g. ColumnMapping(role=None, default_role='customer')"
            )
        if self.default_role is not None:
            parse_role(self.default_role, self.role_map)
        object.__setattr__(self, "role_map", MappingProxyType(dict(self.role_map)))

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> ColumnMapping:
        """Build from a plain dict, rejecting unknown keys with the list of valid ones."""
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - valid)
        if unknown:
            raise ValidationError(
                f"unknown ColumnMapping keys {unknown}; valid keys: {sorted(valid)}"
            )
        return cls(**dict(mapping))

    def _mapped(self) -> set[str]:
        names = {
            getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("role_map", "keep_extra", "default_role")
        }
        return {n for n in names if n}


@dataclass(frozen=True)
class RejectedRow:
    """An input row (or a turn inside a row) that could not be used.

    Attributes:
        source: the file path, ``"<dataframe>"`` or ``"<dataset>"``.
        line: 1-based line number in a file (CSV: the record's first line), or the
            0-based row index in a table.
        reason: what was wrong and how to fix it.
        raw: the row's text, cut to 200 characters.
        turn_index: for a bad turn inside a dialogues-layout row, its index; else ``None``.
    """

    source: str
    line: int
    reason: str
    raw: str = ""
    turn_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "reason": self.reason,
                "raw": self.raw, "turn_index": self.turn_index}


@dataclass(frozen=True)
class ReadReport:
    """What a read did with every input row.

    Attributes:
        source: where the rows came from.
        layout: the layout used (after auto-detection).
        rows_in: rows seen (blank lines of a JSONL file are not rows and are not counted).
        rows_read: rows that became (part of) a dialogue.
        dialogues: dialogues produced.
        rejected: every row or turn not used, with the reason.
    """

    source: str
    layout: str
    rows_in: int
    rows_read: int
    dialogues: int
    rejected: tuple[RejectedRow, ...] = ()

    @property
    def rows_rejected(self) -> int:
        """Rows not used at all (bad turns inside a read row are not counted here)."""
        return sum(1 for r in self.rejected if r.turn_index is None)

    @property
    def turns_rejected(self) -> int:
        """Turns dropped from rows that were otherwise read (dialogues layout)."""
        return sum(1 for r in self.rejected if r.turn_index is not None)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = (
            f"{self.source}: {self.rows_in} rows in, {self.rows_read} read, "
            f"{self.rows_rejected} rejected -> {self.dialogues} dialogues"
        )
        if self.turns_rejected:
            text += f" ({self.turns_rejected} bad turns dropped inside read rows)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "layout": self.layout, "rows_in": self.rows_in,
            "rows_read": self.rows_read, "rows_rejected": self.rows_rejected,
            "turns_rejected": self.turns_rejected, "dialogues": self.dialogues,
            "rejected": [r.to_dict() for r in self.rejected],
        }


@dataclass(frozen=True)
class ReadResult:
    """Dialogues read plus the report of every row."""

    dialogues: tuple[Dialogue, ...]
    report: ReadReport

    def __iter__(self) -> Iterator[Dialogue]:
        return iter(self.dialogues)

    def __len__(self) -> int:
        return len(self.dialogues)


# ---------------------------------------------------------------------------------------
# value helpers


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _raw(row: object) -> str:
    try:
        text = row if isinstance(row, str) else json.dumps(row, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(row)
    return text[:_RAW_LIMIT]


def _plain(value: Any) -> Any:
    """numpy / pandas scalars -> Python values, so metadata is JSON-ready."""
    if _is_missing(value):
        return None
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        try:
            return item()
        except (ValueError, TypeError):
            return value
    if hasattr(value, "tolist") and type(value).__module__ == "numpy":
        return value.tolist()
    return value


def _opt_str(value: object) -> str | None:
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _dialogue_id(value: object, column: str) -> str:
    value = _plain(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"dialogue id (column {column!r}) is missing or empty")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(
            f"dialogue id (column {column!r}) must be text or a number, got "
            f"{type(value).__name__} {value!r:.60}"
        )
    return _opt_str(value) or ""


def _text(value: object, column: str) -> str:
    value = _plain(value)
    if value is None:
        raise ValidationError(f"text (column {column!r}) is missing")
    if not isinstance(value, str):
        raise ValidationError(
            f"text (column {column!r}) must be a string, got {type(value).__name__} {value!r:.60}"
        )
    return value


def _require_keys(row: Mapping[str, Any], needed: Iterable[str | None]) -> None:
    missing = [k for k in needed if k is not None and k not in row]
    if missing:
        raise ValidationError(
            f"column(s) {missing} not in this row (it has {sorted(map(str, row))}); if your "
            "data names them differently, pass columns=ColumnMapping(...) mapping them"
        )


def _turn_from(row: Mapping[str, Any], cols: ColumnMapping, extra_keys: Iterable[str]) -> Turn:
    _require_keys(row, [cols.text, cols.role if cols.default_role is None else None])
    if cols.role is not None and cols.role in row and not _is_missing(row[cols.role]):
        role: Role = parse_role(row[cols.role], cols.role_map)
    elif cols.default_role is not None:
        role = parse_role(cols.default_role, cols.role_map)
    else:
        raise ValidationError(f"role (column {cols.role!r}) is missing")
    timestamp = None
    if cols.timestamp is not None and cols.timestamp in row:
        timestamp = parse_timestamp(_plain(row[cols.timestamp]))
    speaker = _opt_str(row.get(cols.speaker)) if cols.speaker is not None else None
    metadata = {k: _plain(row[k]) for k in extra_keys if k in row and not _is_missing(row[k])}
    return Turn(role=role, text=_text(row.get(cols.text), cols.text), timestamp=timestamp,
                speaker=speaker, metadata=metadata)


def _position(row: Mapping[str, Any], column: str | None) -> int | None:
    if column is None or column not in row or _is_missing(row[column]):
        return None
    value = _plain(row[column])
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or not number.is_integer():
        raise ValidationError(f"turn index (column {column!r}) must be a whole number, got {value!r}")
    return int(number)


def _dialogue_fields(row: Mapping[str, Any], cols: ColumnMapping) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _DIALOGUE_FIELDS:
        col = getattr(cols, name)
        out[name] = _opt_str(row.get(col)) if col is not None else None
    return out


def _check_columns(found: Iterable[str], cols: ColumnMapping, layout: str, source: str) -> None:
    found_set = set(found)
    needed = [cols.dialogue_id]
    if layout == "turns":
        needed.append(cols.text)
        if cols.default_role is None and cols.role is not None:
            needed.append(cols.role)
    else:
        needed.append(cols.turns)
    missing = [c for c in needed if c not in found_set]
    if missing:
        raise ColumnMappingError(
            f"{source}: column(s) {missing} not found for the {layout!r} layout; the input has "
            f"columns {sorted(found_set)}. Map yours with columns=ColumnMapping("
            + ", ".join(f"{_field_for(c, cols)}='<your column>'" for c in missing)
            + ")"
        )


def _field_for(column: str, cols: ColumnMapping) -> str:
    for f in fields(cols):
        if getattr(cols, f.name) == column:
            return f.name
    return column


def _detect_layout(keys: Iterable[str], cols: ColumnMapping) -> Literal["turns", "dialogues"]:
    keys = set(keys)
    if cols.turns in keys and cols.text not in keys:
        return "dialogues"
    return "turns"


# ---------------------------------------------------------------------------------------
# the row -> dialogue assembler shared by every source


class _Assembler:
    """Turns a stream of (line, row-or-error) into dialogues, keeping the report."""

    def __init__(
        self, source: str, cols: ColumnMapping, layout: Literal["turns", "dialogues"],
        on_error: OnError, assume_sorted: bool,
    ) -> None:
        self.source = source
        self.cols = cols
        self.layout = layout
        self.on_error = on_error
        self.assume_sorted = assume_sorted
        self.rows_in = 0
        self.rows_read = 0
        self.n_dialogues = 0
        self.rejected: list[RejectedRow] = []
        self._mapped = cols._mapped()  # column names the mapping claims, once per read
        # turns layout state
        self._open: dict[str, dict[str, Any]] = {}
        self._closed: set[str] = set()
        self._current: str | None = None

    def reject(self, line: int, reason: str, raw: object, turn_index: int | None = None) -> None:
        rec = RejectedRow(self.source, line, reason, _raw(raw), turn_index)
        if self.on_error == "raise":
            where = f"line {line}" if turn_index is None else f"line {line}, turn {turn_index}"
            raise DataFormatError(f"{self.source}, {where}: {reason}")
        self.rejected.append(rec)

    def report(self) -> ReadReport:
        return ReadReport(self.source, self.layout, self.rows_in, self.rows_read,
                          self.n_dialogues, tuple(self.rejected))

    def _extra(self, row: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        if not self.cols.keep_extra:
            return [], []
        extra = [k for k in row if k not in self._mapped]
        turn_extra = [k for k in extra if not str(k).startswith(_DIALOGUE_META_PREFIX)]
        dlg_extra = [k for k in extra if str(k).startswith(_DIALOGUE_META_PREFIX)]
        return turn_extra, dlg_extra

    def feed(self, line: int, row: object) -> Iterator[Dialogue]:
        """Account for one input row; yield dialogues that are complete."""
        self.rows_in += 1
        if isinstance(row, _BadRow):
            self.reject(line, row.reason, row.raw)
            return
        if not isinstance(row, Mapping):
            self.reject(line, f"a row must be a JSON object, got {type(row).__name__}", row)
            return
        if self.layout == "dialogues":
            dialogue = self._dialogue_row(line, row)
            if dialogue is not None:
                self.rows_read += 1
                self.n_dialogues += 1
                yield dialogue
            return
        yield from self._turn_row(line, row)

    def _dialogue_row(self, line: int, row: Mapping[str, Any]) -> Dialogue | None:
        cols = self.cols
        try:
            _require_keys(row, [cols.dialogue_id, cols.turns])
            did = _dialogue_id(row.get(cols.dialogue_id), cols.dialogue_id)
        except ValidationError as exc:
            self.reject(line, str(exc), row)
            return None
        raw_turns = _plain(row.get(cols.turns))
        if isinstance(raw_turns, str):
            try:
                raw_turns = json.loads(raw_turns)
            except json.JSONDecodeError as exc:
                self.reject(line, f"column {cols.turns!r} is not a JSON list of turns: {exc}", row)
                return None
        if raw_turns is None or not isinstance(raw_turns, list | tuple):
            self.reject(
                line,
                f"column {cols.turns!r} must be a list of turns, got "
                f"{type(raw_turns).__name__}", row,
            )
            return None
        turns: list[Turn] = []
        bad: list[tuple[int, str, object]] = []
        mapped = {cols.role, cols.text, cols.timestamp, cols.speaker}
        for i, t in enumerate(raw_turns):
            if not isinstance(t, Mapping):
                bad.append((i, f"turn {i} must be an object with role and text, got "
                            f"{type(t).__name__}", t))
                continue
            extra = [k for k in t if k not in mapped and k != "metadata"] if cols.keep_extra else []
            try:
                turn = _turn_from(t, cols, extra)
                if isinstance(t.get("metadata"), Mapping):
                    turn = replace(turn, metadata={**dict(t["metadata"]), **dict(turn.metadata)})
                turns.append(turn)
            except ValidationError as exc:
                bad.append((i, str(exc), t))
        if not turns:
            detail = "; ".join(f"turn {i}: {reason}" for i, reason, _ in bad[:3])
            self.reject(line, f"dialogue {did!r} has no usable turns ({detail or 'empty list'})",
                        row)
            return None
        for i, reason, t in bad:
            self.reject(line, reason, t, turn_index=i)
        metadata: dict[str, Any] = {}
        if cols.keep_extra:
            for k, v in row.items():
                if k not in self._mapped and not _is_missing(v):
                    metadata[k] = _plain(v)
            if isinstance(metadata.get("metadata"), Mapping):
                nested = metadata.pop("metadata")
                metadata = {**dict(nested), **metadata}
        try:
            return Dialogue(did, tuple(turns), metadata=metadata, **_dialogue_fields(row, cols))
        except ValidationError as exc:
            self.reject(line, str(exc), row)
            return None

    def _turn_row(self, line: int, row: Mapping[str, Any]) -> Iterator[Dialogue]:
        cols = self.cols
        try:
            _require_keys(row, [cols.dialogue_id])
            did = _dialogue_id(row.get(cols.dialogue_id), cols.dialogue_id)
            turn_extra, dlg_extra = self._extra(row)
            turn = _turn_from(row, cols, turn_extra)
            position = _position(row, cols.turn_index)
        except ValidationError as exc:
            self.reject(line, str(exc), row)
            return
        if self.assume_sorted:
            if did in self._closed:
                self.reject(
                    line,
                    f"dialogue {did!r} appears again after other dialogues; with "
                    "assume_sorted=True the rows of a dialogue must be contiguous (sort the "
                    "input by dialogue id, or read without assume_sorted)", row,
                )
                return
            if self._current is not None and did != self._current:
                yield from self._close(self._current)
            self._current = did
        state = self._open.get(did)
        if state is None:
            state = {"turns": [], "fields": _dialogue_fields(row, cols),
                     "meta": {k[len(_DIALOGUE_META_PREFIX):]: _plain(row[k])
                              for k in dlg_extra if not _is_missing(row[k])}}
            self._open[did] = state
        state["turns"].append((position, len(state["turns"]), turn))
        self.rows_read += 1

    def _close(self, did: str) -> Iterator[Dialogue]:
        state = self._open.pop(did)
        self._closed.add(did)
        self.n_dialogues += 1
        ordered = sorted(state["turns"], key=lambda p: (p[0] is None, p[0] or 0, p[1]))
        turns = tuple(t for _, _, t in ordered)
        yield Dialogue(did, turns, metadata=state["meta"], **state["fields"])

    def finish(self) -> Iterator[Dialogue]:
        for did in list(self._open):
            yield from self._close(did)


@dataclass(frozen=True)
class _BadRow:
    reason: str
    raw: str


# ---------------------------------------------------------------------------------------
# file sources


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _decode_lines(fh: IO[bytes], encoding: str) -> Iterator[tuple[int, str | None, bytes]]:
    """Yield (line number, decoded text or None if undecodable, raw bytes)."""
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf") and _is_utf8(encoding):
            raw = raw[3:]
        try:
            text: str | None = raw.decode(encoding)
        except UnicodeDecodeError:
            text = None
        yield number, text, raw


def _decode_reason(raw: bytes, encoding: str) -> str:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            raw.decode("gb18030")
            hint = "; it decodes as GB18030: pass encoding='gb18030'"
        except UnicodeDecodeError:
            pass
        return (f"line is not valid {encoding} (byte {raw[exc.start:exc.start + 1]!r} at "
                f"position {exc.start}){hint}")
    return "undecodable line"


def _jsonl_rows(path: Path, encoding: str) -> Iterator[tuple[int, object]]:
    with path.open("rb") as fh:
        for number, text, raw in _decode_lines(fh, encoding):
            if text is None:
                yield number, _BadRow(_decode_reason(raw, encoding), raw.decode(encoding, "replace"))
                continue
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, _BadRow(f"not valid JSON: {exc.msg} at column {exc.colno}", text)
            except RecursionError:
                yield number, _BadRow("JSON nested too deeply", text)


def _csv_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[tuple[int, object]]]:
    fh = path.open("rb")
    bad_lines: dict[int, str] = {}

    def lines() -> Iterator[str]:
        for number, text, raw in _decode_lines(fh, encoding):
            if text is None:
                bad_lines[number] = _decode_reason(raw, encoding)
                yield raw.decode(encoding, "replace")
            else:
                yield text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        return [], iter(())
    except csv.Error as exc:
        fh.close()
        raise DataFormatError(f"{path}: the CSV header cannot be parsed: {exc}") from exc
    if 1 in bad_lines:
        fh.close()
        raise DataFormatError(f"{path}: the header {bad_lines[1]}")
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, object]]:
        try:
            last = reader.line_num
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield last + 1, _BadRow(f"CSV record cannot be parsed: {exc}", "")
                    last = reader.line_num
                    continue
                first = last + 1
                span = range(first, reader.line_num + 1)
                last = reader.line_num
                if not record or all(not c.strip() for c in record):
                    continue
                bad = [bad_lines.pop(n) for n in span if n in bad_lines]
                if bad:
                    yield first, _BadRow(bad[0], ",".join(record))
                    continue
                if len(record) != len(header):
                    yield first, _BadRow(
                        f"row has {len(record)} fields, the header has {len(header)} "
                        f"({header}); check quoting and delimiters", ",".join(record))
                    continue
                yield first, dict(zip(header, record, strict=True))
        finally:
            fh.close()

    return header, rows()


def _format_of(path: Path, fmt: FileFormat) -> str:
    if fmt != "auto":
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffixes and suffixes[-1] in (".csv", ".tsv"):
        return "csv"
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    raise DataFormatError(
        f"cannot tell the format of {path} from its extension; pass format='jsonl', 'csv' "
        "or 'parquet'"
    )


class ChatReader:
    """Stream dialogues from a chat file, keeping a report of every row.

    Iterate to get :class:`~csdialog.dialogue.Dialogue` objects; after the iteration,
    :attr:`report` says what happened to each row. With ``assume_sorted=True`` (turns
    layout) a dialogue is yielded as soon as the next one starts, so memory stays flat
    on files of any size; otherwise turns are grouped by dialogue id across the file.

    Args:
        path: a ``.jsonl``/``.json`` (JSON lines), ``.csv`` or ``.parquet`` file.
        columns: a :class:`ColumnMapping` or a dict of its fields.
        layout: ``"turns"``, ``"dialogues"`` or ``"auto"`` (decided from the columns).
        format: file format; default from the extension.
        encoding: text encoding of JSONL/CSV files (e.g. ``"gb18030"``).
        on_error: ``"report"`` (default) records bad rows; ``"raise"`` stops at the first.
        assume_sorted: rows of each dialogue are contiguous (turns layout).

    Example:
        >>> reader = ChatReader("examples/data/sample_chats.jsonl")  # doctest: +SKIP
        >>> n = sum(1 for _ in reader)  # doctest: +SKIP
        >>> print(reader.report.summary())  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        columns: ColumnMapping | Mapping[str, Any] | None = None,
        layout: Layout = "auto",
        format: FileFormat = "auto",
        encoding: str = "utf-8",
        on_error: OnError = "report",
        assume_sorted: bool = False,
    ) -> None:
        self.path = Path(path)
        self.columns = _mapping(columns)
        self.layout = _check_choice("layout", layout, ("auto", "turns", "dialogues"))
        self.format = _check_choice("format", format, ("auto", "jsonl", "csv", "parquet"))
        self.encoding = encoding
        self.on_error = _check_choice("on_error", on_error, ("report", "raise"))
        self.assume_sorted = assume_sorted
        self._report: ReadReport | None = None

    @property
    def report(self) -> ReadReport:
        """The report of the last complete iteration."""
        if self._report is None:
            raise ValidationError("the report exists after the reader has been iterated fully")
        return self._report

    def __iter__(self) -> Iterator[Dialogue]:
        if not self.path.exists():
            raise FileNotFoundError(f"chat file not found: {self.path}")
        if self.path.is_dir():
            raise DataFormatError(f"{self.path} is a folder; pass a .jsonl, .csv or .parquet file")
        fmt = _format_of(self.path, self.format)
        source = str(self.path)
        if fmt == "parquet":
            pd = _pandas()
            try:
                frame = pd.read_parquet(self.path)
            except (OSError, ValueError) as exc:
                raise DataFormatError(f"{source}: not a readable Parquet file: {exc}") from exc
            header = [str(c) for c in frame.columns]
            rows: Iterator[tuple[int, object]] = (
                (i, rec) for i, rec in enumerate(frame.to_dict(orient="records"))
            )
        elif fmt == "csv":
            header, rows = _csv_rows(self.path, self.encoding)
        else:
            rows = _jsonl_rows(self.path, self.encoding)
            rows, header = _peek_keys(rows)
        layout = self.layout if self.layout != "auto" else _detect_layout(header, self.columns)
        if fmt != "jsonl" and header:  # JSON rows may differ in keys: checked per row
            _check_columns(header, self.columns, layout, source)
        asm = _Assembler(source, self.columns, layout, self.on_error,
                         self.assume_sorted)
        for line, row in rows:
            yield from asm.feed(line, row)
        yield from asm.finish()
        self._report = asm.report()

    def read(self) -> ReadResult:
        """Read the whole file into a :class:`ReadResult`."""
        dialogues = tuple(self)
        return ReadResult(dialogues, self.report)


def _peek_keys(rows: Iterator[tuple[int, object]]) -> tuple[Iterator[tuple[int, object]], list[str]]:
    """Look at the first JSON object's keys without losing any row."""
    buffered: list[tuple[int, object]] = []
    keys: list[str] = []
    for item in rows:
        buffered.append(item)
        if isinstance(item[1], Mapping):
            keys = [str(k) for k in item[1]]
            break

    def chained() -> Iterator[tuple[int, object]]:
        yield from buffered
        yield from rows

    return chained(), keys


def _check_choice(name: str, value: str, choices: Sequence[str]) -> Any:
    if value not in choices:
        raise ValidationError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def _mapping(columns: ColumnMapping | Mapping[str, Any] | None) -> ColumnMapping:
    if columns is None:
        return ColumnMapping()
    if isinstance(columns, ColumnMapping):
        return columns
    if isinstance(columns, Mapping):
        return ColumnMapping.from_dict(columns)
    raise ValidationError(
        f"columns must be a ColumnMapping or a dict, got {type(columns).__name__}"
    )


def _pandas() -> Any:
    from csdialog._optional import require

    return require("pandas", "reading tables")


def read_chats(
    path: str | os.PathLike[str],
    *,
    columns: ColumnMapping | Mapping[str, Any] | None = None,
    layout: Layout = "auto",
    format: FileFormat = "auto",
    encoding: str = "utf-8",
    on_error: OnError = "report",
) -> ReadResult:
    """Read a chat file (JSONL, CSV or Parquet) into dialogues plus a report.

    See :class:`ChatReader` for the arguments; use it directly to stream large files.

    Example:
        >>> res = read_chats("examples/data/sample_chats.jsonl")  # doctest: +SKIP
        >>> res.report.rows_in == res.report.rows_read + res.report.rows_rejected  # doctest: +SKIP
        True
    """
    return ChatReader(path, columns=columns, layout=layout, format=format, encoding=encoding,
                      on_error=on_error).read()


def from_pandas(
    frame: Any,
    *,
    columns: ColumnMapping | Mapping[str, Any] | None = None,
    layout: Layout = "auto",
    on_error: OnError = "report",
    source: str = "<dataframe>",
) -> ReadResult:
    """Read dialogues from a pandas DataFrame (either layout). Row numbers in the report
    are 0-based positions.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"session": ["s1", "s1"], "who": ["buyer", "seller"],
        ...                    "msg": ["多少钱?", "99元"]})
        >>> res = from_pandas(df, columns={"dialogue_id": "session", "role": "who", "text": "msg"})
        >>> [t.role.value for t in res.dialogues[0].turns]
        ['customer', 'agent']
    """
    pd = _pandas()
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(f"from_pandas takes a pandas DataFrame, got {type(frame).__name__}")
    cols = _mapping(columns)
    header = [str(c) for c in frame.columns]
    layout_ = layout if layout != "auto" else _detect_layout(header, cols)
    _check_columns(header, cols, layout_, source)
    asm = _Assembler(source, cols, layout_, on_error, assume_sorted=False)
    out: list[Dialogue] = []
    for i, rec in enumerate(frame.to_dict(orient="records")):
        out.extend(asm.feed(i, {str(k): v for k, v in rec.items()}))
    out.extend(asm.finish())
    return ReadResult(tuple(out), asm.report())


def from_hf_dataset(
    dataset: Any,
    *,
    columns: ColumnMapping | Mapping[str, Any] | None = None,
    layout: Layout = "auto",
    on_error: OnError = "report",
) -> ReadResult:
    """Read dialogues from a Hugging Face ``datasets.Dataset`` (either layout).

    Raises:
        ValidationError: a ``DatasetDict`` was given (pick a split: ``ds["train"]``).
    """
    cls = type(dataset).__name__
    if cls in ("DatasetDict", "IterableDatasetDict"):
        splits = list(dataset.keys())
        raise ValidationError(
            f"got a {cls} with splits {splits}; pass one split, e.g. dataset[{splits[0]!r}]"
            if splits else f"got an empty {cls}"
        )
    names = getattr(dataset, "column_names", None)
    if names is None or not hasattr(dataset, "__iter__"):
        raise ValidationError(f"from_hf_dataset takes a datasets.Dataset, got {cls}")
    cols = _mapping(columns)
    header = [str(c) for c in names]
    layout_ = layout if layout != "auto" else _detect_layout(header, cols)
    _check_columns(header, cols, layout_, "<dataset>")
    asm = _Assembler("<dataset>", cols, layout_, on_error, assume_sorted=False)
    out: list[Dialogue] = []
    for i, rec in enumerate(dataset):
        out.extend(asm.feed(i, rec))
    out.extend(asm.finish())
    return ReadResult(tuple(out), asm.report())


# ---------------------------------------------------------------------------------------
# writers


def _turn_rows(dialogues: Iterable[Dialogue]) -> Iterator[dict[str, Any]]:
    for d in dialogues:
        if not isinstance(d, Dialogue):
            raise ValidationError(f"expected Dialogue objects, got {type(d).__name__}")
        head: dict[str, Any] = {"dialogue_id": d.dialogue_id}
        for name in _DIALOGUE_FIELDS:
            value = getattr(d, name)
            if value is not None:
                head[name] = value
        for k, v in d.metadata.items():
            head[_DIALOGUE_META_PREFIX + k] = v
        for i, t in enumerate(d.turns):
            row = dict(head)
            row["turn_index"] = i
            row["role"] = t.role.value
            row["text"] = t.text
            row["timestamp"] = t.timestamp.isoformat() if t.timestamp else None
            row["speaker"] = t.speaker
            for k, v in t.metadata.items():
                if k not in row:
                    row[k] = v
            yield row


def write_jsonl(
    dialogues: Iterable[Dialogue],
    path: str | os.PathLike[str],
    *,
    layout: Literal["dialogues", "turns"] = "dialogues",
) -> int:
    """Write dialogues as JSON lines (UTF-8); returns the number of rows written.

    The file is written to a temporary name and renamed into place, so a reader never
    sees half a file.
    """
    _check_choice("layout", layout, ("dialogues", "turns"))
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        rows: Iterable[dict[str, Any]]
        if layout == "dialogues":
            rows = (_dialogue_dict(d) for d in dialogues)
        else:
            rows = _turn_rows(dialogues)
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def _dialogue_dict(d: object) -> dict[str, Any]:
    if not isinstance(d, Dialogue):
        raise ValidationError(f"expected Dialogue objects, got {type(d).__name__}")
    return d.to_dict()


def write_csv(dialogues: Iterable[Dialogue], path: str | os.PathLike[str]) -> int:
    """Write dialogues as a one-row-per-turn CSV (UTF-8 with BOM-less header); returns rows.

    Dialogue metadata keys become ``dialogue.<key>`` columns and turn metadata keys their
    own columns, so :func:`read_chats` reads the file back to equal dialogues (metadata
    values come back as text).
    """
    rows = list(_turn_rows(dialogues))
    header: list[str] = []
    for row in rows:
        for k in row:
            if k not in header:
                header.append(k)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else _csv_value(v)) for k, v in row.items()})
    os.replace(tmp, path)
    return len(rows)


def _csv_value(v: Any) -> Any:
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, default=str)
    return v


def to_pandas(
    dialogues: Iterable[Dialogue], *, layout: Literal["turns", "dialogues"] = "turns"
) -> Any:
    """A DataFrame of the dialogues: one row per turn (default) or per dialogue."""
    pd = _pandas()
    _check_choice("layout", layout, ("turns", "dialogues"))
    if layout == "turns":
        return pd.DataFrame(list(_turn_rows(dialogues)))
    return pd.DataFrame([_dialogue_dict(d) for d in dialogues])


def to_hf_dataset(
    dialogues: Iterable[Dialogue], *, layout: Literal["turns", "dialogues"] = "turns"
) -> Any:
    """A Hugging Face ``datasets.Dataset`` of the dialogues (needs ``csdialog[io]``)."""
    from csdialog._optional import require

    datasets = require("datasets", "to_hf_dataset")
    frame = to_pandas(dialogues, layout=layout)
    return datasets.Dataset.from_pandas(frame, preserve_index=False)
