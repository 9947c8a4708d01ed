"""The shipped default emotion model with the real encoder (marked ``model``; runs in CI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from csdialog import Dialogue, Turn
from csdialog.context import ContextualText
from csdialog.emotion import DEFAULT_MODEL, EMOTIONS, EmotionClassifier

pytestmark = pytest.mark.model

CHALLENGE = Path(__file__).parent / "data" / "emotion_challenge.jsonl"
#: the second dev set, which chose the shipped sarcasm recipe (see docs/emotion.md)
DEV2 = Path(__file__).parents[1] / "benchmarks" / "data" / "emotion_dev2.jsonl"
#: the third dev set: warm and sarcastic turns in the middle of a chat
DEV3 = Path(__file__).parents[1] / "benchmarks" / "data" / "emotion_dev3.jsonl"


def _items(rows: list[dict], window: int = 3) -> list[ContextualText]:  # type: ignore[type-arg]
    items = []
    for r in rows:
        turns = [Turn(t["role"], t["text"]) for t in r["turns"]]
        i = r["target"]
        items.append(ContextualText(turns[i].text, tuple(turns[max(0, i - window):i]),
                                    turns[i].role))
    return items


@pytest.fixture(scope="module")
def default(e5_encoder):  # type: ignore[no-untyped-def]
    return EmotionClassifier.from_pretrained("default", encoder=e5_encoder)


def test_shipped_folder_is_small_and_pickle_free() -> None:
    files = [p for p in DEFAULT_MODEL.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".json", ".safetensors", ".md"}
    assert sum(p.stat().st_size for p in files) < 1_000_000
    classes = json.loads((DEFAULT_MODEL / "config.json").read_text())["classes"]
    assert sorted(classes) == sorted(e.key for e in EMOTIONS)  # all 12 + neutral learned


@pytest.mark.parametrize("complaint, failed, solved, thanks", [
    ("快递一个星期了还没到", "物流的事我们也没办法,请您耐心等待", "帮您查到了,包裹今天下午送达", "谢谢你"),
    ("My refund still hasn't arrived after two weeks", "Refunds take time, there's nothing I can do",
     "I've processed it now, the money is back on your card", "thanks a lot"),
])
def test_defining_case_same_words_opposite_meaning(default, complaint: str, failed: str,  # type: ignore[no-untyped-def]
                                                   solved: str, thanks: str, no_network) -> None:
    bad = Dialogue("bad", [Turn("customer", complaint), Turn("agent", failed),
                           Turn("customer", thanks)])
    good = Dialogue("good", [Turn("customer", complaint), Turn("agent", solved),
                             Turn("customer", thanks)])
    p_bad, p_good = default.classify([(bad, 2), (good, 2)])
    assert p_bad.sarcasm_score > p_good.sarcasm_score
    assert p_bad.polarity == "negative" and p_bad.sarcastic
    assert p_good.polarity == "positive" and not p_good.sarcastic
    assert p_bad.surface in ("grateful", "satisfied", "happy")  # the words alone are warm


@pytest.mark.parametrize("complaint, failed, solved, marked", [
    ("快递一个星期了还没到", "物流的事我们也没办法,请您耐心等待", "帮您查到了,包裹今天下午送达",
     "呵呵，你们真行"),
    ("快递一个星期了还没到", "物流的事我们也没办法,请您耐心等待", "帮您查到了,包裹今天下午送达",
     "呵呵"),
    ("My refund still hasn't arrived after two weeks", "Refunds take time, there's nothing I can do",
     "I've processed it now, the money is back on your card", "What a surprise 🙄"),
])
def test_marked_irony_is_flagged_after_a_failure_only(default, complaint: str, failed: str,  # type: ignore[no-untyped-def]
                                                      solved: str, marked: str,
                                                      no_network) -> None:
    """A turn that marks itself as not meant (呵呵, 🙄), with no words of thanks or praise:
    flagged after a refusal, not after a fix (the marker gate, shipped since stop 43)."""
    bad = Dialogue("bad", [Turn("customer", complaint), Turn("agent", failed),
                           Turn("customer", marked)])
    good = Dialogue("good", [Turn("customer", complaint), Turn("agent", solved),
                             Turn("customer", marked)])
    p_bad, p_good = default.classify([(bad, 2), (good, 2)])
    assert default.sarcasm_marker_gate
    assert p_bad.sarcastic and p_bad.polarity == "negative"
    assert not p_good.sarcastic and p_bad.sarcasm_score > p_good.sarcasm_score


@pytest.mark.parametrize("path", [CHALLENGE, DEV2], ids=["challenge", "dev2"])
def test_thanks_regression_guard(default, path: Path, no_network) -> None:  # type: ignore[no-untyped-def]
    """Sarcastic vs sincere thanks on the hand-written challenge set and the second dev set;
    the benchmark (benchmarks/bench_emotion.py --part challenge dev) reports the exact
    figures."""
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if r["category"] in ("sarcastic_thanks", "sincere_thanks")]
    preds = default.classify(_items(rows))
    acc = np.mean([p.sarcastic == r["sarcastic"] for p, r in zip(preds, rows, strict=True)])
    assert acc >= THANKS_GUARD


def test_midturn_false_flag_guard(default, no_network) -> None:  # type: ignore[no-untyped-def]
    """Warm, cooperative turns in the middle of a chat (an order number given with thanks,
    thanks for plain information) are rarely flagged, and sarcastic ones still are
    (dev set 3; bench_emotion.py --part dev reports the exact figures)."""
    rows = [json.loads(x) for x in DEV3.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert all(r["target"] < len(r["turns"]) - 1 for r in rows)  # mid-dialogue targets
    flags = np.array([p.sarcastic for p in default.classify(_items(rows))])
    y = np.array([bool(r["sarcastic"]) for r in rows])
    assert flags[~y].mean() <= MIDTURN_FALSE_FLAGS and flags[y].mean() >= MIDTURN_CAUGHT


def test_save_load_of_default_is_identical(default, tmp_path: Path, no_network) -> None:  # type: ignore[no-untyped-def]
    d = Dialogue("d", [Turn("customer", "在吗?在吗?怎么还不回"), Turn("agent", "非常抱歉让您久等了"),
                       Turn("customer", "好吧,谢谢")])
    folder = default.save_pretrained(tmp_path / "emo")
    again = EmotionClassifier.from_pretrained(folder)
    assert [p.to_dict() for p in again.classify([d])] == [p.to_dict() for p in default.classify([d])]


def test_fine_tuning_labels_keeps_the_shipped_sarcasm_side(default, e5_encoder,  # type: ignore[no-untyped-def]
                                                          no_network) -> None:
    """Your labels, the shipped flags: the label head learns a few in-house turns, the
    sarcasm scores and flags of the shipped model do not move."""
    turns = ["这个账单我看不懂", "what does this fee mean?", "谢谢，解决了", "thanks, all sorted",
             "太慢了吧", "why is this taking so long", "订单号 123456", "my order is 55120",
             "你们这服务太差了", "this is not good enough"]
    labels = ["confused", "confused", "grateful", "grateful", "impatient", "impatient",
              "neutral", "neutral", "dissatisfied", "dissatisfied"]
    mine = EmotionClassifier(e5_encoder, window=3, C=1.0).fit(turns, labels,
                                                              sarcasm_from="default")
    rows = [json.loads(x) for x in CHALLENGE.read_text(encoding="utf-8").splitlines()
            if x.strip()][:40]
    items = _items(rows)
    np.testing.assert_array_equal(mine.sarcasm_proba(items), default.sarcasm_proba(items))
    ours, shipped = mine.classify(items), default.classify(items)
    assert [p.sarcastic for p in ours] == [p.sarcastic for p in shipped]
    assert set(mine.classes_) == {"confused", "grateful", "impatient", "neutral", "dissatisfied"}
    assert {p.label for p in ours} <= set(mine.classes_)
    assert any(p.sarcastic for p in ours)


# The shipped model on the int8 graph it was trained on (7-bit weights, the same on every
# CPU since export format 4), with the hand-written training dialogues: challenge 0.857,
# dev set 2 0.850 (0.786 and 0.775 for the model before); dev set 3, with the praise-word
# gate: 11.4% of the 140 sincere mid-dialogue turns flagged, 76.7% of the 60 sarcastic ones
# caught (10.7% and 61.7% without the gate; 9.3% and 51.7% for the model before).
# The guards keep a turn or two of margin: the same graph reads slightly differently from
# machine to machine (CPU kernels, package versions). On a machine with AVX512-VNNI and
# the packages of 2026-11-29, one sincere turn of dev set 3 scores 0.5723 against the
# threshold 0.57 (17 of 140 flagged, 12.1%; 16 on the machine of the figures above) and
# dev set 2 reads 0.842.
THANKS_GUARD = 0.80
MIDTURN_FALSE_FLAGS = 0.13
MIDTURN_CAUGHT = 0.70
