from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdialog import Dialogue, Role, Turn, ValidationError
from csdialog.dialogue import parse_role, parse_timestamp


def test_roles_and_synonyms() -> None:
    assert parse_role("Customer ") is Role.CUSTOMER
    assert parse_role("客服") is Role.AGENT
    assert parse_role("机器人") is Role.BOT
    assert parse_role("系統") is Role.SYSTEM
    assert parse_role("SELLER", {"seller": "agent"}) is Role.AGENT
    with pytest.raises(ValidationError, match=r"unknown role 'pirate'.*role_map"):
        parse_role("pirate")
    with pytest.raises(ValidationError, match="got int"):
        parse_role(3)


def test_turn_validation_messages() -> None:
    with pytest.raises(ValidationError, match="must be a string, got int"):
        Turn("customer", 5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="empty or whitespace"):
        Turn("customer", "  \n")
    with pytest.raises(ValidationError, match="not ISO-8601"):
        Turn("customer", "hi", timestamp="yesterday")


def test_timestamps() -> None:
    assert parse_timestamp("2026-11-24T10:00:00Z") == datetime(2026, 11, 24, 10, tzinfo=timezone.utc)
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert parse_timestamp(1_700_000_000_000) == parse_timestamp(1_700_000_000)
    assert parse_timestamp("") is None
    with pytest.raises(ValidationError):
        parse_timestamp(float("nan"))
    with pytest.raises(ValidationError):
        parse_timestamp(True)


def test_frozen_and_metadata_read_only() -> None:
    t = Turn("customer", "hi", metadata={"a": 1})
    with pytest.raises(AttributeError):
        t.text = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.metadata["a"] = 2  # type: ignore[index]


def test_dialogue_validation() -> None:
    with pytest.raises(ValidationError, match="no turns"):
        Dialogue("d", [])
    with pytest.raises(ValidationError, match="non-empty string"):
        Dialogue("  ", [Turn("customer", "x")])
    with pytest.raises(ValidationError, match="missing"):
        Dialogue("d", [{"role": "customer"}])  # type: ignore[list-item]
    d = Dialogue(7, [{"role": "user", "text": "hi"}], customer_id=12)  # type: ignore[arg-type]
    assert d.dialogue_id == "7" and d.customer_id == "12"
    assert d.customer_turns()[0].text == "hi"


texts = st.text(min_size=1).filter(lambda s: s.strip() != "")
turns = st.builds(
    Turn,
    role=st.sampled_from(list(Role)),
    text=texts,
    timestamp=st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc))),
    speaker=st.one_of(st.none(), st.text(max_size=5)),
    metadata=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@given(st.builds(Dialogue, dialogue_id=texts, turns=st.lists(turns, min_size=1, max_size=6),
                 product=st.one_of(st.none(), st.text(max_size=8))))
def test_dict_round_trip(d: Dialogue) -> None:
    assert Dialogue.from_dict(d.to_dict()) == d
    assert hash(Dialogue.from_dict(d.to_dict())) == hash(d)
