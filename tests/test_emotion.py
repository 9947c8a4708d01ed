"""EmotionClassifier on the test encoder: taxonomy, sarcasm from context, save/load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdialog import Dialogue, Turn
from csdialog.context import ContextualText
from csdialog.emotion import (
    CPED_TO_TAXONOMY,
    EMOTIONS,
    GOEMOTIONS_TO_TAXONOMY,
    EmotionClassifier,
    EmotionPrediction,
    emotion_label,
)
from csdialog.encoders import HashingEncoder
from csdialog.errors import ModelFolderError, NotFittedError, ValidationError

ENC = HashingEncoder(dim=128)

EMO = [("thank you so much", "grateful"), ("many thanks for your help", "grateful"),
       ("谢谢你帮我", "grateful"), ("太感谢了", "grateful"),
       ("this is outrageous", "angry"), ("I am furious", "angry"), ("气死我了", "愤怒"),
       ("太过分了", "angry"), ("hurry up please", "impatient"), ("快点行不行", "着急"),
       ("where is it, I'm waiting", "impatient"), ("怎么还不回", "impatient"),
       ("ok", "neutral"), ("发什么快递", "neutral"), ("which courier", "neutral"),
       ("what size", "neutral")]

FAIL = ["we can't help with that", "please wait longer", "not our problem", "no refund"]
SOLVE = ["your refund is done", "parcel arrives today", "replacement sent", "fixed it"]
THANKS = ["thanks a lot", "thank you", "great, thanks", "谢谢你"]


def _sarcasm_data() -> tuple[list[ContextualText], list[bool]]:
    items, ys = [], []
    for i, thanks in enumerate(THANKS * 3):
        for replies, sarcastic in ((FAIL, True), (SOLVE, False)):
            ctx = (Turn("customer", "my parcel is late"), Turn("agent", replies[i % 4]))
            items.append(ContextualText(thanks, ctx))
            ys.append(sarcastic)
    return items, ys


def _fit(**kw: object) -> EmotionClassifier:
    items, ys = _sarcasm_data()
    return EmotionClassifier(ENC, **kw).fit(  # type: ignore[arg-type]
        [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys)


def test_taxonomy_is_twelve_plus_neutral_and_mappings_are_valid() -> None:
    keys = [e.key for e in EMOTIONS]
    assert len(keys) == 13 and "neutral" in keys and len({e.zh for e in EMOTIONS}) == 13
    for mapping in (GOEMOTIONS_TO_TAXONOMY, CPED_TO_TAXONOMY):
        assert all(v is None or v in keys for v in mapping.values())
    assert len(GOEMOTIONS_TO_TAXONOMY) == 28 and len(CPED_TO_TAXONOMY) == 13
    assert emotion_label("着急").key == "impatient"
    with pytest.raises(ValidationError, match="unknown emotion"):
        emotion_label("bored")


def test_sarcastic_thanks_after_failure_sincere_after_solution() -> None:
    clf = _fit(window=2)
    fail = Dialogue("d1", [Turn("customer", "my parcel is late"),
                           Turn("agent", "not our problem"), Turn("customer", "thanks a lot")])
    ok = Dialogue("d2", [Turn("customer", "my parcel is late"),
                         Turn("agent", "parcel arrives today"), Turn("customer", "thanks a lot")])
    p_fail, p_ok = clf.classify([(fail, 2), (ok, 2)])
    assert isinstance(p_fail, EmotionPrediction)
    assert p_fail.sarcastic and p_fail.meant in ("angry", "dissatisfied", "disappointed")
    assert p_fail.label == p_fail.meant and p_fail.polarity == "negative"
    assert p_fail.surface == "grateful"
    assert not p_ok.sarcastic and p_ok.label == "grateful" and p_ok.meant is None
    assert p_fail.sarcasm_score is not None and p_ok.sarcasm_score is not None
    assert p_fail.sarcasm_score > p_ok.sarcasm_score
    assert set(p_fail.to_dict()) >= {"label", "label_zh", "sarcastic", "meant", "surface"}


def test_whole_dialogues_classify_every_turn_of_the_roles() -> None:
    clf = _fit(window=2)
    d = Dialogue("d", [Turn("customer", "气死我了"), Turn("agent", "sorry"),
                       Turn("customer", "快点行不行")])
    assert len(clf.classify([d])) == 3
    clf.roles = ("customer",)
    assert [p.label for p in clf.classify([d])] == ["angry", "impatient"]


def test_without_sarcasm_head() -> None:
    clf = EmotionClassifier(ENC, window=0).fit([t for t, _ in EMO], [y for _, y in EMO])
    assert clf.sarcasm_head_ is None
    p = clf.classify(["thank you"])[0]
    assert p.label == "grateful" and p.sarcasm_score is None and not p.sarcastic
    with pytest.raises(NotFittedError, match="no sarcasm head"):
        clf.sarcasm_proba(["x"])


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        EmotionClassifier(ENC).classify(["x"])
    with pytest.raises(ValidationError, match="unknown emotion"):
        EmotionClassifier(ENC).fit(["a", "b"], ["grateful", "bored"])
    with pytest.raises(ValidationError, match="sarcasm label"):
        EmotionClassifier(ENC).fit([t for t, _ in EMO], [y for _, y in EMO],
                                   sarcasm_X=["a", "b"], sarcasm_y=["maybe", "no"])
    with pytest.raises(ValidationError, match="both sarcastic and sincere"):
        EmotionClassifier(ENC).fit([t for t, _ in EMO], [y for _, y in EMO],
                                   sarcasm_X=["a", "b"], sarcasm_y=[True, True])


def test_save_load_identical(tmp_path: Path) -> None:
    clf = _fit(window=2)
    items, _ = _sarcasm_data()
    folder = clf.save_pretrained(tmp_path / "emo")
    loaded = EmotionClassifier.from_pretrained(folder, encoder=ENC)
    a, b = clf.classify(items), loaded.classify(items)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    np.testing.assert_array_equal(clf.sarcasm_proba(items), loaded.sarcasm_proba(items))
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "classes": ["x"]}))
    with pytest.raises(ModelFolderError):
        EmotionClassifier.from_pretrained(folder, encoder=ENC)


_EMO_CLF = _fit(window=2)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=4), st.text(max_size=30))
def test_any_text_in_any_context_gets_a_prediction(texts: list[str], agent: str) -> None:
    ctx = (Turn("agent", agent),) if agent.strip() else ()
    preds = _EMO_CLF.classify([ContextualText(t, ctx) for t in texts])
    assert len(preds) == len(texts)
    for p in preds:
        assert p.label in _EMO_CLF.classes_ and 0.0 <= p.score <= 1.0
        assert p.sarcasm_score is not None and 0.0 <= p.sarcasm_score <= 1.0
        assert p.meant is None or p.sarcastic


def test_warm_words_threshold_is_saved_and_old_folders_keep_theirs(tmp_path: Path) -> None:
    clf = _fit(window=2)
    assert clf.sarcasm_min_surface_ == 0.35
    items, _ = _sarcasm_data()
    folder = clf.save_pretrained(tmp_path / "emo")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["sarcasm_min_surface"] == 0.35
    assert EmotionClassifier.from_pretrained(folder, encoder=ENC).sarcasm_min_surface_ == 0.35
    # a folder written before the setting existed loads with the former rule (0.5)
    del cfg["sarcasm_min_surface"]
    (folder / "config.json").write_text(json.dumps(cfg))
    old = EmotionClassifier.from_pretrained(folder, encoder=ENC)
    assert old.sarcasm_min_surface_ == 0.5
    strict = [p.sarcastic for p in old.classify(items)]
    loose = [p.sarcastic for p in clf.classify(items)]
    assert all(b for a, b in zip(strict, loose, strict=True) if a)  # 0.5 flags a subset


def test_no_sarcasm_flag_without_warm_words() -> None:
    clf = _fit(window=2)
    clf.sarcasm_threshold_ = 0.0  # every turn passes the sarcasm score
    ctx = (Turn("customer", "my parcel is late"), Turn("agent", "not our problem"))
    p_angry, p_thanks = clf.classify([ContextualText("I am furious", ctx),
                                      ContextualText("thanks a lot", ctx)])
    assert not p_angry.sarcastic and p_thanks.sarcastic


def _check_word_gate(text: str, passes: bool, gate: str, tmp_path: Path) -> None:
    """A turn read as purely negative on its own is flagged (at threshold 0) exactly when
    ``gate`` lets its words through; with both word gates off it is not; a model saved
    before the setting existed loads with it off."""
    clf = _fit(window=2)
    clf.sarcasm_threshold_ = 0.0  # every turn passes the sarcasm score
    items = [ContextualText(text, (Turn("customer", "my parcel is late"),
                                   Turn("agent", "not our problem")))]
    S, _, _ = clf._sarcasm_features(items)
    _, neg = clf._polarity_masks()
    cold = np.where(neg, 1.0 / neg.sum(), 0.0)[None, :]  # read as purely negative
    assert getattr(clf, gate)
    assert clf._sarcastic(items, S, cold)[1].tolist() == [passes]
    clf.sarcasm_thanks_gate = clf.sarcasm_praise_gate = False  # "Perfect. Thanks" is both
    assert clf._sarcastic(items, S, cold)[1].tolist() == [False]
    clf.sarcasm_thanks_gate = clf.sarcasm_praise_gate = True
    folder = clf.save_pretrained(tmp_path / "emo")
    assert getattr(EmotionClassifier.from_pretrained(folder, encoder=ENC), gate)
    cfg = json.loads((folder / "config.json").read_text())
    del cfg["params"][gate]
    (folder / "config.json").write_text(json.dumps(cfg))
    assert not getattr(EmotionClassifier.from_pretrained(folder, encoder=ENC), gate)


@pytest.mark.parametrize("text, thanks", [
    ("你们发错了还让我出运费，高，实在是高，多谢指点。", True),
    ("好喔，天候因素只下在你們家，真是辛苦了。", True),
    ("So I pay to return something I cancelled. Perfect. Thanks so much.", True),
    ("Cool, appreciate it.", True),
    ("谢绝退货是吧？", False),                      # "declines": not thanks
    ("I am furious", False),
])
def test_words_of_thanks_count_as_a_warm_surface(text: str, thanks: bool, tmp_path: Path) -> None:
    """A turn that says thanks can be flagged even when the emotion head reads it as
    negative on its own; other turns still need a warm reading."""
    _check_word_gate(text, thanks, "sarcasm_thanks_gate", tmp_path)


@pytest.mark.parametrize("text, praise", [
    ("哇，赔我5块钱，你们可真大方", True),
    ("好主意，那我自己去仓库里找吧", True),
    ("排了三天的隊，效率真高", True),
    ("Great system, really efficient.", True),
    ("wow, top-notch service as always", True),
    ("你们太不专业了", False),                      # negated praise: a plain complaint
    ("我要投诉", False),
    ("where is my parcel", False),
])
def test_words_of_praise_count_as_a_warm_surface(text: str, praise: bool,
                                                 tmp_path: Path) -> None:
    """Ironic compliments without thanks pass the gate by their words with
    sarcasm_praise_gate (on by default)."""
    _check_word_gate(text, praise, "sarcasm_praise_gate", tmp_path)


def test_thanks_gate_raises_the_floor_for_turns_without_thanks() -> None:
    """With the words-of-thanks gate, a turn without words of thanks needs a positive
    surface mass of 0.5 (terse thanks pass by their words); without the gate, the 0.35
    floor applies to every turn."""
    clf = _fit(window=2)
    clf.sarcasm_threshold_ = 0.0  # every turn passes the sarcasm score
    ctx = (Turn("customer", "my parcel is late"), Turn("agent", "not our problem"))
    items = [ContextualText("ha, fair enough", ctx), ContextualText("ok thanks", ctx)]
    S, _, _ = clf._sarcasm_features(items)
    pos, neg = clf._polarity_masks()
    rest = ~pos & ~neg  # neutral, apologetic
    row = np.where(pos, 0.4 / pos.sum(), np.where(neg, 0.1 / neg.sum(), 0.5 / rest.sum()))
    lukewarm = np.tile(row, (2, 1))  # positive mass 0.4: between the two floors
    assert np.isclose(lukewarm[0].sum(), 1.0) and np.isclose(lukewarm[0, pos].sum(), 0.4)
    assert clf.sarcasm_thanks_gate
    assert clf._sarcastic(items, S, lukewarm)[1].tolist() == [False, True]
    clf.sarcasm_thanks_gate = False
    assert clf._sarcastic(items, S, lukewarm)[1].tolist() == [True, True]
    warm = np.where(pos, 0.6 / pos.sum(), np.where(neg, 0.4 / neg.sum(), 0.0))[None, :]  # 0.6
    clf.sarcasm_thanks_gate = True
    assert clf._sarcastic(items[:1], S[:1], warm)[1].tolist() == [True]


def test_sarcasm_cross_encoder_fits_saves_small_and_reloads(
        tmp_path: Path, tiny_bert) -> None:  # type: ignore[no-untyped-def]
    """sarcasm_finetune adds a LoRA cross-encoder over the turn and its context; the folder
    keeps only its small arrays, and a reload scores identically."""
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import FineTuneArgs

    bert = tiny_bert(tmp_path / "m")
    enc = HuggingFaceEncoder(bert, backend="torch", name="tiny")
    items, ys = [], []
    for i, thanks in enumerate(THANKS * 6):
        for replies, sarcastic in ((FAIL, True), (SOLVE, False)):
            items.append(ContextualText(thanks, (Turn("customer", "my parcel is late"),
                                                 Turn("agent", replies[i % 4]))))
            ys.append(sarcastic)
    args = FineTuneArgs(epochs=2, batch_size=8, learning_rate=1e-3, max_length=32, lora_rank=2)
    clf = EmotionClassifier(enc, window=2, sarcasm_finetune=args).fit(
        [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys)
    cross = clf.sarcasm_cross_
    assert cross is not None and cross.log.best_epoch >= 1 and cross.temperature > 0
    p = clf.sarcasm_proba(items)
    head = clf.sarcasm_head_.proba(clf._sarcasm_features(items)[0])[:, 1]  # type: ignore[union-attr]
    np.testing.assert_allclose(p, 0.5 * head + 0.5 * cross.proba(items), atol=1e-9)
    preds = clf.classify(items[:6])
    folder = clf.save_pretrained(tmp_path / "emo")
    assert not (folder / "encoder").exists()
    assert (folder / "arrays.safetensors").stat().st_size < 200_000
    config = json.loads((folder / "config.json").read_text())
    assert config["sarcasm_cross"]["window"] == 2
    assert config["params"]["sarcasm_finetune"]["lora_rank"] == 2
    loaded = EmotionClassifier.from_pretrained(folder, encoder=enc)
    assert loaded.sarcasm_cross_ is not None and loaded.sarcasm_cross_._parts is None  # lazy
    assert loaded.sarcasm_finetune == args
    np.testing.assert_allclose(loaded.sarcasm_proba(items), p, atol=2e-3)  # float16 arrays
    assert [q.sarcastic for q in loaded.classify(items[:6])] == [q.sarcastic for q in preds]
    # built before its encoder holds a PyTorch model, the cross-encoder takes that model
    # over instead of copying it (one copy in memory); the encoder reloads its own
    fresh = HuggingFaceEncoder(bert, backend="torch", name="tiny")
    again = EmotionClassifier.from_pretrained(folder, encoder=fresh)
    fresh._model = None  # as on the ONNX backends, which never load PyTorch to encode
    assert again.sarcasm_cross_ is not None
    built = again.sarcasm_cross_.parts.model
    assert fresh._model is None
    np.testing.assert_allclose(again.sarcasm_proba(items), p, atol=2e-3)
    assert fresh._model is not None and fresh._model is not built
    np.testing.assert_allclose(fresh.encode(THANKS), enc.encode(THANKS), atol=1e-5)
    with pytest.raises(ValidationError, match="lora_rank"):
        EmotionClassifier(enc, window=2, sarcasm_finetune=FineTuneArgs(epochs=1)).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys)
    with pytest.raises(ValidationError, match="needs a transformer encoder"):
        EmotionClassifier(ENC, window=2, sarcasm_finetune=args).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys)
    with pytest.raises(ValidationError, match="at least 40"):
        EmotionClassifier(enc, window=2, sarcasm_finetune=args).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items[:20], sarcasm_y=ys[:20])


def test_sarcasm_cross_encoder_trains_on_its_own_data_without_held_out_turns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """sarcasm_cross_X gives the cross-encoder its own training data; turns identical to
    one held out from sarcasm_X for the threshold are left out of it, and the cross-encoder
    is validated on that held-out part."""
    import csdialog.emotion as emotion
    from csdialog.training import FineTuneArgs

    seen: dict[str, object] = {}

    class Fake:
        temperature = 1.0

        def logits(self, items: list[ContextualText]) -> np.ndarray:
            return np.array([2.0 if it.context[-1].text in FAIL else -2.0 for it in items])

        def proba(self, items: list[ContextualText]) -> np.ndarray:
            return 1.0 / (1.0 + np.exp(-self.logits(items)))

    def fake_fit(encoder: object, items: list[ContextualText], y: np.ndarray, *,
                 args: object, window: int, validation: tuple[list[ContextualText],
                                                              np.ndarray]) -> Fake:
        seen.update(items=list(items), y=y, validation=validation)
        return Fake()

    monkeypatch.setattr(emotion._SarcasmCrossEncoder, "fit", staticmethod(fake_fit))
    items, ys = _sarcasm_data()
    items, ys = items * 4, ys * 4  # 96 turns: enough for a held-out part
    own = [ContextualText(t, (Turn("customer", "refund?"), Turn("agent", r)))
           for t in THANKS for r in FAIL + SOLVE]
    own_y = [r in FAIL for _ in THANKS for r in FAIL + SOLVE]
    shared = items[:6]  # also in the head's data: kept out when held out there
    args = FineTuneArgs(epochs=1, lora_rank=2)
    clf = EmotionClassifier(ENC, window=2, sarcasm_finetune=args).fit(
        [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys,
        sarcasm_cross_X=own + shared, sarcasm_cross_y=own_y + ys[:6])
    assert isinstance(clf.sarcasm_cross_, Fake)
    held_items, held_y = seen["validation"]  # type: ignore[misc]
    held = {emotion._group_key(it, 2) for it in held_items}
    trained = seen["items"]
    assert all(emotion._group_key(it, 2) not in held for it in trained)  # type: ignore[attr-defined]
    expected = [it for it in own + shared if emotion._group_key(it, 2) not in held]
    assert trained == expected and len(own) <= len(expected) < len(own) + len(shared)
    assert len(held_items) == len(held_y) and set(held_y.tolist()) == {0, 1}
    assert all(it in items for it in held_items)  # validated on the head's held-out part
    with pytest.raises(ValidationError, match="has none"):
        EmotionClassifier(ENC, window=2).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys,
            sarcasm_cross_X=own, sarcasm_cross_y=own_y)
    with pytest.raises(ValidationError, match="needs sarcasm_X"):
        EmotionClassifier(ENC, window=2, sarcasm_finetune=args).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_cross_X=own,
            sarcasm_cross_y=own_y)
    with pytest.raises(ValidationError, match="sarcastic and sincere turns outside"):
        EmotionClassifier(ENC, window=2, sarcasm_finetune=args).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys,
            sarcasm_cross_X=own[:1], sarcasm_cross_y=own_y[:1])


def test_cross_encoder_gate_flags_irony_without_warm_words() -> None:
    """With the cross-encoder gate, a turn without warm words is flagged when the
    cross-encoder calls it sarcastic; the cross-encoder reads only warm turns and turns
    the head finds suspect (prefilter), and other turns keep the head's probability."""
    clf = _fit(window=2)

    class Fake:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def proba(self, items: list[ContextualText]) -> np.ndarray:
            self.seen += [it.text for it in items]
            return np.array([1.0 if "policy" in it.text else 0.0 for it in items])

    ctx = (Turn("customer", "my parcel is late"), Turn("agent", "not our problem"))
    items = [ContextualText("sure, blame the policy again", ctx),  # irony in the content
             ContextualText("thanks a lot", ctx)]             # warm words
    S, _, P_surf = clf._sarcasm_features(items)
    head = clf.sarcasm_head_.proba(S)[:, 1]  # type: ignore[union-attr]
    pos, neg = clf._polarity_masks()
    warm = P_surf[:, pos].sum(axis=1)
    fake = Fake()
    clf.sarcasm_cross_, clf.sarcasm_threshold_ = fake, 0.4  # type: ignore[assignment]
    clf.sarcasm_cross_gate = False
    p, flags = clf._sarcastic(items, S, P_surf)
    is_warm = (warm >= clf.sarcasm_min_surface_) & (warm > P_surf[:, neg].sum(axis=1))
    assert fake.seen == [it.text for it, w in zip(items, is_warm, strict=True) if w]
    assert not (flags & ~is_warm).any()  # without the gate, only warm turns are flagged
    assert is_warm.tolist() == [False, True] and flags.tolist() == [False, True]
    fake.seen.clear()
    clf.sarcasm_cross_gate = True
    p, flags = clf._sarcastic(items, S, P_surf)
    read = is_warm | (head >= 0.2)
    assert fake.seen == [it.text for it, r in zip(items, read, strict=True) if r]
    for i in range(2):
        c = (1.0 if "policy" in items[i].text else 0.0) if read[i] else None
        expected = head[i] if c is None else 0.5 * head[i] + 0.5 * c
        assert p[i] == pytest.approx(expected)
        assert flags[i] == (expected >= 0.4 and (is_warm[i] or (c is not None and c >= 0.5)))
    assert flags.tolist() == [True, True]  # the ironic turn now passes through the gate
    assert [q.sarcastic for q in clf.classify(items)] == flags.tolist()
    # the gate bypass without the cross-encoder gate: the cross-encoder also reads the turns
    # whose head probability reaches the bypass, and their mixed probability decides
    fake.seen.clear()
    clf.sarcasm_cross_gate = False
    clf.sarcasm_gate_bypass = float(head[0])
    p, flags = clf._sarcastic(items, S, P_surf)
    assert fake.seen == [it.text for it in items]
    assert p[0] == pytest.approx(0.5 * head[0] + 0.5) and flags.tolist() == [True, True]
    clf.sarcasm_gate_bypass = min(1.0, float(head[0]) + 1e-6)  # the head alone under it
    p, flags = clf._sarcastic(items, S, P_surf)
    assert p[0] == pytest.approx(head[0]) and flags.tolist() == [False, True]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ok thanks", "thanks a lot", "谢谢你", "great"]),
                          st.sampled_from(["", "We can't help.", "Refund issued."]),
                          st.integers(0, 1)), min_size=2, max_size=60),
       st.integers(0, 3))
