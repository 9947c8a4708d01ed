"""One self-contained HTML report of an analysis run, for the people who act on it.

:func:`render_report` turns the tables of a run (:class:`ReportData`) into one HTML page:
a summary of the run, the hot viewpoints (overall and per category), the customers' emotion
mix (overall, per day, per shop, per agent), sarcasm examples with their context, questions
that got no real answer, complaint-risk and repeat-contact alerts, and the inspection scores.

The page opens offline: charts are inline SVG drawn here, styles sit in one ``<style>`` tag,
there is no JavaScript, no web font and no link to anything outside the file. All text from
the data is HTML-escaped, and by default passes through :func:`csdialog.redact.redact` first,
so phone numbers, e-mail addresses, ID and card numbers do not reach the page. The same
input gives the same bytes (the ``created`` time comes in through ``summary``).

Example:
    >>> import pandas as pd
    >>> alerts = pd.DataFrame({
    ...     "kind": ["complaint_risk"], "severity": ["high"], "score": [0.9],
    ...     "dialogue_id": ["d1"], "evidence": ["我的手机是13800138000, 再不退款我就投诉"]})
    >>> page = render_report(ReportData(summary={"dialogues": 1}, alerts=alerts))
    >>> page.startswith("<!DOCTYPE html>"), "13800138000" in page, "[PHONE]" in page
    (True, False, True)
"""

from __future__ import annotations

import html
import math
import os
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from csdialog.dialogue import parse_role
from csdialog.emotion import EMOTIONS
from csdialog.errors import ValidationError
from csdialog.redact import redact

__all__ = [
    "REPORT_SECTIONS",
    "TABLE_FILES",
    "ReportData",
    "render_report",
    "write_report",
]

#: The report's sections in order: (anchor id, English heading, Chinese heading).
REPORT_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Run summary", "运行概况"),
    ("viewpoints", "Hot viewpoints", "热点观点"),
    ("emotions", "Customer emotions", "客户情绪"),
    ("sarcasm", "Sarcasm examples", "反讽示例"),
    ("unanswered", "Unanswered questions", "未回答的问题"),
    ("complaint-risk", "Complaint risk", "投诉风险"),
    ("repeat-contacts", "Repeat contacts", "重复进线"),
    ("inspection", "Inspection scores", "质检评分"),
)

#: Where the full version of each (capped) table is expected next to the report.
TABLE_FILES: Mapping[str, str] = {
    "turns": "turns.jsonl",
    "viewpoints": "viewpoints.csv",
    "top_by_category": "top_by_category.csv",
    "answer_checks": "answer_checks.csv",
    "inspections": "inspections.csv",
    "alerts": "alerts.csv",
}

#: The columns each table must have when it has rows (the others are used when present).
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "turns": ("dialogue_id", "role", "text"),
    "viewpoints": ("viewpoint_id", "label", "size"),
    "top_by_category": ("category", "label", "count"),
    "answer_checks": ("dialogue_id", "question", "answered"),
    "inspections": ("dialogue_id", "score"),
    "alerts": ("kind", "dialogue_id", "score"),
}
_ALL_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "turns": ("dialogue_id", "turn_index", "role", "speaker", "text", "timestamp", "shop",
              "product", "category", "channel", "customer_id", "emotion", "sarcastic",
              "sarcasm_score", "surface", "is_question", "viewpoint_id"),
    "viewpoints": ("viewpoint_id", "label", "size", "share", "keywords", "examples"),
    "top_by_category": ("category", "rank", "viewpoint_id", "label", "count", "share_in_group"),
    "answer_checks": ("dialogue_id", "question_turn", "question", "viewpoint_id", "reply_turn",
                      "reply", "answered", "score", "question_type", "reason"),
    "inspections": ("dialogue_id", "score", "deductions", "tags", "speaker", "shop"),
    "alerts": ("kind", "severity", "score", "dialogue_id", "customer_id", "reasons", "evidence"),
}


@dataclass(frozen=True, eq=False)
class ReportData:
    """The tables of one analysis run, as the report reads them.

    Every table is optional: ``None`` means the step was not run (its section says so), an
    empty table means it ran and found nothing. A table with rows must have the columns
    marked *required*; the other columns are used when present.

    Attributes:
        summary: facts about the run shown at the top, e.g. ``{"input": "chats.jsonl",
            "rows_read": 77, "rows_rejected": 0, "dialogues": 77, "turns": 425,
            "encoder": "e5-small", "emotion_model": "emotion-e5-small", "seconds": 12.3,
            "created": "2026-11-25T17:00:00"}``. Any other keys are shown as they are.
        turns: one row per turn. Required: ``dialogue_id``, ``role``, ``text``. Used:
            ``turn_index``, ``speaker``, ``timestamp`` (datetimes, tz-aware or naive, or
            ISO text), ``shop``, ``product``, ``category``, ``channel``, ``customer_id``,
            ``emotion``, ``sarcastic`` (bool), ``sarcasm_score``, ``surface`` (the emotion
            the words alone say), ``is_question``, ``viewpoint_id``.
        viewpoints: one row per viewpoint. Required: ``viewpoint_id``, ``label``, ``size``.
            Used: ``share``, ``keywords`` (comma-separated), ``examples`` (``" | "``-separated).
        top_by_category: the hot viewpoints per category. Required: ``category``,
            ``label``, ``count``. Used: ``rank``, ``viewpoint_id``, ``share_in_group``.
        answer_checks: one row per customer question. Required: ``dialogue_id``,
            ``question``, ``answered``. Used: ``question_turn``, ``viewpoint_id``,
            ``reply_turn``, ``reply``, ``score``, ``question_type``, ``reason``.
        inspections: one row per dialogue. Required: ``dialogue_id``, ``score`` (0-100).
            Used: ``deductions``, ``tags`` (comma-separated), ``speaker`` (main agent), ``shop``.
        alerts: one row per alert. Required: ``kind`` (``"complaint_risk"`` or
            ``"repeat_contact"``), ``dialogue_id`` (comma-separated ids for a repeat
            contact), ``score`` (0-1). Used: ``severity`` (high / medium / low),
            ``customer_id``, ``reasons``, ``evidence``.

    Raises:
        ValidationError: a table is not a DataFrame, or has rows but lacks a required column.

    Example:
        >>> import pandas as pd
        >>> data = ReportData(summary={"input": "chats.jsonl"},
        ...                   inspections=pd.DataFrame({"dialogue_id": ["d1"], "score": [80]}))
        >>> data.turns is None, len(data.inspections)
        (True, 1)
    """

    summary: Mapping[str, Any] = field(default_factory=dict)
    turns: pd.DataFrame | None = None
    viewpoints: pd.DataFrame | None = None
    top_by_category: pd.DataFrame | None = None
    answer_checks: pd.DataFrame | None = None
    inspections: pd.DataFrame | None = None
    alerts: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.summary, Mapping):
            raise ValidationError(
                f"ReportData.summary must be a mapping such as {{'dialogues': 77}}, got "
                f"{type(self.summary).__name__}"
            )
        for name, required in _REQUIRED.items():
            frame = getattr(self, name)
            if frame is None:
                continue
            if not isinstance(frame, pd.DataFrame):
                raise ValidationError(
                    f"ReportData.{name} must be a pandas DataFrame or None, got "
                    f"{type(frame).__name__}; build one with pandas.DataFrame(rows)"
                )
            missing = [c for c in required if c not in frame.columns]
            if missing and len(frame):
                raise ValidationError(
                    f"ReportData.{name} lacks the column(s) {missing}; it has "
                    f"{[str(c) for c in frame.columns]}. Required: {list(required)}; also used "
                    f"when present: {[c for c in _ALL_COLUMNS[name] if c not in required]}"
                )


