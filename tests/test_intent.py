"""IntentClassifier, the context machinery and the training helpers, on the test encoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdialog import Dialogue, Turn
from csdialog.context import ContextFeaturizer, ContextualText, as_inputs, format_context
from csdialog.datasets import LabelledExample
from csdialog.encoders import HashingEncoder
from csdialog.errors import (
    ColumnMappingError,
    ModelFolderError,
    NotFittedError,
    ValidationError,
)
from csdialog.intent import IntentClassifier, IntentPrediction
from csdialog.training import FineTuneArgs, as_training_data, fit_temperature

ENC = HashingEncoder(dim=128)

TRAIN = [
    ("where is my parcel", "delivery"), ("my parcel has not arrived", "delivery"),
    ("when will the package arrive", "delivery"), ("快递什么时候到", "delivery"),
    ("快递到哪里了", "delivery"), ("parcel still not here", "delivery"),
    ("I want a refund", "refund"), ("give me my money back", "refund"),
    ("refund my order please", "refund"), ("我要退款", "refund"),
    ("怎么退款", "refund"), ("money back for this order", "refund"),
    ("the mask is too expensive", "price"), ("why is it so expensive", "price"),
    ("面膜B为什么这么贵", "price"), ("价格太贵了", "price"),
    ("can you lower the price", "price"), ("is there a discount on the price", "price"),
]


def _fit(**kw: object) -> IntentClassifier:
    texts, labels = zip(*TRAIN, strict=True)
    return IntentClassifier(ENC, **kw).fit(list(texts), list(labels))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- context


def test_as_inputs_accepts_every_form() -> None:
    d = Dialogue("d1", [Turn("customer", "hi"), Turn("agent", "hello"),
                        Turn("customer", "where is my parcel")])
    ex = LabelledExample("refund please", "refund", context=[Turn("agent", "how can I help")])
    items = as_inputs(["plain", (d, 2), d, ex, ContextualText("x", d.turns)], window=1)
    assert [i.text for i in items] == ["plain", "where is my parcel", "hi",
                                       "where is my parcel", "refund please", "x"]
    assert [len(i.context) for i in items] == [0, 1, 0, 1, 1, 1]
    assert items[1].context[0].text == "hello" and items[1].turn_index == 2
    assert items[5].context[0].text == "where is my parcel"


@pytest.mark.parametrize("bad", ["text", 3, [3], [(Dialogue("d", [Turn("c", "x")]), "0")],
                                 [(Dialogue("d", [Turn("c", "x")]), 5)]])
def test_as_inputs_rejects_clearly(bad: object) -> None:
    with pytest.raises(ValidationError):
        as_inputs(bad)


def test_as_inputs_refuses_a_whole_table() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(ValidationError, match=r"frame\['text'\]"):
        as_inputs(frame)
    assert [i.text for i in as_inputs(frame["text"])] == ["a", "b"]


def test_featurizer_blocks_and_roles() -> None:
    f = ContextFeaturizer(HashingEncoder(dim=16), window=2, decay=0.5)
    plain = ContextualText("thanks a lot")
    ctx = ContextualText("thanks a lot", (Turn("customer", "parcel lost"),
                                          Turn("agent", "nothing we can do")))
    F = f.transform([plain, ctx])
    assert F.shape == (2, 64)
    np.testing.assert_allclose(F[0, :16], F[1, :16])  # the target block is the same
    assert not F[0, 16:].any()  # no context -> zeros
    e = HashingEncoder(dim=16).encode(["parcel lost", "nothing we can do", "thanks a lot"])
    np.testing.assert_allclose(F[1, 16:32], e[0], rtol=1e-6)  # customer mean
    np.testing.assert_allclose(F[1, 32:48], e[1], rtol=1e-6)  # agent mean
    np.testing.assert_allclose(F[1, 48:], e[2] * e[1], rtol=1e-5, atol=1e-7)


def test_formatters() -> None:
    item = ContextualText("ok", (Turn("customer", "a"), Turn("agent", "b")))
    assert format_context(item, "roles") == "[customer] a [agent] b"
    assert format_context(item, "plain") == "a b"
    with pytest.raises(ValidationError, match="valid choices"):
        format_context(item, "nope")


# ----------------------------------------------------------------------------- training data


def test_training_data_from_frames_and_errors() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"utterance": ["a", "b"], "intent": ["x", "y"],
                          "history": ["hi\nhello", None]})
    items, labels = as_training_data(frame, text_column="utterance", label_column="intent",
                                     context_column="history")
    assert labels == ["x", "y"] and [len(i.context) for i in items] == [2, 0]
    with pytest.raises(ColumnMappingError, match="utterance"):
        as_training_data(frame)
    with pytest.raises(ValidationError, match="no labels"):
        as_training_data(["a", "b"])
    with pytest.raises(ValidationError, match="2 inputs but 1 labels"):
        as_training_data(["a", "b"], ["x"])
    with pytest.raises(ValidationError, match="label 1"):
        as_training_data(["a", "b"], ["x", None])


def test_training_data_from_hf_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": ["a", "b"], "label": ["x", "y"]})
    assert as_training_data(ds)[1] == ["x", "y"]
    with pytest.raises(ValidationError, match=r"dataset\['train'\]"):
        as_training_data(datasets.DatasetDict({"train": ds}))


def test_fit_temperature_recovers_scale() -> None:
    rng = np.random.default_rng(0)
    true = rng.normal(size=(4000, 5)) * 3
    p = np.exp(true) / np.exp(true).sum(1, keepdims=True)
    y = np.array([rng.choice(5, p=row) for row in p])
    t = fit_temperature(true * 2.0, y)  # over-confident by 2x
    assert 1.8 < t < 2.2


# ----------------------------------------------------------------------------- classifier


def test_head_learns_and_predicts_all_forms() -> None:
    clf = _fit(window=2)
    assert clf.classes_.tolist() == ["delivery", "price", "refund"]
    assert clf.predict(["我的快递什么时候到", "退款怎么弄", "这个价格太贵"]).tolist() == [
        "delivery", "refund", "price"]
    P = clf.predict_proba(["where is my parcel"])
    assert P.shape == (1, 3) and abs(P.sum() - 1) < 1e-6
    d = Dialogue("d", [Turn("customer", "hello"), Turn("agent", "how can I help?"),
                       Turn("customer", "I want a refund")])
    preds = clf.classify([d])
    assert len(preds) == 2 and preds[1].label == "refund"
    assert isinstance(preds[1], IntentPrediction)
    assert set(preds[1].to_dict()) == {"label", "score", "scores", "out_of_scope"}
    with pytest.raises(TypeError):
        preds[1].scores["refund"] = 1.0  # type: ignore[index]


def test_not_fitted_and_bad_params() -> None:
    clf = IntentClassifier(ENC)
    with pytest.raises(NotFittedError):
        clf.predict(["x"])
    with pytest.raises(AttributeError):  # NotFittedError is also an AttributeError
        clf.predict_proba(["x"])
    with pytest.raises(ValidationError, match="method"):
        IntentClassifier(ENC, method="magic").fit(["a", "b"], ["x", "y"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs training examples"):
        IntentClassifier(ENC).fit()
    with pytest.raises(ValidationError, match="at least two"):
        IntentClassifier(ENC, calibrate=False).fit(["a", "b"], ["x", "x"])


def test_zero_shot_from_descriptions() -> None:
    clf = IntentClassifier(ENC, method="zero-shot", window=0, label_descriptions={
        "delivery": "where is my parcel delivery 快递", "refund": "refund money back 退款"})
    clf.fit()
    assert clf.predict(["parcel delivery late", "退款"]).tolist() == ["delivery", "refund"]


def test_context_changes_the_decision() -> None:
    """The same words mean different intents after different agent turns, and the
    context features let the head learn it."""
    rows = []
    for i in range(12):
        rows.append((ContextualText("yes", (Turn("agent", f"shall I refund order {i}?"),)),
                     "refund"))
        rows.append((ContextualText("yes", (Turn("agent", f"shall I track parcel {i}?"),)),
                     "delivery"))
    items, labels = zip(*rows, strict=True)
    with_ctx = IntentClassifier(ENC, window=1, calibrate=False).fit(list(items), list(labels))
    no_ctx = IntentClassifier(ENC, window=0, calibrate=False).fit(list(items), list(labels))
    test = [ContextualText("yes", (Turn("agent", "shall I refund order 99?"),)),
            ContextualText("yes", (Turn("agent", "shall I track parcel 99?"),))]
    assert with_ctx.predict(test).tolist() == ["refund", "delivery"]
    assert len(set(no_ctx.predict(test).tolist())) == 1


def test_text_context_mode() -> None:
    clf = _fit(window=2, context_mode="text")
    assert clf.predict(["我要退款"]).tolist() == ["refund"]


def test_out_of_scope_threshold_from_validation() -> None:
    val = ["where is my parcel now", "refund me", "too expensive", "what is the weather",
           "tell me a joke", "who won the match"]
    val_y = ["delivery", "refund", "price", "oos", "oos", "oos"]
    clf = _fit(oos_label="oos").fit(
        [t for t, _ in TRAIN], [lab for _, lab in TRAIN], validation=val, validation_y=val_y)
    assert clf.oos_threshold_ is not None and 0 < clf.oos_threshold_ <= 1
    assert "oos" not in clf.classes_
    preds = clf.classify(val)
    flagged = [p.out_of_scope for p in preds]
    assert sum(flagged[3:]) >= 2 and sum(flagged[:3]) <= 1
    assert all(p.label == "oos" for p in preds if p.out_of_scope)
    fixed = IntentClassifier(ENC, oos_label="oos", oos_threshold=0.99).fit(
        [t for t, _ in TRAIN], [lab for _, lab in TRAIN])
    assert fixed.oos_threshold_ == 0.99


def test_multi_label() -> None:
    rows = [("refund and cancel", ("refund", "cancel")), ("cancel my order", ("cancel",)),
            ("refund please", ("refund",)), ("cancel it and refund", ("cancel", "refund")),
            ("I want to cancel", ("cancel",)), ("money back", ("refund",)),
            ("hello there", ())] * 3
    clf = IntentClassifier(ENC, window=0).fit([r[0] for r in rows], [r[1] for r in rows])
    assert clf.multi_label_ and clf.classes_.tolist() == ["cancel", "refund"]
    pred = clf.predict(["cancel my order", "refund and cancel"])
    assert pred[0] == ("cancel",) and set(pred[1]) == {"cancel", "refund"}
    assert IntentClassifier(ENC).fit([r[0] for r in rows], [r[1] for r in rows]).score(
        [r[0] for r in rows], [r[1] for r in rows]) > 0.8



def test_multi_label_thresholds_per_label_from_held_out_data(tmp_path: Path) -> None:
    import json

    # "refund" is rare in training but common in validation; "cancel" the other way round
    train = [("cancel my order", ("cancel",)), ("I want to cancel", ("cancel",)),
             ("stop the subscription", ("cancel",)), ("refund please", ("refund",)),
             ("cancel it and refund", ("cancel", "refund")), ("hello there", ())] * 4
    val = ([(f"cancel order {i}", ("cancel",)) for i in range(12)]
           + [(f"refund money {i}", ("refund",)) for i in range(12)]
           + [(f"good morning {i}", ()) for i in range(100)])
    clf = IntentClassifier(ENC, window=0).fit([r[0] for r in train], [r[1] for r in train],
                                              validation=[r[0] for r in val],
                                              validation_y=[r[1] for r in val])
    assert clf.label_thresholds_.shape == (2,)
    assert np.all((clf.label_thresholds_ > 0) & (clf.label_thresholds_ < 1))
    # each label's threshold is at least as good for its own F1 as the global one
    P = clf.predict_proba([r[0] for r in val])
    for k, name in enumerate(clf.classes_):
        y = np.array([name in r[1] for r in val])

        def f1(t: float, k: int = k, y: np.ndarray = y) -> float:
            pred = P[:, k] >= t
            return 2 * float((pred & y).sum()) / max(1.0, float(pred.sum() + y.sum()))

        assert f1(clf.label_thresholds_[k]) >= f1(clf.label_threshold_) - 1e-9
    # saved and loaded; a folder written before per-label thresholds falls back to the global
    folder = clf.save_pretrained(tmp_path / "m")
    loaded = IntentClassifier.from_pretrained(folder, encoder=ENC)
    np.testing.assert_array_equal(loaded.label_thresholds_, clf.label_thresholds_)
    assert loaded.predict([r[0] for r in val]).tolist() == clf.predict([r[0] for r in val]).tolist()
    config = json.loads((folder / "config.json").read_text())
    del config["label_thresholds"]
    (folder / "config.json").write_text(json.dumps(config))
    old = IntentClassifier.from_pretrained(folder, encoder=ENC)
    assert old.label_thresholds_.tolist() == [clf.label_threshold_] * 2


def test_multi_label_labels_rare_in_held_out_data_keep_the_global_threshold() -> None:
    rows = [("refund and cancel", ("refund", "cancel")), ("cancel my order", ("cancel",)),
            ("refund please", ("refund",)), ("hello there", ())] * 10
    val = [("cancel order", ("cancel",))] * 3 + [(f"hi {i}", ()) for i in range(120)]
    clf = IntentClassifier(ENC, window=0).fit([r[0] for r in rows], [r[1] for r in rows],
                                              validation=[r[0] for r in val],
                                              validation_y=[r[1] for r in val])
    assert clf.label_thresholds_.tolist() == [clf.label_threshold_] * 2

def test_save_load_identical(tmp_path: Path) -> None:
    clf = _fit(window=2, oos_label="oos", oos_threshold=0.2)
    probe = ["快递到了吗", "refund", "价格", "hello world"]
    folder = clf.save_pretrained(tmp_path / "m", card={"data": "unit test", "metrics": {"acc": 1.0}})
    assert {p.name for p in folder.iterdir()} == {"config.json", "arrays.safetensors",
                                                  "README.md"}
    assert "unit test" in (folder / "README.md").read_text()
    loaded = IntentClassifier.from_pretrained(folder, encoder=ENC)
    np.testing.assert_array_equal(loaded.predict_proba(probe), clf.predict_proba(probe))
    assert loaded.predict(probe).tolist() == clf.predict(probe).tolist()
    assert loaded.window == 2 and loaded.oos_threshold_ == 0.2


def test_load_refuses_broken_folders(tmp_path: Path) -> None:
    clf = _fit(window=0)
    folder = clf.save_pretrained(tmp_path / "m")
    with pytest.raises(ModelFolderError, match="not registered"):
        IntentClassifier.from_pretrained(folder)  # hashing-128 is an object, not a name
    with pytest.raises(ModelFolderError, match="label set or the encoder"):
        IntentClassifier.from_pretrained(folder, encoder=HashingEncoder(dim=64))
    arrays = folder / "arrays.safetensors"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    with pytest.raises(ModelFolderError, match="checksum"):
        IntentClassifier.from_pretrained(folder, encoder=ENC)
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "format": "other"}))
    with pytest.raises(ModelFolderError, match="expected"):
        IntentClassifier.from_pretrained(folder, encoder=ENC)
    (folder / "config.json").unlink()
    with pytest.raises(ModelFolderError, match="missing"):
        IntentClassifier.from_pretrained(folder, encoder=ENC)


def test_deterministic_and_order_independent() -> None:
    a = _fit(window=0)
    b = IntentClassifier(ENC, window=0).fit([t for t, _ in reversed(TRAIN)],
                                            [lab for _, lab in reversed(TRAIN)])
    probe = ["快递", "refund", "贵"]
    np.testing.assert_allclose(a.predict_proba(probe), b.predict_proba(probe), atol=1e-4)


def test_finetune_requires_a_transformer() -> None:
    with pytest.raises(Exception, match="transformer encoder"):
        _fit(method="finetune", finetune_args=FineTuneArgs(epochs=1))


def test_finetune_args_validation() -> None:
    with pytest.raises(ValidationError, match="loss"):
        FineTuneArgs(loss="hinge")
    with pytest.raises(ValidationError, match="epochs"):
        FineTuneArgs(epochs=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=5))
def test_any_text_gets_a_prediction(texts: list[str]) -> None:
    clf = _CLF
    preds = clf.classify(texts)
    assert len(preds) == len(texts)
    for p in preds:
        assert p.label in clf.classes_ and 0.0 <= p.score <= 1.0


_CLF = _fit(window=1)


def test_label_descriptions_as_training_examples() -> None:
    # one example per label; the label names carry words the examples lack
    X = ["where is it", "I want my money", "too much"]
    y = ["parcel_delivery", "refund_request", "price_complaint"]
    probe = ["parcel delivery status", "refund request please", "price complaint"]
    plain = IntentClassifier(ENC, window=0, calibrate=False).fit(X, y)
    named = IntentClassifier(ENC, window=0, calibrate=False, description_examples=True).fit(X, y)
    assert named.n_train_ == plain.n_train_ == 3  # the descriptions are not counted
    assert list(named.predict(probe)) == y
    assert list(plain.predict(probe)) != y
    # explicit descriptions replace the humanised names
    desc = {"parcel_delivery": "快递到哪里了", "refund_request": "我要退款",
            "price_complaint": "价格太贵了"}
    zh = IntentClassifier(ENC, window=0, calibrate=False, description_examples=True,
                          label_descriptions=desc).fit(X, y)
    assert list(zh.predict(["快递到哪里了?", "我要退款!"])) == y[:2]
    # multi-label data: the description example carries only its own label
    ml = IntentClassifier(ENC, window=0, calibrate=False, description_examples=True).fit(
        X, [("parcel_delivery",), ("refund_request",), ("price_complaint", "refund_request")])
    assert ml.multi_label_ and ml.n_train_ == 3
    with pytest.raises(ValidationError, match="description_examples"):
        IntentClassifier(ENC, description_examples="yes").fit(X, y)  # type: ignore[arg-type]
