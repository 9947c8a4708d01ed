"""The synthetic-dialogue generators behind the shipped emotion model (scripts/)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

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


ROOT = Path(__file__).parents[1]
EMOTIONS = {"satisfied", "grateful", "happy", "hopeful", "apologetic", "anxious", "confused",
            "impatient", "disappointed", "dissatisfied", "angry", "sad", "neutral"}


def _rows(path: Path) -> list[dict]:  # type: ignore[type-arg]
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _opening(row: dict[str, Any]) -> str:
    """The first customer turn of a written dialogue."""
    return str(next(t["text"] for t in row["turns"] if t["role"] == "customer"))


WRITTEN_ROUNDS = {"emotion_written.jsonl": 1200, "emotion_written_round4.jsonl": 400,
                  "emotion_written_round5.jsonl": 400, "emotion_written_round6.jsonl": 200,
                  "emotion_written_round7.jsonl": 400, "emotion_written_round8.jsonl": 200,
                  "emotion_written_round9.jsonl": 480}


@pytest.mark.parametrize("name, n", sorted(WRITTEN_ROUNDS.items()))
def test_written_training_dialogues_are_well_formed_and_apart_from_the_test_sets(
        name: str, n: int) -> None:
    path = SCRIPTS / "data" / name
    rows = _rows(path)
    assert len({r["id"] for r in rows}) == len(rows) and len(rows) == n
    others = {r["id"] for other in WRITTEN_ROUNDS if other != name
              for r in _rows(SCRIPTS / "data" / other)}
    assert not {r["id"] for r in rows} & others  # no id shared between rounds
    for r in rows:
        assert r["lang"] in {"zh", "zh-tw", "en", "mix"}
        assert r["turns"][r["target"]]["role"] == "customer", r["id"]
        assert r["emotion"] in EMOTIONS, r["id"]
        assert (r["meant"] is not None) == r["sarcastic"], r["id"]
        assert r["sarcastic"] == r["category"].startswith("sarcastic_"), r["id"]
        if name in ("emotion_written_round5.jsonl", "emotion_written_round6.jsonl"):  # mid-chat
            assert 2 <= r["target"] <= len(r["turns"]) - 2, r["id"]
    # no dialogue of the challenge set (the test) or of the dev sets (the choice of recipe)
    # is in the training file: not its target turn, not its first customer turn (short
    # generic turns such as "在吗" / "ok thanks" aside; an agent's greeting such as
    # "您好，这里是信用卡在线客服。" may open dialogues of both)
    written = {t for r in rows for t in (_opening(r), r["turns"][r["target"]]["text"])}
    for path in (ROOT / "tests" / "data" / "emotion_challenge.jsonl",
                 *sorted((ROOT / "benchmarks" / "data").glob("emotion_dev*.jsonl"))):
        for r in _rows(path):
            opening, target = _opening(r), r["turns"][r["target"]]["text"]
            for text in (opening, target):
                assert text not in written or len(text) <= 12, (path.name, text)


HELD_OUT = {
    "emotion_dev5.jsonl": {"sincere_thanks": 100, "sarcastic_thanks": 100,
                           "sincere_midturn": 100, "sarcastic_midturn": 100},
    "emotion_dev6.jsonl": {"sincere_thanks": 80, "sarcastic_thanks": 80,
                           "thanks_for_information": 48, "polite_followup": 32,
                           "cooperative_answer": 32, "chatty_reaction": 28,
                           "sarcastic_midturn": 100},
    "emotion_dev7.jsonl": {"sincere_confused": 80, "sincere_emotion": 120, "sincere_thanks": 64,
                           "sarcastic_thanks": 56, "sarcastic_midturn": 80},
    "emotion_dev8.jsonl": {"sincere_emotion": 200, "sincere_thanks": 40, "sarcastic_thanks": 40,
                           "sarcastic_midturn": 40},
    "emotion_dev9.jsonl": {"sincere_confused": 60, "sincere_emotion": 120, "sincere_thanks": 20,
                           "sarcastic_thanks": 20, "sarcastic_midturn": 20},
    "emotion_dev10.jsonl": {"sincere_confused": 80, "sincere_emotion": 240, "sincere_thanks": 32,
                            "sarcastic_thanks": 24, "sarcastic_midturn": 24},
    "emotion_dev11.jsonl": {"sincere_confused": 80, "sincere_emotion": 240, "sincere_thanks": 32,
                            "sarcastic_thanks": 24, "sarcastic_midturn": 24},
    "emotion_dev12.jsonl": {"sincere_thanks": 96, "sarcastic_thanks": 96,
                            "thanks_for_information": 32, "polite_followup": 16,
                            "cooperative_answer": 16, "chatty_reaction": 16,
                            "sarcastic_midturn": 48},
    "emotion_dev13.jsonl": {"sincere_thanks": 96, "sarcastic_thanks": 96,
                            "thanks_for_information": 32, "polite_followup": 16,
                            "cooperative_answer": 16, "chatty_reaction": 16,
                            "sarcastic_midturn": 48},
    "emotion_dev14.jsonl": {"sincere_thanks": 96, "sarcastic_thanks": 96,
                            "thanks_for_information": 32, "polite_followup": 16,
                            "cooperative_answer": 16, "chatty_reaction": 16,
                            "sarcastic_midturn": 48},
    **{f"emotion_dev{n}.jsonl": {"sincere_thanks": 88, "sarcastic_thanks": 88,
                                 "plain_complaint": 48, "thanks_for_information": 24,
                                 "polite_followup": 8, "cooperative_answer": 8,
                                 "chatty_reaction": 16, "sarcastic_midturn": 40}
       for n in (15, 16)},
    **{f"emotion_dev{n}.jsonl": {"sincere_thanks": 88, "sarcastic_thanks": 88,
                                 "plain_complaint": 48, "thanks_for_information": 24,
                                 "polite_followup": 8, "cooperative_answer": 8,
                                 "chatty_reaction": 16, "sarcastic_midturn": 40}
       for n in (17, 18, 19, 20, 21, 22, 23)},
}
#: the languages of each held-out set (the others: en 150, zh 150, zh-tw 50, mix 50)
HELD_OUT_LANGS = {"emotion_dev8.jsonl": {"en": 120, "zh": 120, "zh-tw": 40, "mix": 40},
                  "emotion_dev9.jsonl": {"en": 60, "zh": 60, "zh-tw": 60, "mix": 60},
                  **{f"emotion_dev{n}.jsonl": {"en": 120, "zh": 120, "zh-tw": 40, "mix": 40}
                     for n in (12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)}}


#: dev set 7's sincere mid-chat emotions other than confused, per 50 chats
DEV7_EMOTIONS = {"anxious": 2, "impatient": 2, "disappointed": 2, "dissatisfied": 2, "angry": 1,
                 "sad": 1, "hopeful": 1, "apologetic": 1, "happy": 1, "satisfied": 1,
                 "neutral": 1}
#: dev set 9's sincere mid-chat emotions other than confused, per 60 chats (and dev sets 10
#: and 11's, per 50 chats)
DEV9_EMOTIONS = {e: 3 for e in ("anxious", "sad", "hopeful", "disappointed", "dissatisfied",
                                "impatient")} | {e: 2 for e in ("angry", "apologetic", "satisfied",
                                                                "happy", "grateful", "neutral")}
#: dev set 8's sincere mid-chat emotions, per 40 chats
DEV8_EMOTIONS = {e: 2 for e in ("anxious", "sad", "hopeful", "disappointed", "satisfied", "happy",
                                "impatient", "dissatisfied", "angry", "apologetic", "confused",
                                "neutral")} | {"grateful": 1}


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_dev_sets_are_well_formed(name: str) -> None:
    """Dev sets 5 to 23 (benchmarks/data/, held out): the categories and languages of their
    briefs; an end-of-chat thanks has no customer turn after it, every other target has
    one; the written training rounds share no dialogue with them (checked above)."""
    from collections import Counter

    rows = _rows(ROOT / "benchmarks" / "data" / name)
    langs = HELD_OUT_LANGS.get(name, {"en": 150, "zh": 150, "zh-tw": 50, "mix": 50})
    assert len({r["id"] for r in rows}) == len(rows) == sum(langs.values())
    assert Counter(r["category"] for r in rows) == HELD_OUT[name]
    assert Counter(r["lang"] for r in rows) == langs
    for r in rows:
        turns, t = r["turns"], r["target"]
        assert 3 <= len(turns) <= 9 and t >= 1 and turns[t]["role"] == "customer", r["id"]
        assert r["emotion"] in EMOTIONS and r["meant"] in (None, r["emotion"]), r["id"]
        assert r["sarcastic"] == r["category"].startswith("sarcastic_") \
            == (r["meant"] is not None), r["id"]
        closing = r["category"] in ("sincere_thanks", "sarcastic_thanks")
        if r["category"] != "plain_complaint":  # closing or mid-chat, both on purpose
            assert ("customer" in {x["role"] for x in turns[t + 1:]}) != closing, r["id"]
    if name == "emotion_dev7.jsonl":  # the emotions its brief asks for
        sincere = Counter(r["emotion"] for r in rows if r["category"] == "sincere_emotion")
        assert sincere == {e: 8 * n for e, n in DEV7_EMOTIONS.items()}
        assert {r["emotion"] for r in rows if r["category"] == "sincere_confused"} == {"confused"}
    if name in ("emotion_dev8.jsonl", "emotion_dev9.jsonl", "emotion_dev10.jsonl",
                "emotion_dev11.jsonl"):
        per = {"emotion_dev8.jsonl": (8, DEV8_EMOTIONS), "emotion_dev9.jsonl": (4, DEV9_EMOTIONS),
               "emotion_dev10.jsonl": (8, DEV9_EMOTIONS), "emotion_dev11.jsonl": (8, DEV9_EMOTIONS)}
        k, emotions = per[name]
        sincere = Counter(r["emotion"] for r in rows if r["category"] == "sincere_emotion")
        assert sincere == {e: k * n for e, n in emotions.items()}
        assert {r["emotion"] for r in rows if r["category"] == "sincere_confused"} <= {"confused"}


def test_written_turns_loader_repeats_and_labels() -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        from train_emotion_default import WRITTEN, written_turns
    finally:
        sys.path.remove(str(SCRIPTS))
    assert written_turns(str(WRITTEN), 0) == ([], [])
    emo, sarc = written_turns(str(WRITTEN), 2)
    rows = _rows(WRITTEN)
    assert len(emo) == len(sarc) == 2 * len(rows)
    first = rows[0]
    assert sarc[0].text == sarc[1].text == first["turns"][first["target"]]["text"]
    assert len(sarc[0].context) == first["target"]
    assert sarc[0].label == ("sarcastic" if first["sarcastic"] else "not_sarcastic")
    assert emo[0].label == (first["meant"] or first["emotion"])
    assert sum(e.label == "sarcastic" for e in sarc) == 2 * sum(r["sarcastic"] for r in rows)
    # several files: read in order, as if concatenated
    round6 = SCRIPTS / "data" / "emotion_written_round6.jsonl"
    both = written_turns([str(WRITTEN), str(round6)], 1)[1]
    assert both == written_turns(str(WRITTEN), 1)[1] + written_turns(str(round6), 1)[1]
    assert len(both) == len(rows) + len(_rows(round6))


def test_emotion_data_can_read_fewer_written_files_than_the_sarcasm_data() -> None:
    """--written-emotion-files: every --written file goes into the sarcasm data, only these
    into the emotion data; --no-written-emotion: none."""
    import argparse

    sys.path.insert(0, str(SCRIPTS))
    try:
        from train_emotion_default import WRITTEN, written_data
    finally:
        sys.path.remove(str(SCRIPTS))
    round6 = SCRIPTS / "data" / "emotion_written_round6.jsonl"
    n1, n6 = len(_rows(WRITTEN)), len(_rows(round6))
    args = argparse.Namespace(written=[str(WRITTEN), str(round6)], written_repeat=2,
                              written_emotion=True, written_emotion_files=None,
                              written_sarcasm_files=None)
    emo, sarc = written_data(args)
    assert len(emo) == len(sarc) == 2 * (n1 + n6)
    args.written_emotion_files = [str(WRITTEN)]
    emo, sarc = written_data(args)
    assert (len(emo), len(sarc)) == (2 * n1, 2 * (n1 + n6))
    # the same file spelled relative to the working directory (the command line's way)
    # while --written holds absolute paths (the defaults)
    rel = os.path.relpath(WRITTEN)
    assert rel != str(WRITTEN)
    args.written_emotion_files = [rel]
    assert written_data(args) == (emo, sarc)
    # --written-sarcasm-files: a round for the emotion head alone
    args.written_emotion_files, args.written_sarcasm_files = None, [str(WRITTEN)]
    emo, sarc_only = written_data(args)
    assert (len(emo), len(sarc_only)) == (2 * (n1 + n6), 2 * n1)
    args.written_emotion_files, args.written_sarcasm_files = [rel], None
    args.written_emotion = False
    assert written_data(args) == ([], sarc)
    args.written_emotion, args.written_emotion_files = True, [str(round6), "other.jsonl"]
    with pytest.raises(ValueError, match=r"\['other.jsonl'\] are not among --written"):
        written_data(args)
    args.written_emotion_files, args.written_sarcasm_files = None, ["other.jsonl"]
    with pytest.raises(ValueError, match=r"--written-sarcasm-files \['other.jsonl'\]"):
        written_data(args)


#: the sets no training file may touch: the challenge set (the test), dev sets 2 and 3 (the
#: unit tests' guards) and the held-out dev sets 11 to 23
NEVER_TRAINED = ("emotion_dev2.jsonl", "emotion_dev3.jsonl",
                 *(f"emotion_dev{n}.jsonl" for n in range(11, 24)))


def test_default_written_files_split_and_keep_the_held_out_sets_apart() -> None:
    """The shipped recipe's files: the used dev sets (1, 4-10) teach the sarcasm side alone,
    like rounds 5 and 6; rounds 7 and 8 the label head alone; no held-out set is read, and
    no held-out dialogue (its opening or its labelled turn) is in a dev set read."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        from train_emotion_default import (
            DEV_TRAINING,
            LABEL_ONLY,
            SARCASM_ONLY,
            WRITTEN,
            WRITTEN_SHIPPED,
        )
    finally:
        sys.path.remove(str(SCRIPTS))
    data = ROOT / "benchmarks" / "data"
    assert [p.name for p in DEV_TRAINING] == [
        f"emotion_dev{n}.jsonl" for n in ("", 4, 5, 6, 7, 8, 9, 10)]
    assert set(DEV_TRAINING) <= set(SARCASM_ONLY) and set(DEV_TRAINING) <= set(WRITTEN_SHIPPED)
    assert not set(SARCASM_ONLY) & set(LABEL_ONLY) and WRITTEN in WRITTEN_SHIPPED
    read = {p.name for p in WRITTEN_SHIPPED}
    assert not read & {*NEVER_TRAINED, "emotion_challenge.jsonl"}
    trained = {t for p in DEV_TRAINING for r in _rows(p)
               for t in (_opening(r), r["turns"][r["target"]]["text"])}
    held = [ROOT / "tests" / "data" / "emotion_challenge.jsonl",
            *(data / n for n in NEVER_TRAINED)]
    for path in held:
        for r in _rows(path):
            for text in (_opening(r), r["turns"][r["target"]]["text"]):
                assert text not in trained or len(text) <= 12, (path.name, text)