def test_sarcasm_held_out_part_keeps_identical_turns_together(rows, seed) -> None:  # type: ignore[no-untyped-def]
    from csdialog.emotion import _held_out

    items = [ContextualText(text, (Turn("agent", ctx),) if ctx else ()) for text, ctx, _ in rows]
    y = np.array([lab for _, _, lab in rows])
    held = _held_out(items, y, 3, np.random.default_rng(seed))
    sides: dict[tuple[str, str, int], set[bool]] = {}
    for (text, ctx, lab), h in zip(rows, held.tolist(), strict=True):
        sides.setdefault((text, ctx, lab), set()).add(h)
    for (_, _, lab), side in sides.items():  # never on both sides, unless the class is one turn
        assert len(side) == 1 or sum(k[2] == lab for k in sides) == 1
    for cls in (0, 1):  # every class present gets a held-out part and keeps turns to train on
        n = int((y == cls).sum())
        if n:
            assert 1 <= int(held[y == cls].sum()) <= max(1, n - 1)


def test_sarcasm_threshold_is_the_middle_of_the_f1_plateau() -> None:
    from csdialog.emotion import _plateau_threshold

    rng = np.random.default_rng(0)
    # well separated: every threshold between the two groups gives F1 = 1; the middle wins,
    # not the first grid point that reaches it
    y = np.r_[np.zeros(500), np.ones(500)].astype(int)
    p = np.r_[rng.uniform(0.0, 0.2, 500), rng.uniform(0.8, 1.0, 500)]
    assert 0.45 <= _plateau_threshold(p, y) <= 0.55
    # a sharp optimum (only 0.30 separates the classes) stays where it is
    p = np.r_[np.full(500, 0.29), np.full(500, 0.31)]
    assert _plateau_threshold(p, y) == pytest.approx(0.30)
    # always on the grid's range, also with a single positive
    assert 0.1 <= _plateau_threshold(np.array([0.2, 0.9]), np.array([0, 1])) <= 0.9