# ---------------------------------------------------------------------------------------
# values


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _str(value: object) -> str:
    if _missing(value):
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value).strip()


def _float(value: object) -> float | None:
    if _missing(value) or isinstance(value, bool | str):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _flag(value: object) -> bool | None:
    """True / False from a bool-like cell; None when missing or unreadable."""
    if _missing(value):
        return None
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("true", "1", "yes", "y", "t"):
            return True
        if key in ("false", "0", "no", "n", "f", ""):
            return False
        return None
    try:
        return bool(value)
    except (TypeError, ValueError):
        return None


def _role(value: object) -> str:
    try:
        return parse_role(value).value
    except ValidationError:
        return _str(value).lower()


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    if name not in frame.columns:
        return [None] * len(frame)
    return list(frame[name])


def _records(frame: pd.DataFrame, table: str) -> list[dict[str, Any]]:
    columns = list(dict.fromkeys([*_ALL_COLUMNS[table], *(str(c) for c in frame.columns)]))
    values = {c: _column(frame, c) for c in columns}
    return [{c: values[c][i] for c in columns} for i in range(len(frame))]


def _int_text(value: float) -> str:
    return f"{round(value):,}"


def _num(value: object, digits: int = 2) -> str:
    number = _float(value)
    return "–" if number is None else f"{number:.{digits}f}"


def _pct(part: float, whole: float) -> str:
    return "–" if not whole else f"{100.0 * part / whole:.1f}%"


def _share(value: object) -> str:
    number = _float(value)
    return "–" if number is None else f"{100.0 * number:.1f}%"


def _sort_key(value: object) -> tuple[int, float, str]:
    """Sort mixed ids and labels: numbers by value, then text, missing last."""
    if _missing(value):
        return (2, 0.0, "")
    number = _float(value)
    if number is not None:
        return (0, number, "")
    return (1, 0.0, _str(value))


# ---------------------------------------------------------------------------------------
# text


class _Text:
    """Turns data values into safe page text: redact, then shorten, then escape."""

    def __init__(self, redact_personal_data: bool, patterns: Mapping[str, Any] | None = None) -> None:
        self.redact_personal_data = redact_personal_data
        self.patterns = patterns

    def plain(self, value: object, limit: int | None = None) -> str:
        text = _str(value)
        if self.redact_personal_data and text:
            text = redact(text, patterns=self.patterns)
        if limit is not None and len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        return text

    def __call__(self, value: object, limit: int | None = 400, empty: str = "–") -> str:
        text = self.plain(value, limit)
        return html.escape(text) if text else empty


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text_width(text: str, size: float) -> float:
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 1.0
        elif ch in "il.,:;|!'`() ":
            width += 0.32
        elif ch.isupper() or ch in "mwMW@%#":
            width += 0.78
        else:
            width += 0.56
    return width * size


def _fit(text: str, max_px: float, size: float) -> str:
    if _text_width(text, size) <= max_px:
        return text
    while text and _text_width(text + "…", size) > max_px:
        text = text[:-1]
    return text.rstrip() + "…"


# ---------------------------------------------------------------------------------------
# emotions: order and colours

_EXTRA_EMOTIONS = {"surprised": ("惊讶", "neutral"), "fearful": ("害怕", "negative")}
_EMOTION_INFO: dict[str, tuple[str, str]] = {
    **{e.key: (e.zh, e.polarity) for e in EMOTIONS},
    **_EXTRA_EMOTIONS,
}
_EMOTION_ORDER = (
    "satisfied", "grateful", "happy", "hopeful", "neutral", "apologetic", "surprised",
    "confused", "anxious", "impatient", "dissatisfied", "disappointed", "angry", "sad", "fearful",
)
_EMOTION_COLORS = {
    "satisfied": "#2e8b57", "grateful": "#4caf50", "happy": "#8bc34a", "hopeful": "#b5d99c",
    "neutral": "#b8bec6", "apologetic": "#98a4b3", "surprised": "#c7b4e2",
    "confused": "#f2d16b", "anxious": "#f0ad4e", "impatient": "#e8893a",
    "dissatisfied": "#e0603a", "disappointed": "#c0504d", "angry": "#9b1c1f",
    "sad": "#6a7fb5", "fearful": "#7d5ba6",
}
_OTHER_COLORS = ("#17a2b8", "#bcbd22", "#e377c2", "#8c564b", "#7f7f7f", "#ff9da7", "#9c755f")


def _emotion_order(labels: Sequence[str]) -> list[str]:
    known = [e for e in _EMOTION_ORDER if e in labels]
    return known + sorted(label for label in set(labels) if label not in _EMOTION_COLORS)


