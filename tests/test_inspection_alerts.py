"""Inspection rules and alerts on the sample chats, with the expected findings written
down (see examples/data/README.md for what each chat was written to show)."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from csdialog import Dialogue, Turn, read_chats
from csdialog.alerts import RepeatRule, alerts_frame, complaint_risk, repeat_contacts
from csdialog.errors import ValidationError
from csdialog.inspection import Finding, Inspector, Rule, register_rule, registered_rules

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "data" / "sample_chats.jsonl"
ESCALATED = {"zh-0007", "zh-0018", "zh-0024", "zh-0034", "zh-0042", "zh-0047", "tw-0006",
             "en-0004", "en-0008", "en-0016"}


@pytest.fixture(scope="module")
def chats() -> list[Dialogue]:
    return read_chats(SAMPLE).dialogues


@pytest.fixture(scope="module")
def results(chats):  # type: ignore[no-untyped-def]
    return {r.dialogue_id: r for r in Inspector.default().inspect(chats)}


def _tagged(results, rule: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {d for d, r in results.items() if rule in r.tags}


def test_forbidden_phrases_exactly_where_written(results) -> None:  # type: ignore[no-untyped-def]
    assert _tagged(results, "forbidden_phrases") == {"zh-0007", "zh-0043", "en-0004"}
    f = next(f for f in results["zh-0007"].findings if f.rule_id == "forbidden_phrases")
    assert f.passed is False and f.deduction == 40  # two turns x 20, capped at 40
    assert "不知道" in f.message and "这不归我管" in f.message and len(f.turns) == 2


def test_repeated_template_replies(results) -> None:  # type: ignore[no-untyped-def]
    # zh-0021 pastes the template with another opener ("您好," vs "亲,"); tw-0004's template
    # was sent in an earlier contact, not twice in this chat, so it is not a finding here.
    assert _tagged(results, "repeated_reply") == {"zh-0004", "zh-0014", "zh-0021", "en-0007", "en-0016"}


def test_greeting_missing_only_in_rude_or_terse_openers(results) -> None:  # type: ignore[no-untyped-def]
    missing = _tagged(results, "greeting")
    assert {"zh-0007", "zh-0043", "en-0004"} <= missing
    assert "zh-0001" not in missing and "en-0001" not in missing
    assert len(missing) <= 11  # the README: 66 of 77 first replies greet


def test_response_times_and_missing_timestamps(results, chats) -> None:  # type: ignore[no-untyped-def]
    f = next(f for f in results["zh-0007"].findings if f.rule_id == "average_response_time")
    assert f.passed is False and f.evidence[0].endswith("s")
    first = next(f for f in results["zh-0001"].findings if f.rule_id == "first_response_time")
    assert first.passed is True and first.evidence == ("35s",)  # 10:01:05 -> 10:01:40
    bare = Dialogue("x", tuple(Turn(t.role, t.text, speaker=t.speaker) for t in chats[0].turns))
    r = Inspector.default().inspect([bare])[0]
    timing = [f for f in r.findings if f.rule_id.endswith("response_time")]
    assert all(f.passed is None and "timestamps missing" in f.message and f.deduction == 0 for f in timing)


def test_answered_rule_needs_checks_and_counts_them(chats) -> None:  # type: ignore[no-untyped-def]
    from csdialog.answers import AnswerCheck

    insp = Inspector.default()
    r = insp.inspect([chats[1]])[0]
    answered = next(f for f in r.findings if f.rule_id == "answered")
    assert answered.passed is None and "not checked" in answered.message
    check = AnswerCheck("zh-0002", 0, "面膜B这么贵,它贵在哪里?", "why", None, None, None, 1, "正品保证",
                        False, 0.1, False, (), (), "a why question, but the reply gives no reason")
    r = insp.inspect([chats[1]], checks=[check])[0]
    answered = next(f for f in r.findings if f.rule_id == "answered")
    assert answered.passed is False and answered.deduction == 10 and answered.turns == (0,)
    assert "answered" in r.tags and r.score == r.max_score - sum(f.deduction for f in r.findings)


def test_apology_due_on_complaint_words(results) -> None:  # type: ignore[no-untyped-def]
    f = next(f for f in results["zh-0007"].findings if f.rule_id == "apology_where_due")
    assert f.passed is False and "upset" in f.message
    f = next(f for f in results["zh-0018"].findings if f.rule_id == "apology_where_due")
    assert f.passed is True


def test_config_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown type 'greet'"):
        Inspector.from_config({"rules": [{"id": "g", "type": "greet"}]})
    with pytest.raises(ValidationError, match="bad parameters"):
        Inspector.from_config({"rules": [{"id": "g", "type": "greeting", "phrase": ["hi"]}]})
    with pytest.raises(ValidationError, match="non-empty list"):
        Inspector.from_config({"rules": []})
    with pytest.raises(ValidationError, match="unique"):
        Inspector.from_config({"rules": [{"id": "a", "type": "repeated_reply"}] * 2})
    with pytest.raises(ValidationError, match="regular expression"):
        Inspector.from_config({"rules": [{"id": "a", "type": "repeated_reply", "applies_if": "("}]})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"max_score": 10, "rules": [
        {"id": "polite", "type": "forbidden_phrases", "deduct": 4, "phrases": ["滚"]}]}))
    insp = Inspector.from_config(path)
    r = insp.inspect([Dialogue("d", (Turn("customer", "在吗"), Turn("agent", "滚")))])[0]
    assert (r.score, r.max_score, r.tags) == (6.0, 10.0, ("polite",))


def test_rules_are_extensible_in_python() -> None:
    class NoEmoji(Rule):
        def evaluate(self, view):  # type: ignore[no-untyped-def]
            bad = [i for i, t in view.agent_turns() if "🙄" in t]
            return (not bad), ("eye-roll" if bad else "ok"), bad, ()

    register_rule("test_no_emoji", NoEmoji, overwrite=True)
    assert "test_no_emoji" in registered_rules()
    insp = Inspector.from_config({"rules": [{"id": "emoji", "type": "test_no_emoji", "deduct": 7}]})
    r = insp.inspect(Dialogue("d", (Turn("customer", "hi"), Turn("agent", "fine 🙄"))))[0]
    assert r.score == 93 and isinstance(r.findings[0], Finding) and r.findings[0].turns == (1,)
    with pytest.raises(ValidationError, match="exists"):
        register_rule("greeting", NoEmoji)


def test_frames(results) -> None:  # type: ignore[no-untyped-def]
    frame = Inspector.to_frame(list(results.values()))
    assert list(frame.columns) == ["dialogue_id", "score", "agent", "deductions", "tags"]
    assert len(frame) == 77 and frame.score.between(0, 100).all()
    findings = Inspector.to_frame(list(results.values()), "findings")
    assert set(findings.rule_id) >= {"greeting", "forbidden_phrases"}


# ------------------------------------------------------------------ alerts


def test_escalation_words_flag_exactly_the_escalated_chats(chats) -> None:  # type: ignore[no-untyped-def]
    alerts = complaint_risk(chats)
    escalated = {a.dialogue_ids[0] for a in alerts if any(r.startswith("escalation") for r in a.reasons)}
    assert escalated == ESCALATED
    assert all(a.severity == "high" for a in alerts if a.dialogue_ids[0] in ESCALATED)
    # the order number 20261102123456 contains "12345" and must not read as a hotline
    assert "zh-0011" not in escalated
    a = next(a for a in alerts if a.dialogue_ids == ("zh-0018",))
    assert "12315" in a.reasons[0] and any(e.startswith("zh-0018#6:") for e in a.evidence)


def test_complaint_risk_combines_signals() -> None:
    d = Dialogue("d", (Turn("customer", "多少钱?"), Turn("agent", "您好")))

    class Check:
        dialogue_id, answered, question_turn, question = "d", False, 0, "多少钱?"

    only = complaint_risk([d], checks=[Check()])
    assert len(only) == 1 and only[0].reasons == ("unanswered questions: 1",)
    assert complaint_risk([d]) == []  # no signal, no alert
    with pytest.raises(ValidationError, match="unknown weight"):
        complaint_risk([d], weights={"volume": 1.0})


def test_repeat_contacts_thresholds(chats) -> None:  # type: ignore[no-untyped-def]
    one_day = repeat_contacts(chats, [(3, 1)])
    assert {a.customer_id for a in one_day} == {"c-2001", "c-2002"}
    three_days = repeat_contacts(chats, ["3 in 3 days"])
    assert {a.customer_id for a in three_days} == {"c-2001", "c-2002", "c-3003"}
    c3003 = next(a for a in three_days if a.customer_id == "c-3003")
    assert c3003.dialogue_ids == ("zh-0045", "zh-0046", "zh-0047")
    assert repeat_contacts(chats, [(4, 3)]) == []
    both = repeat_contacts(chats)
    assert len(both) == 5 and both[0].score >= both[-1].score
    frame = alerts_frame(both)
    assert list(frame.kind.unique()) == ["repeat_contact"]


def test_repeat_contacts_leave_out_undated_and_warn() -> None:
    t0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    dated = [Dialogue(f"d{i}", (Turn("customer", "在吗", timestamp=t0 + timedelta(hours=i)),),
                      customer_id="c1") for i in range(2)]
    undated = Dialogue("d9", (Turn("customer", "在吗"),), customer_id="c1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert repeat_contacts([*dated, undated], [(3, 1)]) == []
    assert any("without timestamps" in str(w.message) for w in caught)
    naive = Dialogue("d8", (Turn("customer", "在吗", timestamp=datetime(2026, 11, 2, 12)),), customer_id="c1")
    assert [a.dialogue_ids for a in repeat_contacts([*dated, naive], [(3, 1)])] == [("d0", "d1", "d8")]


@pytest.mark.parametrize("text, rule", [("3/1d", RepeatRule(3, 1)), ("2 in 7 days", RepeatRule(2, 7)),
                                        ((5, 0.5), RepeatRule(5, 0.5))])
def test_repeat_rule_parsing(text: object, rule: RepeatRule) -> None:
    assert RepeatRule.parse(text) == rule


def test_repeat_rule_errors() -> None:
    with pytest.raises(ValidationError, match="count >= 2"):
        RepeatRule(1, 1)
    with pytest.raises(ValidationError, match="'3/1d'"):
        RepeatRule.parse("often")