# ---------------------------------------------------------------- sarcasm side kept

CONFUSED = [("I don't understand this bill", "confused"), ("wait, what does that mean?",
            "confused"), ("我没看懂这个扣费", "困惑"), ("这是什么意思？", "confused")]


def _probe() -> list[tuple[Dialogue, int]]:
    out = []
    for i, (reply, last) in enumerate([("not our problem", "thanks a lot"),
                                       ("parcel arrives today", "thanks a lot"),
                                       ("no refund", "谢谢你"), ("fixed it", "great, thanks"),
                                       ("please wait longer", "I don't understand this bill"),
                                       ("replacement sent", "this is outrageous")]):
        d = Dialogue(f"p{i}", [Turn("customer", "my parcel is late"), Turn("agent", reply),
                               Turn("customer", last)])
        out.append((d, 2))
    return out


def _pinned(source: EmotionClassifier | str | Path, **kw: object) -> EmotionClassifier:
    data = EMO + CONFUSED
    return EmotionClassifier(ENC, window=2, **kw).fit(  # type: ignore[arg-type]
        [t for t, _ in data], [y for _, y in data], sarcasm_from=source)


def test_sarcasm_from_keeps_flags_and_scores_while_the_labels_change() -> None:
    source = _fit(window=2)
    clf = _pinned(source)
    probe = _probe()
    assert "confused" in clf.classes_ and "confused" not in source.classes_
    np.testing.assert_array_equal(clf.sarcasm_proba(probe), source.sarcasm_proba(probe))
    new, old = clf.classify(probe), source.classify(probe)
    assert [p.sarcastic for p in new] == [p.sarcastic for p in old]
    assert any(p.sarcastic for p in new) and not all(p.sarcastic for p in new)
    assert [p.sarcasm_score for p in new] == [p.sarcasm_score for p in old]
    # labels and the surface reading come from the new label head
    assert new[4].label == "confused" and new[4].surface == "confused"
    assert clf.sarcasm_emotion_ is not None and source.sarcasm_emotion_ is None
    # the source is untouched and still reads its own head
    assert source._sarcasm_reader() is source.emotion_