def _emotion_colors(labels: Sequence[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    others = 0
    for label in _emotion_order(labels):
        if label in _EMOTION_COLORS:
            colors[label] = _EMOTION_COLORS[label]
        else:
            colors[label] = _OTHER_COLORS[others % len(_OTHER_COLORS)]
            others += 1
    return colors


def _emotion_name(label: str) -> str:
    zh = _EMOTION_INFO.get(label, ("", ""))[0]
    return f"{label} {zh}" if zh else label


def _is_negative(label: str) -> bool:
    return _EMOTION_INFO.get(label, ("", ""))[1] == "negative"


# ---------------------------------------------------------------------------------------
# SVG charts (no scripts; <title> elements give hover text)

_FONT = 13.0


def _svg_open(width: float, height: float, label: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{_esc(label)}" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'
        f"<title>{_esc(label)}</title>"
    )


def _legend(items: Sequence[tuple[str, str]], width: float, y0: float) -> tuple[str, float]:
    """Colour keys laid out in rows; returns the SVG and the height used."""
    parts: list[str] = []
    x, y = 0.0, y0
    for name, color in items:
        item_w = 18 + _text_width(name, 12) + 16
        if x > 0 and x + item_w > width:
            x, y = 0.0, y + 20
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2" fill="{color}"></rect>'
            f'<text x="{x + 17:.1f}" y="{y + 10.5:.1f}" font-size="12" fill="#3e4c59">'
            f"{_esc(name)}</text>"
        )
        x += item_w
    return "".join(parts), (y - y0 + 20 if items else 0.0)


def _hbar_chart(
    rows: Sequence[tuple[str, float, str, str]], label: str, width: float = 1000
) -> str:
    """Horizontal bars: (label, value, text after the bar, colour) per row."""
    label_w, note_w, row_h, top = 250.0, 110.0, 26.0, 6.0
    bar_w = width - label_w - note_w - 10
    biggest = max((v for _, v, _, _ in rows), default=0.0) or 1.0
    height = top + row_h * len(rows) + 6
    parts = [_svg_open(width, height, label)]
    for i, (name, value, note, color) in enumerate(rows):
        y = top + i * row_h
        w = max(bar_w * value / biggest, 1.0 if value > 0 else 0.0)
        parts.append(
            f"<g><title>{_esc(name)}: {_esc(note)}</title>"
            f'<text x="{label_w - 8:.1f}" y="{y + 17:.1f}" font-size="{_FONT:.0f}" '
            f'text-anchor="end" fill="#1f2933">{_esc(_fit(name, label_w - 12, _FONT))}</text>'
            f'<rect x="{label_w:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_h - 8:.1f}" '
            f'rx="3" fill="{color}"></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17:.1f}" font-size="12" fill="#52606d">'
            f"{_esc(note)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _stacked_hbar_chart(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    order: Sequence[str],
    colors: Mapping[str, str],
    names: Mapping[str, str],
    label: str,
    width: float = 1000,
) -> str:
    """One 100% bar per row, split by category, with ``n=`` after it and a legend above."""
    label_w, note_w, row_h = 190.0, 70.0, 26.0
    bar_w = width - label_w - note_w
    used = [c for c in order if any(counts.get(c, 0) for _, counts in rows)]
    legend, legend_h = _legend([(names[c], colors[c]) for c in used], width, 2)
    top = legend_h + 8
    height = top + row_h * len(rows) + 4
    parts = [_svg_open(width, height, label), legend]
    for i, (name, counts) in enumerate(rows):
        y = top + i * row_h
        total = sum(counts.get(c, 0) for c in used)
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{y + 17:.1f}" font-size="{_FONT:.0f}" '
            f'text-anchor="end" fill="#1f2933"><title>{_esc(name)}</title>'
            f"{_esc(_fit(name, label_w - 12, _FONT))}</text>"
        )
        x = label_w
        for c in used:
            n = counts.get(c, 0)
            if not n or not total:
                continue
            w = bar_w * n / total
            share = f"{100.0 * n / total:.0f}%"
            parts.append(
                f"<g><title>{_esc(name)} · {_esc(names[c])}: {n} ({share})</title>"
                f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_h - 8:.1f}" '
                f'fill="{colors[c]}"></rect>'
            )
            if w >= 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 17:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="#ffffff">{share}</text>'
                )
            parts.append("</g>")
            x += w
        parts.append(
            f'<text x="{label_w + bar_w + 6:.1f}" y="{y + 17:.1f}" font-size="12" '
            f'fill="#52606d">n={total:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _axis(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis top and tick step for counts up to ``value`` (whole-number steps)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / ticks
    exp = 10 ** math.floor(math.log10(raw))
    step = next(
        (m * exp for m in (1, 2, 2.5, 5, 10) if m * exp >= raw and (m * exp) % 1 == 0),
        10 * exp,
    )
    step = max(float(step), 1.0)
    return step * math.ceil(value / step), step


def _column_chart(
    columns: Sequence[tuple[str, Mapping[str, int]]],
    order: Sequence[str],
    colors: Mapping[str, str],
    names: Mapping[str, str],
    label: str,
    width: float = 1000,
    legend_keys: bool = True,
) -> str:
    """Vertical (stacked) bars with a y axis; one column per x label."""
    used = [c for c in order if any(counts.get(c, 0) for _, counts in columns)]
    keys = [(names[c], colors[c]) for c in used] if legend_keys else []
    legend, legend_h = _legend(keys, width, 2)
    left, right, plot_h = 44.0, 10.0, 200.0
    top = legend_h + 14
    height = top + plot_h + 44
    plot_w = width - left - right
    ymax, step = _axis(max((sum(c.values()) for _, c in columns), default=0))
    parts = [_svg_open(width, height, label), legend]
    for k in range(round(ymax / step) + 1):
        v = step * k
        y = top + plot_h - plot_h * v / ymax
        tick = f"{v:,.0f}"
        parts.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{width - right:.1f}" y2="{y:.1f}" '
            f'stroke="#e4e7eb" stroke-width="1"></line>'
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#616e7c">{tick}</text>'
        )
    n = max(len(columns), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.72, 56.0), 1.0)
    every = max(1, math.ceil(n / max(plot_w // 46, 1)))
    for i, (name, counts) in enumerate(columns):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        total = sum(counts.get(c, 0) for c in used)
        parts.append(f"<g><title>{_esc(name)}: {total:,}</title>")
        for c in used:
            count = counts.get(c, 0)
            if not count:
                continue
            h = plot_h * count / ymax
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colors[c]}"><title>{_esc(name)} · {_esc(names[c])}: {count:,}</title></rect>'
            )
        if total and bar >= 22:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="11" '
                f'text-anchor="middle" fill="#3e4c59">{total:,}</text>'
            )
        parts.append("</g>")
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16:.1f}" font-size="11" '
                f'text-anchor="middle" fill="#3e4c59">{_esc(_fit(name, slot * every, 11))}</text>'
            )
    parts.append(
        f'<line x1="{left:.1f}" y1="{top + plot_h:.1f}" x2="{width - right:.1f}" '
        f'y2="{top + plot_h:.1f}" stroke="#9aa5b1" stroke-width="1"></line></svg>'
    )
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# HTML pieces


