"""IntentClassifier with the real default encoder (marked ``model``; runs in CI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from csdialog import Dialogue, Turn
from csdialog.intent import IntentClassifier
from csdialog.training import FineTuneArgs

pytestmark = pytest.mark.model

TRAIN = [
    ("快递什么时候到?", "delivery"), ("我的包裹到哪了", "delivery"), ("物流怎么还没更新", "delivery"),
    ("When will my parcel arrive?", "delivery"), ("Where is my package?", "delivery"),
    ("我要退款", "refund"), ("怎么申请退款?", "refund"), ("钱什么时候退回来", "refund"),
    ("I want a refund", "refund"), ("Please give me my money back", "refund"),
    ("面膜B为什么这么贵?", "price"), ("有优惠吗?能便宜点吗", "price"), ("价格太高了", "price"),
    ("Why is this so expensive?", "price"), ("Is there a discount?", "price"),
]
TEST = [("包裹什么时候能送到", "delivery"), ("退款多久到账?", "refund"), ("能打个折吗", "price"),
        ("my order still hasn't been delivered", "delivery"), ("refund my order", "refund")]


def test_head_on_default_encoder_zh_en_and_traditional(e5_encoder, no_network) -> None:  # type: ignore[no-untyped-def]
    clf = IntentClassifier(e5_encoder, window=2).fit([t for t, _ in TRAIN], [y for _, y in TRAIN])
    assert clf.predict([t for t, _ in TEST]).tolist() == [y for _, y in TEST]
    assert clf.predict(["包裹什麼時候能送到", "退款多久到帳?"]).tolist() == ["delivery", "refund"]
    d = Dialogue("d", [Turn("customer", "你好"), Turn("agent", "您好,请问有什么可以帮您?"),
                       Turn("customer", "我想退款")])
    assert clf.classify([(d, 2)])[0].label == "refund"


def test_zero_shot_on_default_encoder(e5_encoder, no_network) -> None:  # type: ignore[no-untyped-def]
    clf = IntentClassifier(e5_encoder, method="zero-shot", window=0, label_descriptions={
        "delivery": "快递物流 配送 包裹什么时候到", "refund": "退款 退钱",
        "price": "价格 太贵 优惠"}).fit()
    acc = np.mean(clf.predict([t for t, _ in TEST]) == np.array([y for _, y in TEST]))
    assert acc >= 0.8


def test_finetune_end_to_end_and_reload(e5_encoder, tmp_path: Path, no_network) -> None:  # type: ignore[no-untyped-def]
    args = FineTuneArgs(loss="contrastive", epochs=1, batch_size=8, seed=0)
    clf = IntentClassifier(e5_encoder, method="finetune", window=0, finetune_args=args).fit(
        [t for t, _ in TRAIN], [y for _, y in TRAIN],
        validation=[t for t, _ in TEST], validation_y=[y for _, y in TEST])
    assert clf.encoder_.name == "e5-small-ft" and clf.finetune_log_ is not None
    assert len(clf.finetune_log_.epochs) == 1
    assert np.mean(clf.predict([t for t, _ in TEST]) == np.array([y for _, y in TEST])) >= 0.8
    folder = clf.save_pretrained(tmp_path / "ft")
    assert (folder / "encoder" / "model.safetensors").is_file()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))
    loaded = IntentClassifier.from_pretrained(folder)
    probe = [t for t, _ in TEST]
    np.testing.assert_allclose(loaded.predict_proba(probe), clf.predict_proba(probe), atol=1e-5)
    assert loaded.predict(probe).tolist() == clf.predict(probe).tolist()
    # the base encoder was not changed by fine-tuning
    base = IntentClassifier(e5_encoder, window=0).fit([t for t, _ in TRAIN], [y for _, y in TRAIN])
    assert base.encoder_ is e5_encoder