def test_sarcasm_from_a_pinned_model_and_from_a_folder(tmp_path: Path) -> None:
    source = _fit(window=2)
    first = _pinned(source)
    second = _pinned(first)  # a chain keeps the original reader
    probe = _probe()
    np.testing.assert_array_equal(second.sarcasm_proba(probe), source.sarcasm_proba(probe))
    source.save_pretrained(tmp_path / "src")
    from_folder = _pinned(tmp_path / "src")
    np.testing.assert_allclose(from_folder.sarcasm_proba(probe), source.sarcasm_proba(probe),
                               rtol=1e-6, atol=1e-7)


def test_pinned_model_round_trips_and_is_marked_for_older_readers(tmp_path: Path) -> None:
    source = _fit(window=2)
    clf = _pinned(source)
    probe = _probe()
    clf.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert config["format_version"] == 2 and config["sarcasm_emotion"] == "sarcasm_emotion"
    assert (tmp_path / "m" / "sarcasm_emotion" / "config.json").exists()
    back = EmotionClassifier.from_pretrained(tmp_path / "m", encoder=ENC)
    assert [p.to_dict() for p in back.classify(probe)] == [p.to_dict()
                                                           for p in clf.classify(probe)]
    source.save_pretrained(tmp_path / "plain")  # without a pinned reader: version 1 as before
    plain = json.loads((tmp_path / "plain" / "config.json").read_text(encoding="utf-8"))
    assert plain["format_version"] == 1 and plain["sarcasm_emotion"] is None
    assert not (tmp_path / "plain" / "sarcasm_emotion").exists()