def _table(
    headers: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], css: str = "data"
) -> str:
    """``headers``: (text, css class) pairs; ``rows``: already escaped cell HTML."""
    head = "".join(
        f'<th class="{cls}">{_esc(text)}</th>' if cls else f"<th>{_esc(text)}</th>"
        for text, cls in headers
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>"
            for cell, (_, cls) in zip(row, headers, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _note(text: str, css: str = "nodata") -> str:
    return f'<p class="{css}">{text}</p>'


def _more(shown: int, total: int, table: str) -> str:
    if total <= shown:
        return ""
    return _note(
        f"Showing {shown:,} of {total:,}; {total - shown:,} more in "
        f"<code>{_esc(TABLE_FILES[table])}</code>.",
        "more",
    )


def _not_run(what: str) -> str:
    return _note(f"Not run: {_esc(what)}.")


_NO_DATA = _note("No data.")


def _badge(severity: object) -> str:
    key = _str(severity).lower()
    css = key if key in ("high", "medium", "low") else "other"
    return f'<span class="badge sev-{css}">{_esc(key or "–")}</span>'


def _section(anchor: str, explain: str, body: str) -> str:
    _, en, zh = next(s for s in REPORT_SECTIONS if s[0] == anchor)
    return (
        f'<section id="{anchor}"><h2>{_esc(en)}<span class="zh">{_esc(zh)}</span></h2>'
        f'<p class="explain">{explain}</p>{body}</section>'
    )


# ---------------------------------------------------------------------------------------
# turns: order, main agent, day


def _ordered_turns(turns: pd.DataFrame) -> list[dict[str, Any]]:
    """Turn records in dialogue order (by ``turn_index`` when given, else row order)."""
    records = _records(turns, "turns")
    first_seen: dict[str, int] = {}
    for rec in records:
        rec["_dialogue"] = _str(rec["dialogue_id"])
        rec["_role"] = _role(rec["role"])
        first_seen.setdefault(rec["_dialogue"], len(first_seen))
    keyed = []
    for row, rec in enumerate(records):
        index = _float(rec["turn_index"])
        keyed.append(((first_seen[rec["_dialogue"]], index if index is not None else row, row), rec))
    keyed.sort(key=lambda kr: kr[0])
    return [rec for _, rec in keyed]


def _main_agents(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The agent who spoke most in each dialogue (first to speak wins a tie)."""
    counts: dict[str, Counter[str]] = {}
    for rec in records:
        speaker = _str(rec["speaker"])
        if rec["_role"] == "agent" and speaker:
            counts.setdefault(rec["_dialogue"], Counter())[speaker] += 1
    # Counter.most_common keeps first-insertion order among equal counts
    return {d: c.most_common(1)[0][0] for d, c in counts.items()}


def _day(value: object) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, datetime):  # pd.Timestamp too; local date in its own time zone
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(value.strip())
        except (ValueError, TypeError):
            return None
        return None if _missing(stamp) else stamp.date()
    return None


# ---------------------------------------------------------------------------------------
# sections


def _summary_section(data: ReportData, text: _Text, records: list[dict[str, Any]] | None) -> str:
    labels = {
        "input": "Input", "rows_read": "Rows read", "rows_rejected": "Rows rejected",
        "dialogues": "Dialogues", "turns": "Turns", "encoder": "Encoder",
        "emotion_model": "Emotion model", "seconds": "Run time", "created": "Created",
    }
    rows = []
    for key, value in data.summary.items():
        name = labels.get(str(key), str(key).replace("_", " ").capitalize())
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, int):
            shown = f"{value:,}"
        elif isinstance(value, float) and math.isfinite(value):
            shown = f"{value:,.1f} s" if key == "seconds" else f"{value:,.2f}"
        else:
            shown = text(value)
            rows.append([_esc(name), shown])
            continue
        rows.append([_esc(name), _esc(shown)])
    body = _table([("Item", ""), ("Value", "")], rows, "data kv") if rows else _NO_DATA
    return _section(
        "summary",
        "What was analysed and how. The key figures below come from the tables that follow.",
        _cards(data, records) + body,
    )


def _cards(data: ReportData, records: list[dict[str, Any]] | None) -> str:
    cards: list[tuple[str, str]] = []
    if records is not None:
        dialogues = len({r["_dialogue"] for r in records})
        customer = [r for r in records if r["_role"] == "customer"]
        cards.append((f"{dialogues:,}", "dialogues"))
        cards.append((f"{len(customer):,}", "customer turns"))
        emotions = [_str(r["emotion"]) for r in customer if _str(r["emotion"])]
        if emotions:
            negative = sum(_is_negative(e) for e in emotions)
            cards.append((_pct(negative, len(emotions)), "customer turns with negative emotion"))
    checks = data.answer_checks
    if checks is not None and len(checks):
        flags = [_flag(v) for v in checks["answered"]]
        known = [f for f in flags if f is not None]
        cards.append((_pct(sum(known), len(known)), "customer questions answered"))
    alerts = data.alerts
    if alerts is not None and len(alerts):
        kinds = [_str(k) for k in alerts["kind"]]
        cards.append((f"{kinds.count('complaint_risk'):,}", "complaint-risk alerts"))
        cards.append((f"{kinds.count('repeat_contact'):,}", "repeat-contact alerts"))
    inspections = data.inspections
    if inspections is not None and len(inspections):
        scores = [s for s in (_float(v) for v in inspections["score"]) if s is not None]
        if scores:
            cards.append((f"{sum(scores) / len(scores):.1f}", "average inspection score"))
    if not cards:
        return ""
    items = "".join(
        f'<div class="card"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
        for v, k in cards
    )
    return f'<div class="cards">{items}</div>'


def _viewpoints_section(data: ReportData, text: _Text, max_rows: int) -> str:
    parts: list[str] = ['<h3>Top 10 overall</h3>']
    frame = data.viewpoints
    if frame is None:
        parts.append(_not_run("viewpoint clustering"))
    elif not len(frame):
        parts.append(_NO_DATA)
    else:
        recs = _records(frame, "viewpoints")
        total = sum(_float(r["size"]) or 0.0 for r in recs)
        recs.sort(key=lambda r: (-(_float(r["size"]) or 0.0), _sort_key(r["viewpoint_id"])))
        top = recs[:10]
        bars = []
        rows = []
        for i, r in enumerate(top, start=1):
            size = _float(r["size"]) or 0.0
            share = _float(r["share"])
            share_text = _share(share) if share is not None else _pct(size, total)
            label = text.plain(r["label"]) or _str(r["viewpoint_id"])
            bars.append((label, size, f"{_int_text(size)} ({share_text})", "#2f6fde"))
            keywords = ", ".join(k.strip() for k in _str(r["keywords"]).split(",") if k.strip())
            examples = [e.strip() for e in _str(r["examples"]).split(" | ") if e.strip()][:3]
            example_html = "".join(f'<div class="ex">{text(e, 160)}</div>' for e in examples) or "–"
            rows.append([
                str(i), text(label, 120), _esc(_int_text(size)), _esc(share_text),
                text(keywords, 160), example_html,
            ])
        parts.append(_hbar_chart(bars, "Top viewpoints by number of customer questions"))
        parts.append(_table(
            [("#", "num"), ("Viewpoint", ""), ("Questions", "num"), ("Share", "num"),
             ("Keywords", ""), ("Example questions", "")],
            rows,
        ))
        parts.append(_more(len(top), len(recs), "viewpoints"))

    parts.append("<h3>Top viewpoints per category</h3>")
    per_cat = data.top_by_category
    if per_cat is None:
        parts.append(_not_run("top viewpoints per category"))
    elif not len(per_cat):
        parts.append(_NO_DATA)
    else:
        recs = _records(per_cat, "top_by_category")
        totals: Counter[str] = Counter()
        for r in recs:
            totals[_str(r["category"])] += int(_float(r["count"]) or 0)
        cat_order = sorted(totals, key=lambda c: (-totals[c], c))
        rank = {c: i for i, c in enumerate(cat_order)}

        def by_rank(r: Mapping[str, Any]) -> tuple[Any, ...]:
            given = _float(r["rank"])
            return (rank[_str(r["category"])], given if given is not None else math.inf,
                    -(_float(r["count"]) or 0.0), _sort_key(r["label"]))

        recs.sort(key=by_rank)
        rows = []
        previous = None
        for i, r in enumerate(recs[:max_rows], start=1):
            category = _str(r["category"])
            given = _float(r["rank"])
            rows.append([
                text(category, 60) if category != previous else "",
                _esc(str(int(given)) if given is not None else str(i)),
                text(r["label"], 120),
                _esc(_int_text(_float(r["count"]) or 0.0)),
                _esc(_share(r["share_in_group"])),
            ])
            previous = category
        parts.append(_table(
            [("Category", ""), ("Rank", "num"), ("Viewpoint", ""), ("Questions", "num"),
             ("Share in category", "num")],
            rows,
        ))
        parts.append(_more(min(max_rows, len(recs)), len(recs), "top_by_category"))
    return _section(
        "viewpoints",
        "What customers ask about most. Questions that mean the same thing are grouped into "
        "one viewpoint whatever their wording; the label is a typical question of the group.",
        "".join(parts),
    )


def _group_rows(
    customer: Sequence[Mapping[str, Any]], key: str, limit: int
) -> tuple[list[tuple[str, Counter[str]]], int]:
    groups: dict[str, Counter[str]] = {}
    for r in customer:
        name = r[key]
        if name:
            groups.setdefault(name, Counter())[r["_emotion"]] += 1
    ordered = sorted(groups.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return ordered[:limit], len(ordered)


def _emotion_breakdown(
    customer: Sequence[Mapping[str, Any]], key: str, title: str, noun: str, table: str,
    text: _Text, order: Sequence[str], colors: Mapping[str, str], names: Mapping[str, str],
    max_rows: int,
) -> str:
    shown_rows = min(15, max_rows)
    groups, total = _group_rows(customer, key, shown_rows)
    if not groups:
        return _note(f"No {_esc(noun)} information in the turns.")
    chart_rows = [(text.plain(name) or "–", dict(counts)) for name, counts in groups]
    rows = []
    for name, counts in groups:
        n = sum(counts.values())
        negative = sum(c for e, c in counts.items() if _is_negative(e))
        top_emotion = sorted(counts.items(), key=lambda kv: (-kv[1], order.index(kv[0])))[0][0]
        rows.append([text(name, 80), _esc(f"{n:,}"), _esc(_pct(negative, n)),
                     _esc(names[top_emotion])])
    return (
        _stacked_hbar_chart(chart_rows, order, colors, names, title)
        + _table([(noun.capitalize(), ""), ("Customer turns", "num"), ("Negative", "num"),
                  ("Most frequent", "")], rows)
        + _more(len(groups), total, table)
    )


def _emotions_section(records: list[dict[str, Any]] | None, text: _Text, max_rows: int) -> str:
    explain = (
        "How customers felt, turn by turn, read in the context of the conversation "
        "(a sarcastic “thanks” counts as the emotion it really means)."
    )
    if records is None:
        return _section("emotions", explain, _not_run("no turns table"))
    customer = [r for r in records if r["_role"] == "customer"]
    for r in customer:
        r["_emotion"] = _str(r["emotion"])
    labelled = [r for r in customer if r["_emotion"]]
    if not customer:
        return _section("emotions", explain, _NO_DATA)
    if not labelled:
        return _section("emotions", explain, _not_run("emotion classification"))
    labels = sorted({r["_emotion"] for r in labelled})
    order = _emotion_order(labels)
    colors = _emotion_colors(labels)
    names = {e: _emotion_name(e) for e in order}
    counts = Counter(r["_emotion"] for r in labelled)
    n = len(labelled)
    negative = sum(c for e, c in counts.items() if _is_negative(e))
    parts = [
        "<h3>Overall mix</h3>",
        _note(
            f"{n:,} customer turns with an emotion; {_esc(_pct(negative, n))} of them negative.",
            "lead",
        ),
        _hbar_chart(
            [(names[e], float(counts[e]), f"{counts[e]:,} ({_pct(counts[e], n)})", colors[e])
             for e in sorted(order, key=lambda e: (-counts[e], order.index(e)))],
            "Customer emotions, all turns",
        ),
    ]

    parts.append("<h3>Over time</h3>")
    for r in labelled:
        r["_day"] = _day(r["timestamp"])
    dated = [r for r in labelled if r["_day"] is not None]
    if not dated:
        parts.append(_note("No timestamps in the data, so there is no timeline."))
    else:
        first = min(r["_day"] for r in dated)
        last = max(r["_day"] for r in dated)
        weekly = (last - first).days > 62
        buckets: dict[str, Counter[str]] = {}
        if weekly:
            day = first - timedelta(days=first.weekday())
            while day <= last:
                iso = day.isocalendar()
                buckets[f"{iso[0]}-W{iso[1]:02d}"] = Counter()
                day += timedelta(days=7)
        else:
            day = first
            while day <= last:
                buckets[day.isoformat()] = Counter()
                day += timedelta(days=1)
        for r in dated:
            iso = r["_day"].isocalendar()
            key = f"{iso[0]}-W{iso[1]:02d}" if weekly else r["_day"].isoformat()
            buckets[key][r["_emotion"]] += 1
        unit = "week" if weekly else "day"
        columns = [
            (k if weekly or first.year != last.year else k[5:], dict(v)) for k, v in buckets.items()
        ]
        parts.append(_column_chart(columns, order, colors, names,
                                   f"Customer emotions per {unit}"))
        note = f"Customer turns per {unit}, by emotion ({first.isoformat()} to {last.isoformat()})."
        if len(dated) < n:
            note += f" {n - len(dated):,} turns without a timestamp are not shown."
        parts.append(_note(_esc(note), "more"))

    agents = _main_agents(records)
    for r in labelled:
        r["_shop"] = _str(r["shop"])
        r["_agent"] = agents.get(r["_dialogue"], "")
    parts.append("<h3>By shop</h3>")
    parts.append(_emotion_breakdown(labelled, "_shop", "Customer emotions by shop", "shop",
                                    "turns", text, order, colors, names, max_rows))
    parts.append("<h3>By agent</h3>")
    parts.append(_note(
        "Each customer turn counts for the agent who answered most in its dialogue.", "more"))
    parts.append(_emotion_breakdown(labelled, "_agent", "Customer emotions by agent", "agent",
                                    "turns", text, order, colors, names, max_rows))
    return _section("emotions", explain, "".join(parts))


def _sarcasm_section(records: list[dict[str, Any]] | None, text: _Text, max_rows: int) -> str:
    explain = (
        "Customer turns whose words sound polite or positive but, after what happened in the "
        "chat, mean the opposite. Highest sarcasm score first, with the agent's turn before "
        "it as context."
    )
    if records is None:
        return _section("sarcasm", explain, _not_run("no turns table"))
    if all(_flag(r["sarcastic"]) is None for r in records):
        return _section("sarcasm", explain, _not_run("sarcasm detection") if records else _NO_DATA)
    last_agent: dict[str, object] = {}
    found = []
    for r in records:
        if r["_role"] == "customer" and _flag(r["sarcastic"]):
            found.append((r, last_agent.get(r["_dialogue"])))
        if r["_role"] == "agent":
            last_agent[r["_dialogue"]] = r["text"]
    if not found:
        return _section("sarcasm", explain, _note("No sarcastic customer turns found."))
    found.sort(key=lambda rc: (-(_float(rc[0]["sarcasm_score"]) or 0.0),
                               _sort_key(rc[0]["dialogue_id"]), _sort_key(rc[0]["turn_index"])))
    rows = []
    for r, context in found[:max_rows]:
        surface, meant = _str(r["surface"]), _str(r["emotion"])
        reading = (f"{_emotion_name(surface) if surface else '–'} → "
                   f"{_emotion_name(meant) if meant else '–'}")
        rows.append([
            text(r["dialogue_id"], 40), _esc(_num(r["sarcasm_score"])),
            f'<span class="ctx">{text(context, 240, "(no agent turn before)")}</span>',
            text(r["text"], 240), text(reading, 80),
        ])
    return _section("sarcasm", explain, _table(
        [("Dialogue", ""), ("Score", "num"), ("Agent before", ""), ("Customer said", ""),
         ("Sounds → means", "")], rows,
    ) + _more(min(max_rows, len(found)), len(found), "turns"))


def _unanswered_section(data: ReportData, text: _Text, max_rows: int) -> str:
    explain = (
        "Customer questions where the agent's reply did not carry the answer the question "
        "calls for (for example a “why” answered without a “because”), or got no reply."
    )
    frame = data.answer_checks
    if frame is None:
        return _section("unanswered", explain, _not_run("answer checks"))
    if not len(frame):
        return _section("unanswered", explain, _NO_DATA)
    recs = _records(frame, "answer_checks")
    labels: dict[str, str] = {}
    if data.viewpoints is not None and len(data.viewpoints):
        for v in _records(data.viewpoints, "viewpoints"):
            labels[_str(v["viewpoint_id"])] = _str(v["label"])
    missed = [r for r in recs if _flag(r["answered"]) is False]
    lead = _note(
        f"{len(missed):,} of {len(recs):,} customer questions were not answered "
        f"({_esc(_pct(len(missed), len(recs)))}).", "lead",
    )
    if not missed:
        return _section("unanswered", explain, lead)
    missed.sort(key=lambda r: (_float(r["score"]) if _float(r["score"]) is not None else math.inf,
                               _sort_key(r["dialogue_id"]), _sort_key(r["question_turn"])))
    rows = []
    for r in missed[:max_rows]:
        viewpoint = labels.get(_str(r["viewpoint_id"]), _str(r["viewpoint_id"]))
        rows.append([
            text(r["dialogue_id"], 40), text(r["question"], 240),
            text(r["reply"], 240, '<span class="ctx">(no reply)</span>'),
            text(r["reason"], 200), text(viewpoint, 80), text(r["question_type"], 30),
            _esc(_num(r["score"])),
        ])
    return _section("unanswered", explain, lead + _table(
        [("Dialogue", ""), ("Question", ""), ("Agent reply", ""), ("Why it fails", ""),
         ("Viewpoint", ""), ("Type", ""), ("Score", "num")], rows,
    ) + _more(min(max_rows, len(missed)), len(missed), "answer_checks"))


def _alert_rows(data: ReportData, kind: str) -> tuple[list[dict[str, Any]] | None, int]:
    frame = data.alerts
    if frame is None:
        return None, 0
    recs = [r for r in _records(frame, "alerts") if _str(r["kind"]) == kind]
    recs.sort(key=lambda r: (-(_float(r["score"]) or 0.0), _sort_key(r["dialogue_id"]),
                             _sort_key(r["customer_id"])))
    return recs, len(frame)


def _severity_line(recs: Sequence[Mapping[str, Any]], noun: str) -> str:
    counts = Counter(_str(r["severity"]).lower() or "unrated" for r in recs)
    order = ["high", "medium", "low", *sorted(k for k in counts if k not in ("high", "medium", "low"))]
    detail = ", ".join(f"{counts[k]:,} {k}" for k in order if counts[k])
    noun = noun if len(recs) != 1 else noun.removesuffix("s")
    return _note(f"{len(recs):,} {_esc(noun)}: {_esc(detail)}.", "lead")


def _complaint_section(data: ReportData, text: _Text, max_rows: int) -> str:
    explain = (
        "Dialogues likely to turn into a complaint: negative or sarcastic emotion, escalation "
        "words (12315, complaint, refund…) or complaint intent. Highest risk first; follow "
        "these up today."
    )
    recs, _ = _alert_rows(data, "complaint_risk")
    if recs is None:
        return _section("complaint-risk", explain, _not_run("alerts"))
    if not recs:
        return _section("complaint-risk", explain, _note("No complaint-risk alerts."))
    rows = [
        [_badge(r["severity"]), _esc(_num(r["score"])), text(r["dialogue_id"], 40),
         text(r["customer_id"], 40), text(r["reasons"], 200), text(r["evidence"], 300)]
        for r in recs[:max_rows]
    ]
    return _section("complaint-risk", explain, _severity_line(recs, "alerts") + _table(
        [("Severity", ""), ("Score", "num"), ("Dialogue", ""), ("Customer", ""),
         ("Reasons", ""), ("Evidence", "")], rows,
    ) + _more(min(max_rows, len(recs)), len(recs), "alerts"))


def _repeat_section(data: ReportData, text: _Text, max_rows: int) -> str:
    explain = (
        "Customers who had to get in touch again and again in a short time, a sign the "
        "first contact did not solve their problem."
    )
    recs, _ = _alert_rows(data, "repeat_contact")
    if recs is None:
        return _section("repeat-contacts", explain, _not_run("alerts"))
    if not recs:
        return _section("repeat-contacts", explain, _note("No repeat-contact alerts."))
    rows = []
    for r in recs[:max_rows]:
        ids = [i.strip() for i in _str(r["dialogue_id"]).split(",") if i.strip()]
        rows.append([
            _badge(r["severity"]), _esc(_num(r["score"])), text(r["customer_id"], 40),
            _esc(f"{len(ids):,}"), text(", ".join(ids), 200), text(r["reasons"], 200),
            text(r["evidence"], 300),
        ])
    return _section("repeat-contacts", explain, _severity_line(recs, "customers") + _table(
        [("Severity", ""), ("Score", "num"), ("Customer", ""), ("Contacts", "num"),
         ("Dialogues", ""), ("Reasons", ""), ("Evidence", "")], rows,
    ) + _more(min(max_rows, len(recs)), len(recs), "alerts"))


def _inspection_section(data: ReportData, text: _Text, max_rows: int) -> str:
    explain = (
        "Every dialogue scored from 0 to 100 against the service rules (greeting, answering "
        "the question, apologising where due, response time…); each lost point is tagged."
    )
    frame = data.inspections
    if frame is None:
        return _section("inspection", explain, _not_run("inspection"))
    if not len(frame):
        return _section("inspection", explain, _NO_DATA)
    recs = [r for r in _records(frame, "inspections") if _float(r["score"]) is not None]
    if not recs:
        return _section("inspection", explain, _note("No inspection scores."))
    scores = sorted(float(_float(r["score"]) or 0.0) for r in recs)
    n = len(scores)
    middle = n // 2
    median = scores[middle] if n % 2 else (scores[middle - 1] + scores[middle]) / 2
    below = sum(s < 60 for s in scores)
    parts = [
        "<h3>Score distribution</h3>",
        _note(
            f"{n:,} dialogues; average {sum(scores) / n:.1f}, median {median:.1f}; "
            f"{below:,} ({_esc(_pct(below, n))}) below 60.", "lead",
        ),
    ]
    bins: list[tuple[str, dict[str, int]]] = []
    for lo in range(0, 100, 10):
        hi = lo + 10
        count = sum(lo <= min(max(s, 0.0), 100.0) < hi or (hi == 100 and s >= 100) for s in scores)
        bins.append((f"{lo}–{hi}", {"dialogues": count}))
    parts.append(_column_chart(bins, ["dialogues"], {"dialogues": "#2f6fde"},
                               {"dialogues": "dialogues"}, "Inspection score distribution",
                               legend_keys=False))
    tags: Counter[str] = Counter()
    for r in recs:
        for tag in _str(r["tags"]).split(","):
            if tag.strip():
                tags[tag.strip()] += 1
    if tags:
        parts.append("<h3>Most frequent deductions</h3>")
        top_tags = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        parts.append(_hbar_chart(
            [(text.plain(t), float(c), f"{c:,} ({_pct(c, n)})", "#e0603a") for t, c in top_tags],
            "Most frequent deduction tags",
        ))
    parts.append("<h3>Lowest-scoring dialogues</h3>")
    recs.sort(key=lambda r: (_float(r["score"]) or 0.0, _sort_key(r["dialogue_id"])))
    lowest = recs[: min(20, max_rows)]
    rows = [
        [text(r["dialogue_id"], 40), _esc(_num(r["score"], 1)),
         _esc(_num(r["deductions"], 0)),
         text(", ".join(t.strip() for t in _str(r["tags"]).split(",") if t.strip()), 200),
         text(r["speaker"], 40),
         text(r["shop"], 60)]
        for r in lowest
    ]
    parts.append(_table(
        [("Dialogue", ""), ("Score", "num"), ("Deductions", "num"), ("Tags", ""),
         ("Agent", ""), ("Shop", "")], rows,
    ))
    parts.append(_more(len(lowest), len(recs), "inspections"))
    return _section("inspection", explain, "".join(parts))


# ---------------------------------------------------------------------------------------
# page

_CSS = """
:root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--soft:#f5f7fa;--accent:#2f6fde}
*{box-sizing:border-box}
body{margin:0;background:var(--soft);color:var(--fg);font-size:15px;line-height:1.55;
font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,
"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",
"WenQuanYi Micro Hei",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 28px 64px}
header h1{font-size:26px;margin:0 0 2px}
header .sub{color:var(--muted);margin:0}
nav.toc{margin:16px 0;padding:10px 16px;background:#fff;border:1px solid var(--line);
border-radius:10px}
nav.toc ol{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px}
nav.toc a{color:var(--accent);text-decoration:none}
nav.toc a:hover{text-decoration:underline}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 24px;
margin:18px 0}
h2{font-size:20px;margin:0 0 4px}
h3{font-size:16px;margin:22px 0 6px}
.zh{color:var(--muted);font-weight:normal;margin-left:10px;font-size:.85em}
p.explain{color:var(--muted);margin:0 0 12px}
p.lead{margin:4px 0 10px}
p.nodata{color:var(--muted);font-style:italic;margin:6px 0}
p.more{color:var(--muted);font-size:13px;margin:4px 0 10px}
.scroll{overflow-x:auto}
table.data{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0}
table.data th{text-align:left;background:var(--soft);border-bottom:2px solid var(--line);
padding:6px 8px;font-weight:600;white-space:nowrap}
table.data td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top;
overflow-wrap:anywhere}
table.kv{width:auto;min-width:420px}
table.kv td:first-child{color:var(--muted);white-space:nowrap}
.num{text-align:right !important;white-space:nowrap;font-variant-numeric:tabular-nums}
.ctx{color:var(--muted)}
.ex{margin:0 0 3px}
.badge{display:inline-block;padding:0 8px;border-radius:9px;font-size:12px;font-weight:600;
color:#fff;background:#7b8794}
.sev-high{background:#c0392b}.sev-medium{background:#e67e22}.sev-low{background:#7b8794}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0 16px}
.card{flex:1 1 120px;border:1px solid var(--line);border-radius:10px;padding:10px 14px;
background:var(--soft)}
.card .v{font-size:24px;font-weight:700}
.card .k{color:var(--muted);font-size:13px}
svg.chart{display:block;max-width:100%;height:auto;margin:8px 0 12px}
svg.chart text{font-family:inherit}
code{background:var(--soft);padding:0 4px;border-radius:4px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
@media print{body{background:#fff}section{break-inside:avoid-page}nav.toc{display:none}}
"""


def _check_max_rows(max_rows: object) -> int:
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValidationError(f"max_rows must be a positive int, got {max_rows!r}")
    return max_rows


def render_report(
    data: ReportData,
    *,
    redact_personal_data: bool = True,
    title: str = "Customer-service dialogue report",
    max_rows: int = 50,
    redact_patterns: Mapping[str, Any] | None = None,
) -> str:
    """Render the tables of an analysis run as one self-contained HTML page.

    Args:
        data: the tables (see :class:`ReportData`); a ``None`` table makes its section say
            it was not run, an empty one that there is no data.
        redact_personal_data: pass every text from the data through
            :func:`csdialog.redact.redact` before it is shown (phones, e-mails, ID and card
            numbers become ``[PHONE]``...). Turn it off only for a report that stays with
            the people allowed to see that data.
        title: the page title.
        max_rows: the most rows any table shows; the rest are counted with a pointer to
            the full CSV (:data:`TABLE_FILES`).
        redact_patterns: extra kinds to redact, ``{name: regex}`` (see
            :func:`csdialog.redact.redact`), e.g. your order-number format.

    Returns:
        The HTML page. No scripts and no external resources: it opens offline.

    Raises:
        ValidationError: ``data`` is not a :class:`ReportData`, or ``max_rows`` is not a
            positive int.

    Example:
        >>> page = render_report(ReportData())
        >>> "Hot viewpoints" in page and "Not run" in page and "<script" not in page
        True
    """
    if not isinstance(data, ReportData):
        raise ValidationError(
            f"render_report needs a ReportData, got {type(data).__name__}; build one with "
            "ReportData(summary=..., turns=..., ...)"
        )
    max_rows = _check_max_rows(max_rows)
    if redact_patterns:
        from csdialog.redact import _check_patterns

        _check_patterns(redact_patterns)  # fail early with a clear message
    text = _Text(redact_personal_data, redact_patterns)
    records = None
    if data.turns is not None and len(data.turns):
        records = _ordered_turns(data.turns)
    elif data.turns is not None:
        records = []

    summary = data.summary
    created = text.plain(summary.get("created", ""))
    source = text.plain(summary.get("input", ""))
    sub = " · ".join(x for x in (source, f"created {created}" if created else "") if x)
    toc = "".join(
        f'<li><a href="#{anchor}">{_esc(en)}</a></li>' for anchor, en, _ in REPORT_SECTIONS
    )
    sections = [
        _summary_section(data, text, records),
        _viewpoints_section(data, text, max_rows),
        _emotions_section(records if data.turns is not None else None, text, max_rows),
        _sarcasm_section(records if data.turns is not None else None, text, max_rows),
        _unanswered_section(data, text, max_rows),
        _complaint_section(data, text, max_rows),
        _repeat_section(data, text, max_rows),
        _inspection_section(data, text, max_rows),
    ]
    privacy = (
        "Personal data (phones, e-mails, ID and card numbers) is replaced by placeholders."
        if redact_personal_data
        else "Personal data is NOT redacted in this report: share it with care."
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="csdialog">\n<title>{_esc(title)}</title>\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header><h1>{_esc(title)}</h1><p class="sub">{_esc(sub)}</p></header>\n'
        f'<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>\n'
        + "\n".join(sections)
        + f"\n<footer><p>{_esc(privacy)} Made by csdialog; this file needs no network.</p>"
        "</footer>\n</main>\n</body>\n</html>\n"
    )


def write_report(
    path: str | os.PathLike[str],
    data: ReportData,
    *,
    redact_personal_data: bool = True,
    title: str = "Customer-service dialogue report",
    max_rows: int = 50,
    redact_patterns: Mapping[str, Any] | None = None,
) -> Path:
    """Render the report (see :func:`render_report`) and write it as UTF-8.

    Args:
        path: the ``.html`` file to write; its folder is created if needed.
        data, redact_personal_data, title, max_rows: as for :func:`render_report`.

    Returns:
        The path written.

    Example:
        >>> import tempfile, os
        >>> out = write_report(os.path.join(tempfile.mkdtemp(), "report.html"), ReportData())
        >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        True
    """
    page = render_report(data, redact_personal_data=redact_personal_data, title=title,
                         max_rows=max_rows, redact_patterns=redact_patterns)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
