"""The synthetic-dialogue generators behind the shipped emotion model (scripts/)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parents[1] / "scripts"


@pytest.fixture(scope="module")
def generator():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(SCRIPTS))
    try:
        import service_dialogues

        yield service_dialogues
    finally:
        sys.path.remove(str(SCRIPTS))


def test_cooperative_turns_are_deterministic_sincere_and_filled(generator) -> None:  # type: ignore[no-untyped-def]
    rows = generator.cooperative(300, seed=3)
    assert rows == generator.cooperative(300, seed=3)
    assert rows != generator.cooperative(300, seed=4)
    assert {r["kind"] for r in rows} == {"cooperative", "thanks_for_information",
                                         "polite_followup"}
    assert {r["lang"] for r in rows} == {"zh", "zh-tw", "en"}
    for r in rows:
        roles = [t["role"] for t in r["turns"]]
        assert roles == ["customer", "agent", "customer"] and not r["sarcastic"]
        last = r["turns"][-1]["text"]
        assert "{v}" not in last and last.strip()
        if r["kind"] == "cooperative":  # the requested value, then warm words
            assert re.search(r"谢|謝|麻烦|麻煩|感谢|感謝|辛苦|劳烦|thank|appreciated|cheers|\bta\b",
                             last, re.I), last


def test_cooperative_split_is_checked(generator) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="split must be one of"):
        generator.cooperative(3, split="test")
    heldout = {r["turns"][0]["text"] for r in generator.cooperative(400, split="heldout")}
    train = {r["turns"][0]["text"] for r in generator.cooperative(400, split="train")}
    assert heldout and train and not heldout & train  # problems kept apart