def test_sarcasm_from_errors_say_what_to_do() -> None:
    source = _fit(window=2)
    items, ys = _sarcasm_data()
    with pytest.raises(ValidationError, match="pass one of them"):
        EmotionClassifier(ENC, window=2).fit([t for t, _ in EMO], [y for _, y in EMO],
                                             sarcasm_X=items, sarcasm_y=ys,
                                             sarcasm_from=source)
    bare = EmotionClassifier(ENC, window=2).fit([t for t, _ in EMO], [y for _, y in EMO])
    with pytest.raises(ValidationError, match="no sarcasm head"):
        _pinned(bare)
    with pytest.raises(ValidationError, match=r"'window': 2.*'window': 3"):
        EmotionClassifier(ENC, window=3).fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_from=source)
    with pytest.raises(ValidationError, match="sarcasm_praise_gate"):
        _pinned(source, sarcasm_praise_gate=False)
    with pytest.raises(NotFittedError):
        _pinned(EmotionClassifier(ENC, window=2))
    with pytest.raises(ValidationError, match="add turns of at least one of them"):
        EmotionClassifier(ENC, window=2).fit(["thanks", "ok", "why", "fine"],
                                             ["grateful", "neutral", "confused", "neutral"],
                                             sarcasm_from=source)


def test_balanced_class_weights_reach_the_label_head_and_round_trip(tmp_path: Path) -> None:
    data = [*EMO, ("sorry, my mistake", "apologetic")]  # one turn of a rare class
    texts, labels = [t for t, _ in data], [y for _, y in data]
    plain = EmotionClassifier(ENC, window=0, calibrate=False).fit(texts, labels)
    balanced = EmotionClassifier(ENC, window=0, calibrate=False,
                                 class_weight="balanced").fit(texts, labels)
    assert balanced.emotion_.class_weight == "balanced" and plain.emotion_.class_weight is None
    rare = list(balanced.classes_).index("apologetic")
    assert (balanced.predict_proba(["sorry, my mistake"])[0, rare]
            > plain.predict_proba(["sorry, my mistake"])[0, rare])
    back = EmotionClassifier.from_pretrained(balanced.save_pretrained(tmp_path / "b"),
                                             encoder=ENC)
    assert back.class_weight == "balanced"
    with pytest.raises(ValidationError, match="class_weight must be None or 'balanced'"):
        EmotionClassifier(ENC, class_weight="auto").fit(texts, labels)  # type: ignore[arg-type]


