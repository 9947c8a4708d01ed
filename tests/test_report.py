"""The HTML report: sections, charts, offline, redaction, escaping, empty input, structure."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from csdialog.errors import ValidationError
from csdialog.report import REPORT_SECTIONS, ReportData, render_report, write_report

_VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def make_data() -> ReportData:
    """A small run: Chinese and English dialogues, one sarcastic thanks, personal data."""
    rows = [
        # dialogue, index, role, speaker, text, time, shop, emotion, sarcastic, score, surface
        ("zh-1", 0, "customer", None, "为什么面膜B比面膜A贵了一百多块钱?", "2026-11-02T10:01:05+08:00",
         "美妆旗舰店", "confused", False, 0.05, "confused"),
        ("zh-1", 1, "agent", "agent-07", "亲，我们家的产品都是正品保证的哦", "2026-11-02T10:01:40+08:00",
         "美妆旗舰店", "neutral", False, 0.01, "neutral"),
        ("zh-1", 2, "customer", None, "我手机138-0013-8000，订单号20261102123456，¥1299，10:30前回电",
         "2026-11-02T10:02:30+08:00", "美妆旗舰店", "impatient", False, 0.10, "impatient"),
        ("zh-1", 3, "agent", "agent-07", "好的，请您耐心等待", "2026-11-02T10:03:00+08:00",
         "美妆旗舰店", "neutral", False, 0.02, "neutral"),
        ("zh-1", 4, "customer", None, "谢谢你啊，真是太感谢了", "2026-11-02T10:04:00+08:00",
         "美妆旗舰店", "angry", True, 0.93, "grateful"),
        ("en-1", 0, "customer", None, "My email is john.doe@example.com, where is my parcel?",
         "2026-11-03T09:00:00+00:00", "Phone Store", "anxious", False, 0.04, "anxious"),
        ("en-1", 1, "agent", "agent-12", "Call me on (555) 010-0199, order EX-20261103-0042 ships 2026-11-05",
         "2026-11-03T09:01:00+00:00", "Phone Store", "neutral", False, 0.01, "neutral"),
        ("en-1", 2, "customer", None, "great, thanks <script>alert(1)</script>",
         "2026-11-03T09:02:00+00:00", "Phone Store", "dissatisfied", True, 0.71, "satisfied"),
        ("en-1", 3, "customer", None, "ok bye", "2026-11-03T09:03:00+00:00",
         "Phone Store", "neutral", False, 0.02, "neutral"),
    ]
    turns = pd.DataFrame(rows, columns=[
        "dialogue_id", "turn_index", "role", "speaker", "text", "timestamp", "shop", "emotion",
        "sarcastic", "sarcasm_score", "surface"])
    turns["timestamp"] = pd.to_datetime(turns["timestamp"], utc=True).dt.tz_convert("Asia/Shanghai")
    turns["category"] = ["护肤"] * 5 + ["phones"] * 4
    turns["customer_id"] = ["c-1"] * 5 + ["c-2"] * 4
    turns["is_question"] = [True] + [False] * 4 + [True] + [False] * 3
    turns["viewpoint_id"] = ["v1"] + [None] * 4 + ["v2"] + [None] * 3
    viewpoints = pd.DataFrame({
        "viewpoint_id": ["v1", "v2", "v3"],
        "label": ["为什么面膜B贵?", "Where is my parcel?", "联系电话13900139000"],
        "size": [12, 7, 2], "share": [12 / 21, 7 / 21, 2 / 21],
        "keywords": ["面膜B,贵,成分", "parcel,delivery", "电话"],
        "examples": ["为什么面膜B比面膜A贵了一百多块钱? | 面膜B这么贵,它贵在哪里?",
                     "where is my parcel | any update on my delivery", "打13900139000"],
    })
    top = pd.DataFrame({
        "category": ["护肤", "护肤", "phones"], "rank": [1, 2, 1],
        "viewpoint_id": ["v1", "v3", "v2"], "label": ["为什么面膜B贵?", "联系电话", "Where is my parcel?"],
        "count": [12, 2, 7], "share_in_group": [12 / 14, 2 / 14, 1.0],
    })
    checks = pd.DataFrame({
        "dialogue_id": ["zh-1", "en-1"], "question_turn": [0, 0],
        "question": ["为什么面膜B比面膜A贵了一百多块钱?", "Where is my parcel? mail mary.smith@example.com"],
        "viewpoint_id": ["v1", "v2"], "reply_turn": [1, float("nan")],
        "reply": ["亲，我们家的产品都是正品保证的哦", None], "answered": [False, True],
        "score": [0.21, 0.80], "question_type": ["why", None],
        "reason": ["reply gives no reason why B costs more", "reply states where the parcel is"],
    })
    inspections = pd.DataFrame({
        "dialogue_id": ["zh-1", "en-1", "zh-2"], "score": [55.0, 92.0, 71.5],
        "deductions": [3, 1, 2],
        "tags": ["no_answer,no_apology,slow_reply", "slow_reply", "no_greeting,no_answer"],
        "speaker": ["agent-07", "agent-12", None], "shop": ["美妆旗舰店", "Phone Store", "美妆旗舰店"],
    })
    alerts = pd.DataFrame({
        "kind": ["complaint_risk", "complaint_risk", "repeat_contact"],
        "severity": ["medium", "high", "high"], "score": [0.55, 0.91, 0.8],
        "dialogue_id": ["en-1", "zh-1", "zh-1,zh-5,zh-9"], "customer_id": ["c-2", "c-1", "c-1"],
        "reasons": ["negative emotion", "sarcastic thanks after an unresolved reply", "3 contacts in 1 day"],
        "evidence": ["My email is john.doe@example.com",
                     "谢谢你啊 (手机138-0013-8000，订单号20261102123456，¥1299，10:30前回电)",
                     "zh-1, zh-5, zh-9; also wrote from mary.smith@example.com"],
    })
    summary = {"input": "chats.jsonl", "rows_read": 2, "rows_rejected": 0, "dialogues": 2,
               "turns": 9, "encoder": "e5-small", "emotion_model": "emotion-e5-small",
               "seconds": 12.3, "created": "2026-11-25T17:00:00"}
    return ReportData(summary=summary, turns=turns, viewpoints=viewpoints, top_by_category=top,
                      answer_checks=checks, inspections=inspections, alerts=alerts)


class _Structure(HTMLParser):
    """Records parser problems and checks that every opened tag is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(make_data())