def test_written_turns_loader_names_the_bad_line(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        from train_emotion_default import written_turns
    finally:
        sys.path.remove(str(SCRIPTS))
    good = ('{"turns": [{"role": "customer", "text": "谢谢"}], "target": 0, '
            '"emotion": "grateful", "sarcastic": false, "meant": null}')
    for bad in ('{"turns": [', '{"turns": [], "target": 0, "emotion": "neutral", "sarcastic": false}',
                good.replace('"sarcastic": false', '"sarcastic": true')):  # no meant emotion
        path = tmp_path / "w.jsonl"
        path.write_text(good + "\n\n" + bad + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match="line 3"):
            written_turns(str(path), 1)
    path.write_text(good + "\n", encoding="utf-8")
    assert [e.label for e in written_turns(str(path), 1)[1]] == ["not_sarcastic"]


@pytest.mark.parametrize("flags, message", [
    (["--cross-written", "x.jsonl"], "needs --sarcasm-lora"),
    (["--cross-cooperative", "10"], "needs --cross-written"),
    (["--sarcasm-threshold", "1.5"], "expected 'auto' or a probability in [0, 1]"),
    (["--no-written-emotion", "--written-emotion-files", "x.jsonl"], "cannot go with"),
    (["--written", "a.jsonl", "--written-emotion-files", "x.jsonl"], "must be among --written"),
    (["--no-written-emotion", "--written-emotion-files", "all"], "cannot go with"),
    (["--written", "a.jsonl", "--written-sarcasm-files", "x.jsonl"],
     "--written-sarcasm-files ['x.jsonl'] must be among --written"),
    (["--written", "a.jsonl", "--sarcasm-emotion-files", "x.jsonl"],
     "--sarcasm-emotion-files ['x.jsonl'] must be among --written"),
    (["--sarcasm-emotion-files", "all", "--sarcasm-from", "default"], "pass one of them"),
    (["--no-written-emotion", "--sarcasm-emotion-files", "all"], "cannot go with"),
    (["--sarcasm-from", "default", "--sarcasm-lora", "8"], "cannot train a cross-encoder"),
])
def test_cross_encoder_data_flags_are_checked_before_training(flags: list[str],
                                                              message: str) -> None:
    """The cross-encoder's own data needs a cross-encoder; the script says so at once."""
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_emotion_default.py"
    run = subprocess.run([sys.executable, str(script), "--data-root", "/nonexistent", *flags],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and message in run.stderr


def test_default_command_is_the_shipped_recipe() -> None:
    """The plain command resolves to the shipped recipe (G2: the sarcasm head alone, its
    plateau threshold, the veto and the marker gate on), and so does the command in the
    shipped model's card;
    ``--sarcasm-threshold`` takes a probability (E1g: E1's command with 0.59)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import train_emotion_default as ted
    finally:
        sys.path.remove(str(SCRIPTS))
    from csdialog.emotion import DEFAULT_MODEL

    keys = ("sarcasm_lora", "sarcasm_threshold", "cross_written", "sarcasm_complaint_gate",
            "sarcasm_marker_gate",
            "written", "written_sarcasm_files", "written_emotion_files", "sarcasm_goemotions",
            "sarcasm_synthetic", "irony", "written_repeat", "sarcasm_C")
    shipped = ted.parse_args([])
    assert shipped.sarcasm_lora == 0 and shipped.sarcasm_threshold == "auto"
    assert shipped.cross_written is None and shipped.sarcasm_complaint_gate
    assert shipped.sarcasm_marker_gate
    card = json.loads((DEFAULT_MODEL / "config.json").read_text(encoding="utf-8"))["card"]
    from_card = ted.parse_args(card["command"].split()[1:])
    assert {k: getattr(from_card, k) for k in keys} == {k: getattr(shipped, k) for k in keys}
    assert ted.parse_args(["--sarcasm-threshold", "0.59"]).sarcasm_threshold == 0.59


def test_goemotions_not_sarcastic_keeps_the_warm_and_plain_classes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--sarcasm-goemotions: GoEmotions train comments of the warm and plain classes, read
    without context, as not sarcastic; the others (angry, sad...) are left out; 0 reads
    nothing."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import train_emotion_default as ted
    finally:
        sys.path.remove(str(SCRIPTS))
    from csdialog.datasets import LabelledExample

    seen: list[tuple[str, int | None]] = []

    def fake(root: str | None, split: str, per_class: int | None,
             seed: int = 0) -> list[LabelledExample]:
        seen.append((split, per_class))
        return [LabelledExample(f"{k} comment", k)
                for k in ("happy", "angry", "neutral", "sad", "grateful")]

    monkeypatch.setattr(ted, "goemotions_single", fake)
    assert ted.goemotions_not_sarcastic(None, 0) == [] and not seen
    out = ted.goemotions_not_sarcastic(None, 5)
    assert seen == [("train", 5)]
    assert [(e.text, e.label) for e in out] == [
        ("happy comment", "not_sarcastic"), ("neutral comment", "not_sarcastic"),
        ("grateful comment", "not_sarcastic")]
    assert all(not e.context for e in out)


def test_mustard_holdout_leaves_out_exactly_one_test_fold() -> None:
    """--mustard-holdout K drops the test part of fold K of the benchmark's folds, and only
    that: the five held-out parts cover MUStARD once."""
    from csdialog.datasets import data_root
    from csdialog.errors import DataFormatError

    try:
        root = data_root(ROOT.parent / "shared" / "datasets")
    except (FileNotFoundError, DataFormatError):
        pytest.skip("public data sets not found")
    if not (root / "mustard").exists():
        pytest.skip("MUStARD not found")
    sys.path.insert(0, str(SCRIPTS))
    try:
        import train_emotion_default as ted
    finally:
        sys.path.remove(str(SCRIPTS))
    every = ted.mustard_kept(str(root), None)
    key = [(e.text, e.context, e.label) for e in every]
    left_out: list[tuple[object, ...]] = []
    for k in range(5):
        kept = {(e.text, e.context, e.label) for e in ted.mustard_kept(str(root), k)}
        left_out += [x for x in key if x not in kept]
    assert len(every) == 690 and sorted(left_out, key=repr) == sorted(key, key=repr)