def test_gate_bypass_flags_sure_turns_the_gate_blocks_and_round_trips(tmp_path: Path) -> None:
    """A turn the warm-surface gate blocks (no words of thanks or praise, read as negative)
    is flagged when its sarcasm probability reaches ``sarcasm_gate_bypass``; under it the
    gate still applies; the setting is saved, checked, and part of the kept sarcasm side."""
    clf = _fit(window=2)
    failed = (Turn("customer", "my parcel is late"), Turn("agent", "not our problem"))
    items = [ContextualText(t, failed) for t in ("this is outrageous", "气死我了", "ok")]
    p = clf.sarcasm_proba(items)
    assert (p >= clf.sarcasm_threshold_).all()
    assert not any(pr.sarcastic for pr in clf.classify(items))  # the gate blocks them
    cut = float(np.sort(p)[1])  # two of the three reach it
    clf.sarcasm_gate_bypass = cut
    flagged = [pr.sarcastic for pr in clf.classify(items)]
    assert flagged == [bool(x >= cut) for x in p] and sum(flagged) == 2
    assert all(pr.label == pr.meant for pr in clf.classify(items) if pr.sarcastic)
    clf.sarcasm_gate_bypass = 1.0  # nothing reaches it: as without
    assert not any(pr.sarcastic for pr in clf.classify(items))
    clf.sarcasm_gate_bypass = cut
    back = EmotionClassifier.from_pretrained(clf.save_pretrained(tmp_path / "g"), encoder=ENC)
    assert back.sarcasm_gate_bypass == cut
    assert [pr.to_dict() for pr in back.classify(items)] == [pr.to_dict()
                                                             for pr in clf.classify(items)]
    config = json.loads((tmp_path / "g" / "config.json").read_text(encoding="utf-8"))
    del config["params"]["sarcasm_gate_bypass"]  # a folder saved before the setting
    (tmp_path / "g" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    old = EmotionClassifier.from_pretrained(tmp_path / "g", encoder=ENC)
    assert old.sarcasm_gate_bypass is None
    assert not any(pr.sarcastic for pr in old.classify(items))
    for bad in (0, 1.5, True, "0.9"):
        clf.sarcasm_gate_bypass = bad  # type: ignore[assignment]
        with pytest.raises(ValidationError, match="sarcasm_gate_bypass must be None"):
            clf.classify(items)
    clf.sarcasm_gate_bypass = cut
    assert EmotionClassifier(ENC).sarcasm_gate_bypass is None  # off, as shipped
    with pytest.raises(ValidationError, match="sarcasm_gate_bypass"):
        EmotionClassifier(ENC, window=2).fit([t for t, _ in EMO], [y for _, y in EMO],
                                             sarcasm_from=clf)
    kept = EmotionClassifier(ENC, window=2, sarcasm_gate_bypass=cut).fit(
        [t for t, _ in EMO], [y for _, y in EMO], sarcasm_from=clf)
    assert [pr.sarcastic for pr in kept.classify(items)] == flagged


def test_reply_features_widen_the_sarcasm_head_and_round_trip(tmp_path: Path) -> None:
    plain, wide = _fit(window=2), _fit(window=2, sarcasm_reply_features=True)
    assert plain.sarcasm_head_ is not None and wide.sarcasm_head_ is not None
    assert wide.sarcasm_head_.coef.shape[1] == plain.sarcasm_head_.coef.shape[1] + 2 * ENC.dim
    probe = _probe()
    back = EmotionClassifier.from_pretrained(wide.save_pretrained(tmp_path / "w"), encoder=ENC)
    assert back.sarcasm_reply_features
    assert [p.to_dict() for p in back.classify(probe)] == [p.to_dict()
                                                           for p in wide.classify(probe)]
    # a turn with no reply before it reads zeros, not another turn's reply
    S, _, _ = wide._sarcasm_features([ContextualText("thanks a lot", ())])
    assert not S[0, -2 * ENC.dim:].any()
    with pytest.raises(ValidationError, match="sarcasm_reply_features"):
        _pinned(wide)  # the kept sarcasm side reads features this classifier would not


def test_sarcasm_C_auto_chooses_from_the_grid_uses_it_and_round_trips(tmp_path: Path) -> None:
    """``sarcasm_C="auto"``: a value of the grid, the one the head was then fitted with
    (same arrays as that number given directly); saved, reloaded; folders written before
    the setting keep their number."""
    from csdialog.emotion import SARCASM_C_GRID

    auto = _fit(window=2, sarcasm_C="auto")
    assert auto.sarcasm_C_ in SARCASM_C_GRID
    fixed = _fit(window=2, sarcasm_C=auto.sarcasm_C_)
    assert fixed.sarcasm_C_ == auto.sarcasm_C_
    assert auto.sarcasm_head_ is not None and fixed.sarcasm_head_ is not None
    np.testing.assert_array_equal(auto.sarcasm_head_.coef, fixed.sarcasm_head_.coef)
    assert _fit(window=2, sarcasm_C="auto").sarcasm_C_ == auto.sarcasm_C_  # seeded
    folder = auto.save_pretrained(tmp_path / "emo")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["sarcasm_C"] == auto.sarcasm_C_ and cfg["params"]["sarcasm_C"] == "auto"
    loaded = EmotionClassifier.from_pretrained(folder, encoder=ENC)
    assert loaded.sarcasm_C == "auto" and loaded.sarcasm_C_ == auto.sarcasm_C_
    del cfg["sarcasm_C"]
    cfg["params"]["sarcasm_C"] = 3.0
    (folder / "config.json").write_text(json.dumps(cfg))
    assert EmotionClassifier.from_pretrained(folder, encoder=ENC).sarcasm_C_ == 3.0
    assert EmotionClassifier(ENC).fit([t for t, _ in EMO], [y for _, y in EMO]).sarcasm_C_ == 1.0


def _noise_and_signal() -> tuple[list[ContextualText], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    items = [ContextualText(f"turn {i} " + " ".join(rng.choice(list("abcdefghij"), 4)),
                            (Turn("agent", FAIL[i % 4] if i % 2 else SOLVE[i % 4]),))
             for i in range(120)]
    signal = np.array([i % 2 == 1 for i in range(120)])  # the reply decides
    noise = rng.permutation(signal)  # labels unrelated to the turns
    return items, signal, noise


def test_sarcasm_C_auto_regularises_noise_and_trusts_signal() -> None:
    """Labels that nothing in the turns predicts get the strongest regularisation of the
    grid; labels the context decides get a weaker one."""
    from csdialog.emotion import SARCASM_C_GRID

    items, signal, noise = _noise_and_signal()
    emo = ([t for t, _ in EMO], [y for _, y in EMO])
    chosen = {}
    for name, y in (("noise", noise), ("signal", signal)):
        clf = EmotionClassifier(ENC, window=1, sarcasm_C="auto", sarcasm_threshold=0.5)
        chosen[name] = clf.fit(*emo, sarcasm_X=items, sarcasm_y=list(y)).sarcasm_C_
    assert chosen["noise"] == SARCASM_C_GRID[0]
    assert chosen["signal"] is not None and chosen["signal"] > SARCASM_C_GRID[0]


@pytest.mark.parametrize("bad", [0, -1.0, "big", True, float("inf"), None])
def test_sarcasm_C_must_be_positive_or_auto(bad: object) -> None:
    with pytest.raises(ValidationError, match="sarcasm_C must be a positive number or 'auto'"):
        _fit(sarcasm_C=bad)


def test_sarcasm_C_auto_says_when_there_is_too_little_to_cross_validate() -> None:
    ctx = (Turn("agent", "no refund"),)
    items = [ContextualText("thanks a lot", ctx)] * 6 + [ContextualText(t, ctx) for t in THANKS]
    ys = [False] * 6 + [True] * 4
    with pytest.raises(ValidationError, match=r"at least 2 distinct sarcastic and 2 distinct "
                                              r"sincere turns.*got 4 and 1"):
        EmotionClassifier(ENC, sarcasm_C="auto").fit(
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_X=items, sarcasm_y=ys)


@pytest.mark.parametrize(("text", "complaint"), [
    ("Thanks for checking, but that doesn't solve anything.", True),
    ("Thank you for your time. However, I'm no further forward.", True),
    ("谢谢回复，不过说明书我看过了", True),
    ("謝謝～不過這沒有回答到我的問題耶", True),
    ("感谢回复，只是我还是不明白", True),
    ("谢谢，但这样我们还是每晚都睡不好", True),
    ("Thanks a lot, great job", False),  # no turn
    ("Thanks, but hey, top advice, great", False),  # praise after the turn: irony
    ("谢谢你们，不但快而且好", False),  # 不但 is not a contrast
    ("But the parcel never came, thanks", False),  # the contrast comes before the thanks
    ("This is useless", False),  # no thanks at all
])
def test_polite_complaint_words(text: str, complaint: bool) -> None:
    from csdialog.emotion import _polite_complaint

    assert _polite_complaint(text) is complaint


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_polite_complaint_needs_words_of_thanks(text: str) -> None:
    from csdialog.emotion import _THANKS_WORDS, _polite_complaint

    assert _polite_complaint(text) in (True, False)
    if not _THANKS_WORDS.search(text):
        assert not _polite_complaint(text)


def _gate_setting_round_trips(clf: EmotionClassifier, name: str, items: list[ContextualText],
                              flags: list[bool], folder: Path) -> None:
    """A gate setting (on in ``clf``) is saved and reloaded with the same flags, reads as
    off from a folder saved before it existed, and is part of the kept sarcasm side: a
    classifier with it off refuses ``sarcasm_from=clf``, one with the default keeps the
    flags."""
    back = EmotionClassifier.from_pretrained(clf.save_pretrained(folder), encoder=ENC)
    assert getattr(back, name) is True
    back.sarcasm_threshold_ = 0.0
    assert [pr.sarcastic for pr in back.classify(items)] == flags
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    del config["params"][name]  # a folder saved before the setting
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert getattr(EmotionClassifier.from_pretrained(folder, encoder=ENC), name) is False
    with pytest.raises(ValidationError, match=name):
        EmotionClassifier(ENC, window=2, **{name: False}).fit(  # type: ignore[arg-type]
            [t for t, _ in EMO], [y for _, y in EMO], sarcasm_from=clf)
    kept = EmotionClassifier(ENC, window=2).fit(
        [t for t, _ in EMO], [y for _, y in EMO], sarcasm_from=clf)
    kept.sarcasm_threshold_ = 0.0
    assert [pr.sarcastic for pr in kept.classify(items)] == flags


def test_complaint_gate_keeps_polite_complaints_unflagged_and_round_trips(
        tmp_path: Path) -> None:
    """With ``sarcasm_complaint_gate`` a polite complaint (thanks, then "but" and no warm
    word after it) is never flagged, whatever its probability; sarcastic thanks still are;
    the setting is saved, on by default, off in old folders, and part of the kept sarcasm
    side."""
    clf = _fit(window=2, sarcasm_complaint_gate=False)
    clf.sarcasm_threshold_ = 0.0  # every warm turn passes the threshold: the gates decide
    failed = (Turn("customer", "my parcel is late"), Turn("agent", "not our problem"))
    items = [ContextualText(t, failed) for t in (
        "thanks a lot", "thanks for checking, but that does not help",
        "谢谢你，不过还是没解决", "thanks, but great job, really")]
    assert [pr.sarcastic for pr in clf.classify(items)] == [True, True, True, True]
    clf.sarcasm_complaint_gate = True
    gated = [pr.sarcastic for pr in clf.classify(items)]
    assert gated == [True, False, False, True]
    np.testing.assert_array_equal(clf.sarcasm_proba(items), _fit(window=2).sarcasm_proba(items))
    assert EmotionClassifier(ENC).sarcasm_complaint_gate is True  # on by default, as shipped
    _gate_setting_round_trips(clf, "sarcasm_complaint_gate", items, gated, tmp_path / "c")


@pytest.mark.parametrize(("text", "marked"), [
    ("呵呵", True),
    ("呵呵，你们真行", True),
    ("了解🙄", True),
    ("好的🙂", True),
    ("What a surprise.", True),
    ("Lucky me.", True),
    ("yeah right", True),
    ("Oh sure, why not", True),
    ("Third time's the charm", True),
    ("满意极了，等了一个半小时", True),
    ("失望极了", False),  # an intensifier on a negative word: a plain complaint
    ("服了", False),  # plain exasperation as often as irony
    ("哈哈哈😂", False),  # laughter: sincere fun as often as irony
    ("I like classical music", False),  # "classic" as a whole word only
    ("The parcel is late", False),
])
def test_irony_markers(text: str, marked: bool) -> None:
    from csdialog.emotion import _IRONY_MARKERS

    assert bool(_IRONY_MARKERS.search(text)) is marked


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=80))
def test_irony_markers_in_ascii_are_whole_phrases(text: str) -> None:
    """In ASCII text only the English phrases can mark irony, as whole words."""
    from csdialog.emotion import _IRONY_MARKERS

    m = _IRONY_MARKERS.search(text)
    if m is not None:
        start, end = m.span()
        assert start == 0 or not text[start - 1].isalnum()
        assert end == len(text) or not text[end].isalnum()