def test_every_section_heading_and_toc_entry(page: str) -> None:
    for anchor, en, zh in REPORT_SECTIONS:
        assert f'<section id="{anchor}">' in page
        assert f"<h2>{en}" in page and zh in page
        assert f'href="#{anchor}"' in page
    positions = [page.index(f'<section id="{a}">') for a, _, _ in REPORT_SECTIONS]
    assert positions == sorted(positions)
    for sub in ("Top 10 overall", "Top viewpoints per category", "Overall mix", "Over time",
                "By shop", "By agent", "Score distribution", "Lowest-scoring dialogues"):
        assert f"<h3>{sub}</h3>" in page
    # summary values and key figures
    assert "chats.jsonl" in page and "2026-11-25T17:00:00" in page and "12.3 s" in page
    assert "e5-small" in page and "customer questions answered" in page


def test_charts_are_inline_svg(page: str) -> None:
    parsed = _parse(page)
    labels = [v for tag, k, v in parsed.attrs if tag == "svg" and k == "aria-label"]
    for label in ("Top viewpoints by number of customer questions", "Customer emotions, all turns",
                  "Customer emotions per day", "Customer emotions by shop",
                  "Customer emotions by agent", "Inspection score distribution",
                  "Most frequent deduction tags"):
        assert label in labels
    assert parsed.tags.count("rect") > 20