def test_marker_gate_opens_the_gate_for_marked_turns_and_round_trips(tmp_path: Path) -> None:
    """With ``sarcasm_marker_gate`` a turn with a marker of irony counts as warm (the
    sarcasm probability then decides); other turns keep their flags and every probability
    is unchanged; the setting is saved, on by default (as shipped since stop 43), off in old
    folders, and part of the kept sarcasm side."""
    assert EmotionClassifier(ENC).sarcasm_marker_gate is True
    clf = _fit(window=2, sarcasm_marker_gate=False)
    clf.sarcasm_threshold_ = 0.0  # every warm turn passes the threshold: the gates decide
    failed = (Turn("customer", "my parcel is late"), Turn("agent", "not our problem"))
    items = [ContextualText(t, failed) for t in (
        "呵呵", "what a surprise 🙄", "the parcel is late", "ok")]
    off = [pr.sarcastic for pr in clf.classify(items)]
    assert off[:2] == [False, False]  # the deterministic encoder reads them as not warm
    clf.sarcasm_marker_gate = True
    on = [pr.sarcastic for pr in clf.classify(items)]
    assert on[:2] == [True, True] and on[2:] == off[2:]
    np.testing.assert_array_equal(clf.sarcasm_proba(items),
                                  _fit(window=2, sarcasm_marker_gate=False).sarcasm_proba(items))
    _gate_setting_round_trips(clf, "sarcasm_marker_gate", items, on, tmp_path / "m")