def test_page_is_offline(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower() and "@import" not in page and "url(" not in page
    parsed = _parse(page)
    for tag, key, value in parsed.attrs:
        if key in ("src", "href", "xlink:href"):
            assert value is not None and value.startswith("#"), (tag, key, value)
    assert "img" not in parsed.tags and "iframe" not in parsed.tags


def test_personal_data_is_redacted_by_default(page: str) -> None:
    for secret in ("138-0013-8000", "13900139000", "john.doe@example.com",
                   "mary.smith@example.com", "(555) 010-0199"):
        assert secret not in page
    assert "[PHONE]" in page and "[EMAIL]" in page
    # what agents need to follow up is kept
    for kept in ("20261102123456", "EX-20261103-0042", "¥1299", "10:30", "2026-11-05"):
        assert kept in page


def test_personal_data_kept_when_asked() -> None:
    page = render_report(make_data(), redact_personal_data=False)
    for secret in ("138-0013-8000", "john.doe@example.com", "(555) 010-0199", "mary.smith@example.com"):
        assert secret in page
    assert "[PHONE]" not in page and "NOT redacted" in page


def test_user_text_is_escaped(page: str) -> None:
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_chinese_text_and_font_stack(page: str) -> None:
    assert '<meta charset="utf-8">' in page
    assert "为什么面膜B贵?" in page and "美妆旗舰店" in page
    assert '"PingFang SC"' in page and '"Noto Sans CJK SC"' in page and '"Microsoft YaHei"' in page


def test_sarcasm_shows_the_agent_turn_before(page: str) -> None:
    section = page[page.index('<section id="sarcasm">'):page.index('<section id="unanswered">')]
    assert "谢谢你啊，真是太感谢了" in section
    assert "好的，请您耐心等待" in section  # the previous agent turn, as context
    assert "grateful 感激 → angry 愤怒" in section
    assert "satisfied 满意 → dissatisfied 不满" in section
    assert section.index("谢谢你啊") < section.index("great, thanks")  # highest score first
    assert "Call me on [PHONE]" in section  # context of the second one, redacted
    assert "10:30前回电" not in section and "ok bye" not in section  # not sarcastic


def test_unanswered_alerts_and_inspection_content(page: str) -> None:
    unanswered = page[page.index('<section id="unanswered">'):page.index('<section id="complaint-risk">')]
    assert "1 of 2 customer questions were not answered (50.0%)" in unanswered
    assert "reply gives no reason why B costs more" in unanswered
    assert "Where is my parcel" not in unanswered  # it was answered
    risk = page[page.index('<section id="complaint-risk">'):page.index('<section id="repeat-contacts">')]
    assert risk.index("zh-1") < risk.index("en-1")  # sorted by score
    assert "sev-high" in risk and "sev-medium" in risk
    repeat = page[page.index('<section id="repeat-contacts">'):page.index('<section id="inspection">')]
    assert "zh-1, zh-5, zh-9" in repeat and "3 contacts in 1 day" in repeat
    inspection = page[page.index('<section id="inspection">'):]
    assert "average 72.8" in inspection
    assert inspection.index("zh-1") < inspection.index("zh-2") < inspection.index("en-1")
    assert "no_answer" in inspection


def test_emotion_breakdowns_by_shop_agent_and_day(page: str) -> None:
    emotions = page[page.index('<section id="emotions">'):page.index('<section id="sarcasm">')]
    assert "美妆旗舰店" in emotions and "Phone Store" in emotions
    assert "agent-07" in emotions and "agent-12" in emotions
    assert "11-02" in emotions and "11-03" in emotions  # one column per day
    assert "of them negative" in emotions


def test_html_parses_and_tags_balance(page: str) -> None:
    parsed = _parse(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert page.startswith("<!DOCTYPE html>")
    for tag in ("html", "head", "body", "main", "nav", "section", "table", "svg", "footer"):
        assert tag in parsed.tags
    assert parsed.tags.count("html") == parsed.tags.count("body") == 1


def test_output_is_deterministic() -> None:
    assert render_report(make_data()) == render_report(make_data())


@pytest.mark.parametrize("empty", [None, "empty"])
def test_missing_or_empty_tables_render(empty: str | None) -> None:
    frame = None if empty is None else pd.DataFrame()
    data = ReportData(summary={}, turns=frame, viewpoints=frame, top_by_category=frame,
                      answer_checks=frame, inspections=frame, alerts=frame)
    page = render_report(data)
    expected = "Not run" if empty is None else "No data"
    assert page.count(expected) >= 6
    parsed = _parse(page)
    assert parsed.errors == [] and parsed.stack == []
    for anchor, en, _ in REPORT_SECTIONS:
        assert f'<section id="{anchor}">' in page and en in page


def test_turns_without_emotion_or_timestamps() -> None:
    turns = pd.DataFrame({"dialogue_id": ["d1", "d1"], "role": ["customer", "agent"],
                          "text": ["hi", "hello"]})
    page = render_report(ReportData(turns=turns))
    assert "Not run: emotion classification" in page
    assert "Not run: sarcasm detection" in page
    data = make_data()
    no_time = data.turns.drop(columns=["timestamp"])  # type: ignore[union-attr]
    page = render_report(ReportData(turns=no_time))
    assert "No timestamps in the data" in page


def test_long_tables_are_capped_with_a_pointer_to_the_csv() -> None:
    alerts = pd.DataFrame({
        "kind": ["complaint_risk"] * 60, "severity": ["low"] * 60,
        "score": [i / 100 for i in range(60)], "dialogue_id": [f"d{i:03d}" for i in range(60)],
    })
    page = render_report(ReportData(alerts=alerts))
    assert "Showing 50 of 60; 10 more in <code>alerts.csv</code>." in page
    assert "d059" in page and "d009" not in page  # highest scores first
    page = render_report(ReportData(alerts=alerts), max_rows=5)
    assert "Showing 5 of 60; 55 more" in page


def test_bad_input_says_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match=r"lacks the column\(s\) \['role'\]"):
        ReportData(turns=pd.DataFrame({"dialogue_id": ["d1"], "text": ["hi"]}))
    with pytest.raises(ValidationError, match="must be a pandas DataFrame or None, got list"):
        ReportData(alerts=[{"kind": "x"}])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs a ReportData"):
        render_report({"turns": None})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_rows must be a positive int"):
        render_report(ReportData(), max_rows=0)


def test_write_report(tmp_path: Path) -> None:
    out = write_report(tmp_path / "sub" / "report.html", make_data(), redact_personal_data=False)
    text = out.read_text(encoding="utf-8")
    assert out == tmp_path / "sub" / "report.html"
    assert "john.doe@example.com" in text
    assert re.search(r"<title>Customer-service dialogue report</title>", text)
