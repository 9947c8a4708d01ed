from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdialog import Dialogue, ModelFolderError, NotFittedError, Turn, ValidationError, read_chats
from csdialog.encoders import HashingEncoder
from csdialog.evaluation import clustering_scores, hungarian_accuracy
from csdialog.viewpoints import (
    Question,
    ViewpointClusterer,
    ctfidf_keywords,
    extract_questions,
    is_question,
    normalize_question,
)

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "sample_chats.jsonl"

GROUPS = {
    "price": ["面膜B为什么贵", "面膜B为什么这么贵啊", "面膜B为啥这么贵", "面膜B凭什么这么贵",
              "面膜B贵在哪里"],
    "delivery": ["快递什么时候到", "快递几时到", "快递什么时候能到", "快递多久能到",
                 "我的快递什么时候到"],
    "refund": ["怎么申请退款", "退款怎么申请", "如何申请退款", "申请退款怎么弄", "退款在哪里申请"],
}


def _questions() -> tuple[list[str], list[str]]:
    texts, gold = [], []
    for g, qs in GROUPS.items():
        texts += qs
        gold += [g] * len(qs)
    return texts, gold


def _fit(**kw: object) -> ViewpointClusterer:
    texts, _ = _questions()
    return ViewpointClusterer(encoder=HashingEncoder(dim=256), min_cluster_size=2, **kw).fit(texts)  # type: ignore[arg-type]


# ---------------------------------------------------------------- question extraction


def test_question_rules() -> None:
    assert is_question("面膜B这么贵,它贵在哪里?")
    assert is_question("快递什么时候到")
    assert is_question("能退吗")
    assert is_question("When will it arrive")
    assert not is_question("好的,谢谢你")
    assert not is_question("在吗?")
    assert not is_question("thanks a lot.")
    assert not is_question("")


def test_extract_questions_from_dialogues() -> None:
    d = Dialogue("d1", [Turn("customer", "你好,在吗?面膜B为什么这么贵"),
                        Turn("agent", "请问您想了解什么?"),
                        Turn("customer", "谢谢。When will it ship?")], product="面膜B")
    qs = extract_questions([d])
    assert [(q.text, q.turn_index, q.product) for q in qs] == [
        ("面膜B为什么这么贵", 0, "面膜B"), ("When will it ship?", 2, "面膜B")]
    assert extract_questions([d], roles=["agent"])[0].text == "请问您想了解什么?"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_property_question_helpers_never_crash(text: str) -> None:
    normalize_question(text)
    is_question(text)
    if text.strip():
        extract_questions([Dialogue("d", [Turn("customer", text)])])


def test_normalize_merges_near_exact_duplicates() -> None:
    assert normalize_question("面膜B为什么这么贵啊?!") == normalize_question("面膜b 为什么这么贵")
    assert normalize_question("ＷＨＹ  so expensive？") == "why so expensive"


# ---------------------------------------------------------------- clustering


def test_fit_groups_paraphrases() -> None:
    texts, gold = _questions()
    vc = _fit()
    scores = clustering_scores(gold, vc.labels_)
    assert scores["ari"] > 0.6, scores
    v = vc.viewpoints_[0]
    assert v.viewpoint_id == "vp-0001" and v.size >= 3 and 0 < v.share <= 1
    assert v.label in texts and v.keywords and v.examples
    assert sum(x.size for x in vc.viewpoints_) <= len(texts)


def test_repeats_counted_and_popular_wording_stands_alone() -> None:
    texts = ["发票怎么开"] * 4 + ["发票怎么开?"] + ["面膜B为什么贵"]
    vc = ViewpointClusterer(encoder=HashingEncoder(dim=64), min_cluster_size=3).fit(texts)
    assert len(vc.viewpoints_) == 1
    v = vc.viewpoints_[0]
    assert (v.size, v.n_distinct, v.label) == (5, 1, "发票怎么开")
    assert list(vc.labels_) == [0] * 5 + [-1]


def test_independent_of_input_order() -> None:
    texts, _ = _questions()
    a = _fit()
    shuffled = texts[:]
    random.Random(3).shuffle(shuffled)
    b = ViewpointClusterer(encoder=HashingEncoder(dim=256), min_cluster_size=2).fit(shuffled)
    assert [v.to_dict() for v in a.viewpoints_] == [v.to_dict() for v in b.viewpoints_]
    assert a.assign(texts) == b.assign(texts)


def test_assign_save_load_identical(tmp_path: Path) -> None:
    texts, _ = _questions()
    vc = _fit()
    new = ["快递到底什么时候到", "面膜B为什么那么贵", "你们几点下班", "退款如何申请"]
    before = vc.assign(new)
    assert before[0] == vc.assign(["快递什么时候到"])[0]
    vc.save_pretrained(tmp_path / "vp")
    assert not list((tmp_path / "vp").glob("*.pkl"))
    loaded = ViewpointClusterer.from_pretrained(tmp_path / "vp", encoder=HashingEncoder(dim=256))
    assert loaded.assign(new) == before
    assert loaded.assign(texts) == vc.assign(texts)
    assert [v.to_dict() for v in loaded.viewpoints_] == [v.to_dict() for v in vc.viewpoints_]


def test_fitted_questions_keep_their_viewpoint_in_assign(tmp_path: Path) -> None:
    """fit(X).predict(X) == labels_: an outlier attached at fit (below the assign threshold)
    and a question left unassigned keep their fit-time answer, also after save / load."""
    texts, _ = _questions()
    stray = ["你们几点下班", "面膜B有没有小样"]
    vc = _fit(outlier_threshold=0.0, assign_threshold=0.99)  # attach everything, assign little
    fitted = [vc.viewpoints_[g].viewpoint_id if g >= 0 else None for g in vc.labels_]
    by_cosine = ViewpointClusterer.from_pretrained(vc.save_pretrained(tmp_path / "a"),
                                                   encoder=HashingEncoder(dim=256))
    by_cosine.members_ = {}  # the rule for new wordings alone
    assert by_cosine.assign(texts) != fitted  # so the test below can fail
    assert vc.assign(texts) == fitted and vc.predict(texts).tolist() == vc.labels_.tolist()
    assert vc.assign(["面膜B为什么贵？？"]) == vc.assign(["面膜B为什么贵"])  # same key
    loaded = ViewpointClusterer.from_pretrained(vc.save_pretrained(tmp_path / "b"),
                                                encoder=HashingEncoder(dim=256))
    assert loaded.assign(texts) == fitted
    # partial_fit remembers what it assigned and what it clustered anew
    vc.partial_fit(stray + texts[:2])
    ids = vc.assign(stray + texts[:2])
    assert ids == [vc.viewpoints_[g].viewpoint_id if g >= 0 else None for g in vc.labels_]
    assert ids[2:] == fitted[:2]
    # a folder saved before the fitted keys were kept assigns every question by its cosine
    cfg = json.loads((tmp_path / "b" / "config.json").read_text())
    del cfg["members"]
    (tmp_path / "b" / "config.json").write_text(json.dumps(cfg))
    old = ViewpointClusterer.from_pretrained(tmp_path / "b", encoder=HashingEncoder(dim=256))
    assert old.members_ == {} and old.assign(texts) == by_cosine.assign(texts)
    for bad in ({"x": 99}, {"x": "1"}, ["x"]):
        cfg["members"] = bad
        (tmp_path / "b" / "config.json").write_text(json.dumps(cfg))
        with pytest.raises(ModelFolderError, match="members"):
            ViewpointClusterer.from_pretrained(tmp_path / "b", encoder=HashingEncoder(dim=256))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([q for qs in GROUPS.values() for q in qs]
                                + ["你们几点下班", "有小样吗", "??", "Ａ"])
                .map(lambda t: t + "？" * (len(t) % 2)), min_size=1, max_size=25),
       st.floats(0.0, 0.99))
def test_property_predict_repeats_the_fit(texts: list[str], assign: float) -> None:
    vc = ViewpointClusterer(encoder=HashingEncoder(dim=64), min_cluster_size=2,
                            outlier_threshold=0.0, assign_threshold=assign).fit(texts)
    assert vc.predict(texts).tolist() == vc.labels_.tolist()


def test_saved_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match="missing"):
        ViewpointClusterer.from_pretrained(tmp_path)
    vc = _fit()
    vc.save_pretrained(tmp_path / "vp")
    (tmp_path / "vp" / "arrays.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFolderError, match="checksum"):
        ViewpointClusterer.from_pretrained(tmp_path / "vp", encoder=HashingEncoder(dim=256))
    cfg = json.loads((tmp_path / "vp" / "config.json").read_text())
    del cfg["arrays_sha256"]  # a folder without a checksum still fails cleanly
    (tmp_path / "vp" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="corrupted"):
        ViewpointClusterer.from_pretrained(tmp_path / "vp", encoder=HashingEncoder(dim=256))


def test_partial_fit_keeps_ids_and_adds_new_viewpoints() -> None:
    vc = _fit()
    old = {v.viewpoint_id: v.label for v in vc.viewpoints_}
    new = ["怎么开发票", "如何开发票", "开发票怎么弄", "在哪开发票", "开发票要多久", "快递什么时候到"]
    vc.partial_fit(new)
    now = {v.viewpoint_id: v.label for v in vc.viewpoints_}
    assert all(now[k] == old[k] for k in old)
    added = [v for v in vc.viewpoints_ if v.viewpoint_id not in old]
    assert added and "发票" in added[0].label
    assert vc.assign(["快递什么时候到"])[0] in old


def test_top_by_product_and_frames() -> None:
    qs = [Question(t, product="面膜B" if g == "price" else "快递")
          for t, g in zip(*_questions(), strict=True)]
    vc = ViewpointClusterer(encoder=HashingEncoder(dim=256), min_cluster_size=2).fit(qs)
    assert len(vc.top(2)) <= 2
    table = vc.top(3, by="product")
    assert set(table.columns) >= {"product", "rank", "viewpoint_id", "label", "count"}
    assert set(table["product"]) <= {"面膜B", "快递"}
    frame = vc.to_frame("questions")
    assert len(frame) == len(qs) and "viewpoint_id" in frame
    assert len(vc.to_frame()) == len(vc.viewpoints_)
    with pytest.raises(ValidationError, match="by must be"):
        vc.top(3, by="colour")


def test_errors() -> None:
    vc = ViewpointClusterer(encoder=HashingEncoder(dim=32))
    with pytest.raises(NotFittedError):
        vc.assign(["x"])
    with pytest.raises(ValidationError, match="single string"):
        vc.fit("面膜B为什么贵")
    with pytest.raises(ValidationError, match="empty"):
        vc.fit(["ok", "  "])
    with pytest.raises(ValidationError, match="no questions"):
        vc.fit([])
    with pytest.raises(ValidationError, match="min_cluster_size"):
        ViewpointClusterer(encoder="hashing", min_cluster_size=1).fit(["a", "b"])
    with pytest.raises(ValidationError, match="item 1"):
        vc.fit(["a", 3])
    with pytest.raises(ValidationError, match="unknown parameter"):
        vc.set_params(colour=1)


def test_sklearn_clone() -> None:
    from sklearn.base import clone

    vc = ViewpointClusterer(encoder="hashing", min_cluster_size=4, reduce_dim=8)
    c = clone(vc)
    assert c.get_params() == vc.get_params()


def test_max_fit_samples_assigns_the_rest() -> None:
    texts, _ = _questions()
    many = [f"{t}{'?' * (i % 2)}{' ' * i}x{i}" for i, t in enumerate(texts * 3)]
    vc = ViewpointClusterer(encoder=HashingEncoder(dim=256), min_cluster_size=2,
                            max_fit_samples=20).fit(many)
    assert len(vc.labels_) == len(many)


def test_keywords_chinese_and_english() -> None:
    kw = ctfidf_keywords({0: ["面膜B为什么这么贵", "面膜B贵在哪里"], 1: ["when will my parcel arrive",
                                                              "where is my parcel"]}, top_n=3)
    assert "面膜" in kw[0] and "parcel" in kw[1]


def test_metrics() -> None:
    assert hungarian_accuracy(["a", "a", "b"], [1, 1, 0]) == 1.0
    s = clustering_scores(["a", "a", "b", "b"], [0, 0, 1, -1])
    assert s["coverage"] == 0.75 and s["n_clusters"] == 2
    with pytest.raises(ValidationError):
        clustering_scores(["a"], [0, 1])


# ---------------------------------------------------------------- the real default model


@pytest.mark.model
def test_seed_example_with_default_encoder(no_network: None, e5_encoder: object) -> None:
    seed = ["为什么面膜B比面膜A贵了一百多块钱?", "面膜B这么贵,它贵在哪里?", "快递什么时候到?"]
    vc = ViewpointClusterer(encoder=e5_encoder, min_cluster_size=2)  # type: ignore[arg-type]
    vc.fit(read_chats(SAMPLE))
    ids = vc.assign(seed)
    assert ids[0] is not None and ids[0] == ids[1]
    assert ids[2] != ids[0]
    mask = next(v for v in vc.viewpoints_ if v.viewpoint_id == ids[0])
    assert "面膜" in mask.label and mask.size >= 5
    assert np.isin(vc.labels_, np.arange(len(vc.viewpoints_))).mean() > 0.3


def test_thresholds_auto_explicit_and_uncalibrated_warning() -> None:

    class Unknown:
        name, dim = "my-unknown-encoder", 8

        def encode(self, texts: list[str]) -> np.ndarray:
            return HashingEncoder(dim=8).encode(texts)

    texts, _ = _questions()
    with pytest.warns(UserWarning, match="no calibrated viewpoint thresholds"):
        ViewpointClusterer(encoder=Unknown(), min_cluster_size=2).fit(texts)
    vc = ViewpointClusterer(encoder=Unknown(), min_cluster_size=2, merge_threshold=0.5,
                            outlier_threshold=0.4, assign_threshold=0.99).fit(texts)
    assert (vc.merge_threshold_, vc.outlier_threshold_, vc.assign_threshold_) == (0.5, 0.4, 0.99)
    assert all(a is None for a in vc.assign(["完全无关的问题: 今天天气怎么样"]))


def test_refinement_moves_questions_to_the_nearest_viewpoint() -> None:
    vc = ViewpointClusterer(encoder="hashing", refine_iterations=5)
    Z = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99], [0.2, 0.98], [0.6, 0.8]],
                 dtype=np.float32)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    counts = np.ones(len(Z), dtype=np.int64)
    labels = np.array([0, 0, 1, 1, 0, -1])  # question 4 sits in the wrong group; 5 is noise
    out = vc._refine(Z, counts, labels)
    assert out.tolist() == [0, 0, 1, 1, 1, -1]
    assert vc.set_params(refine_iterations=0)._refine(Z, counts, labels).tolist() == labels.tolist()
    with pytest.raises(ValidationError, match="refine_iterations"):
        ViewpointClusterer(encoder="hashing", refine_iterations=-1).fit(["a?", "b?"])


def test_connectivity_merge_joins_pieces_of_one_question() -> None:
    """Two pieces of one dense group (interleaved: many nearest-neighbour links between
    them) merge; a separate group and noise stay apart; a strict threshold merges nothing."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 8)) * 0.05 + np.eye(8)[0]
    b = rng.normal(size=(20, 8)) * 0.05 + np.eye(8)[1]
    Z = np.vstack([a, b, np.eye(8)[2:3]]).astype(np.float32)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    labels = np.array([3 + i % 2 for i in range(40)] + [7] * 20 + [-1])  # group a split in two
    vc = ViewpointClusterer(encoder="hashing")
    out = vc._connect(Z, labels, 0.12, min_points=10)
    assert set(out[:40].tolist()) == {3} and set(out[40:60].tolist()) == {7} and out[60] == -1
    assert vc._connect(Z, labels, 1.0, min_points=10).tolist() == labels.tolist()
    # a small fit is left alone (the default needs 500 grouped questions)
    assert vc._connect(Z, labels, 0.12).tolist() == labels.tolist()
    # the graph on a seeded sample (max_fit_samples) still merges every question
    sampled = ViewpointClusterer(encoder="hashing", max_fit_samples=30)._connect(
        Z, labels, 0.12, min_points=10)
    assert set(sampled[:40].tolist()) == {3}


def test_connectivity_merge_neighbours_reach_across_adjacent_pieces() -> None:
    """Two adjacent, separately tight pieces of one question (20 each) share no link when
    every question's neighbours fit in its own piece, and merge when the graph has more
    neighbours than a piece holds; a distant group stays apart at either setting."""
    rng = np.random.default_rng(1)
    e = np.eye(8)
    pieces = [rng.normal(size=(20, 8)) * 0.01 + e[0],
              rng.normal(size=(20, 8)) * 0.01 + e[0] + 0.15 * e[3],
              rng.normal(size=(40, 8)) * 0.01 + e[1]]
    Z = np.vstack(pieces).astype(np.float32)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    labels = np.array([0] * 20 + [1] * 20 + [2] * 40)
    vc = ViewpointClusterer(encoder="hashing")
    assert vc._connect(Z, labels, 0.12, n_neighbors=5, min_points=10).tolist() == labels.tolist()
    wide = vc._connect(Z, labels, 0.12, n_neighbors=30, min_points=10)
    assert set(wide[:40].tolist()) == {0} and set(wide[40:].tolist()) == {2}


def test_connect_threshold_auto_off_explicit_and_saved(tmp_path: Path) -> None:
    texts, _ = _questions()
    assert _fit().connect_threshold_ is None  # hashing: not calibrated, off
    vc = _fit(connect_threshold=0.2)
    assert vc.connect_threshold_ == 0.2
    enc = HashingEncoder(dim=256)
    again = ViewpointClusterer.from_pretrained(vc.save_pretrained(tmp_path / "vp"), encoder=enc)
    assert again.connect_threshold_ == 0.2 and again.assign(texts) == vc.assign(texts)
    cfg = json.loads((tmp_path / "vp" / "config.json").read_text())
    del cfg["connect_threshold"], cfg["params"]["connect_threshold"]  # saved before it existed
    (tmp_path / "vp" / "config.json").write_text(json.dumps(cfg))
    assert ViewpointClusterer.from_pretrained(tmp_path / "vp", encoder=enc).connect_threshold_ is None
    for bad in (0, 1.5, True, "high"):
        with pytest.raises(ValidationError, match="connect_threshold"):
            _fit(connect_threshold=bad)
    from csdialog.viewpoints import CALIBRATION

    assert CALIBRATION["e5-small"]["connect"] == 0.12 and "connect" not in CALIBRATION["hashing"]


# ---------------------------------------------------------------------- adapt (self-training)

def _tiny_questions() -> list[str]:
    """Distinct 'questions' in the tiny BERT's vocabulary: English-ish and Chinese-ish."""
    import itertools

    en = [" ".join(p) for n in (2, 3, 4) for p in itertools.product(["hello", "world"], repeat=n)]
    zh = [" ".join(p) for n in (2, 3, 4) for p in itertools.product(["快", "递", "到"], repeat=n)]
    return [t + " ?" for t in en + zh]


def _tiny_adapt_args() -> object:
    from csdialog.training import FineTuneArgs

    return FineTuneArgs(loss="contrastive", epochs=1, batch_size=8, learning_rate=1e-3,
                        lora_rank=2, max_length=16)


def test_adapt_fine_tunes_the_transformer_and_reloads_identically(
        tmp_path: Path, tiny_bert) -> None:  # type: ignore[no-untyped-def]
    from csdialog.encoders import HuggingFaceEncoder

    folder = tiny_bert(tmp_path / "m")
    base = HuggingFaceEncoder(folder, backend="torch", name="tiny")
    texts = _tiny_questions()
    kw = dict(min_cluster_size=2, merge_threshold=0.9, outlier_threshold=0.5,
              assign_threshold=0.6)
    plain = ViewpointClusterer(encoder=base, **kw).fit(texts)
    vc = ViewpointClusterer(encoder=base, adapt=True, adapt_args=_tiny_adapt_args(),
                            **kw).fit(texts)
    assert plain.adapt_log_ is None and vc.adapt_log_ is not None and len(vc.adapt_log_) == 1
    assert vc.encoder_ is not base and vc.encoder_.lora  # adapted: a new encoder, LoRA kept
    assert base.lora is None  # the given encoder is left as it was
    probe = texts[:6]
    assert not np.allclose(vc.encoder_.encode(probe), base.encode(probe))
    assert len(vc.labels_) == len(texts) and vc.viewpoints_
    new = ["hello world world ?", "快 到 ?", "world hello hello world hello ?"]
    before = vc.assign(new)
    vc.save_pretrained(tmp_path / "vp")
    # only the LoRA updates are saved, not the transformer
    assert (tmp_path / "vp" / "arrays.safetensors").stat().st_size < 200_000
    loaded = ViewpointClusterer.from_pretrained(
        tmp_path / "vp", encoder=HuggingFaceEncoder(folder, backend="torch", name="tiny"))
    assert loaded.adapt and loaded.adapt_args == vc.adapt_args
    np.testing.assert_allclose(loaded.encoder_.encode(probe), vc.encoder_.encode(probe),
                               atol=2e-3)  # float16 LoRA updates
    assert loaded.assign(new) == before
    assert loaded.assign(texts) == vc.assign(texts)
    # a plain clusterer saves no LoRA and loads the plain encoder
    plain.save_pretrained(tmp_path / "plain")
    again = ViewpointClusterer.from_pretrained(tmp_path / "plain", encoder=base)
    assert again.encoder_ is base


def test_adapt_concat_adapts_only_its_transformer_parts(
        tmp_path: Path, tiny_bert) -> None:  # type: ignore[no-untyped-def]
    from csdialog.encoders import ConcatEncoder, HuggingFaceEncoder

    folder = tiny_bert(tmp_path / "m")

    def concat() -> ConcatEncoder:
        return ConcatEncoder([HashingEncoder(dim=64),
                              HuggingFaceEncoder(folder, backend="torch", name="tiny")])

    enc = concat()
    texts = _tiny_questions()
    vc = ViewpointClusterer(encoder=enc, adapt=True, adapt_args=_tiny_adapt_args(),
                            min_cluster_size=2, merge_threshold=0.9, outlier_threshold=0.5,
                            assign_threshold=0.6).fit(texts)
    hashing, tiny = vc.encoder_.parts
    assert hashing is enc.parts[0] and tiny is not enc.parts[1] and tiny.lora
    assert vc.encoder_.name == enc.name
    vc.save_pretrained(tmp_path / "vp")
    config = json.loads((tmp_path / "vp" / "config.json").read_text(encoding="utf-8"))
    assert config["adapted_parts"] == [1]
    loaded = ViewpointClusterer.from_pretrained(tmp_path / "vp", encoder=concat())
    assert loaded.assign(texts) == vc.assign(texts)
    with pytest.raises(ModelFolderError, match="adapted part 1 does not exist"):
        ViewpointClusterer.from_pretrained(
            tmp_path / "vp", encoder=HuggingFaceEncoder(folder, backend="torch", name="tiny"))


def test_adapt_errors(tmp_path: Path, tiny_bert) -> None:  # type: ignore[no-untyped-def]
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import FineTuneArgs

    texts, _ = _questions()
    with pytest.raises(ValidationError, match="transformer"):
        ViewpointClusterer(encoder=HashingEncoder(dim=64), adapt=True, min_cluster_size=2,
                           merge_threshold=0.5, outlier_threshold=0.4,
                           assign_threshold=0.5).fit(texts)
    for bad in (FineTuneArgs(loss="contrastive"), FineTuneArgs(loss="softmax", lora_rank=4)):
        with pytest.raises(ValidationError, match="lora_rank > 0"):
            ViewpointClusterer(encoder="hashing", adapt=True, adapt_args=bad).fit(texts)
    with pytest.raises(ValidationError, match="FineTuneArgs"):
        ViewpointClusterer(encoder="hashing", adapt=True, adapt_args={"epochs": 1}).fit(texts)
    with pytest.raises(ValidationError, match="adapt must be"):
        ViewpointClusterer(encoder="hashing", adapt="yes").fit(texts)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="adapt_max_samples"):
        ViewpointClusterer(encoder="hashing", adapt=True, adapt_max_samples=3).fit(texts)
    tiny = HuggingFaceEncoder(tiny_bert(tmp_path / "m"), backend="torch", name="tiny")
    with pytest.raises(ValidationError, match="at least two viewpoints"):  # nothing grouped
        ViewpointClusterer(encoder=tiny, adapt=True, adapt_args=_tiny_adapt_args(),
                           min_cluster_size=2, merge_threshold=1.0, outlier_threshold=1.0,
                           assign_threshold=1.0).fit(["hello ?", "world ?", "快 ?"])


def test_cli_cluster_adapt(tmp_path: Path, tiny_bert) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from csdialog.cli import app

    folder = tiny_bert(tmp_path / "m")
    qs = tmp_path / "q.txt"
    qs.write_text("\n".join(_tiny_questions()) + "\n", encoding="utf-8")
    out = tmp_path / "vp"
    res = CliRunner().invoke(app, ["cluster", str(qs), "--out", str(out), "--encoder",
                                   f"hf:{folder}", "--adapt"])
    assert res.exit_code == 0, res.output
    config = json.loads((out / "clusterer" / "config.json").read_text(encoding="utf-8"))
    assert config["params"]["adapt"] is True and config["adapted_parts"] == [0]
    res = CliRunner().invoke(app, ["cluster", str(tmp_path / "q.txt"), "--out", str(out),
                                   "--encoder", "hashing", "--adapt"])
    assert res.exit_code != 0 and "transformer" in res.output


def test_adapted_thresholds_come_from_their_own_calibration_entry() -> None:
    from csdialog.viewpoints import CALIBRATION

    class Named:  # thresholds are looked up by name only
        name, dim = "e5-small", 4

    vc = ViewpointClusterer(encoder="hashing")
    vc.encoder_ = Named()  # type: ignore[assignment]
    vc._resolve_thresholds()
    assert vc.merge_threshold_ == CALIBRATION["e5-small"]["merge"]
    vc._resolve_thresholds(adapted=True)
    got = (vc.merge_threshold_, vc.outlier_threshold_, vc.assign_threshold_)
    assert got == tuple(CALIBRATION["adapted:e5-small"][k] for k in ("merge", "outlier", "assign"))


# ---------------------------------------------------------------- dialogue context


def _followup_dialogues() -> list[Dialogue]:
    """Follow-ups ("那运费呢") after a price question about mask B or after a delivery
    question: the same words, two different questions."""
    out = []
    for i, (first, reply) in enumerate([
        ("面膜B为什么贵", "面膜B含有玻色因成分"), ("面膜B为什么这么贵啊", "面膜B含玻色因"),
        ("面膜B为啥这么贵", "因为面膜B有玻色因"),
        ("快递什么时候到", "快递明天到达"), ("快递几时到", "快递预计明天到达"),
        ("快递多久能到", "明天快递就到"),
    ]):
        out.append(Dialogue(f"d{i}", [Turn("customer", first), Turn("agent", reply),
                                       Turn("customer", "那运费呢")]))
    return out


def test_extract_questions_carries_the_previous_turn() -> None:
    qs = extract_questions(_followup_dialogues()[:1])
    assert [(q.text, q.context) for q in qs] == [("面膜B为什么贵", None), ("那运费呢", "面膜B含有玻色因成分")]
    with pytest.raises(ValidationError, match="context"):
        Question("那运费呢", context=3)  # type: ignore[arg-type]


def test_context_weight_reads_followups_in_their_dialogue(tmp_path: Path) -> None:
    dialogues = _followup_dialogues()
    kw = dict(encoder=HashingEncoder(dim=256), min_cluster_size=2, merge_threshold=0.7,
              outlier_threshold=0.7, assign_threshold=0.7)
    alone = ViewpointClusterer(context_weight=0.0, **kw).fit(dialogues)  # type: ignore[arg-type]
    assert not alone.context_used_
    follow = [i for i, q in enumerate(alone.questions_) if q.text == "那运费呢"]
    assert len({int(alone.labels_[i]) for i in follow}) == 1  # one wording, one key

    vc = ViewpointClusterer(context_weight=0.5, **kw).fit(dialogues)  # type: ignore[arg-type]
    assert vc.context_used_ and vc.centroids_.shape[1] == 2 * 256
    lab = {(q.dialogue_id, q.text): int(g) for q, g in zip(vc.questions_, vc.labels_, strict=True)}
    # the follow-ups split by what they follow up on: mask B's price or the delivery
    mask, parcel = ({lab[(f"d{d}", "那运费呢")] for d in ds} for ds in ((0, 1, 2), (3, 4, 5)))
    assert len(mask) == len(parcel) == 1 and mask != parcel and min(mask | parcel) >= 0
    # a wording read in three contexts is listed once and counts as one distinct wording
    (v,) = [vc.viewpoints_[g] for g in mask]
    assert v.size == 3 and v.n_distinct == 1 and v.examples == ("那运费呢",)

    # assign reads the context of Question records; identical after save / load
    probe = [Question("那运费呢", context="面膜B的成分是玻色因"),
             Question("那运费呢", context="快递明天就到达"),
             Question("那运费呢", context="面膜B含有玻色因成分")]
    ids = vc.assign(probe)
    assert ids[0] == ids[2] == v.viewpoint_id and ids[1] == vc.viewpoints_[parcel.pop()].viewpoint_id
    back = ViewpointClusterer.from_pretrained(vc.save_pretrained(tmp_path / "vc"),
                                              encoder=HashingEncoder(dim=256))
    assert back.context_used_ and back.assign(probe) == ids
    assert back.context_weight == 0.5


def test_questions_without_context_keep_their_cosine() -> None:
    texts, _ = _questions()
    plain = _fit(context_weight=0.0)
    mixed = _fit(context_weight=0.5)  # texts carry no context: nothing changes
    assert not mixed.context_used_ and np.array_equal(plain.labels_, mixed.labels_)
    # in a fit that does use context, two questions without one keep their texts' cosine
    enc = HashingEncoder(dim=64)
    vc = ViewpointClusterer(encoder=enc, context_weight=0.3)
    vc.encoder_, vc.context_used_ = enc, True
    Z = vc._embed(texts[:3], [None, None, "快递明天到达"])
    own = enc.encode(texts[:3])
    own = own / np.linalg.norm(own, axis=1, keepdims=True)
    assert Z[0] @ Z[1] == pytest.approx(float(own[0] @ own[1]), abs=1e-5)
    assert Z[0] @ Z[2] != pytest.approx(float(own[0] @ own[2]), abs=1e-3)


def test_context_weight_errors_and_old_folders(tmp_path: Path) -> None:
    for bad in (1.0, -0.1, "0.5", True):
        with pytest.raises(ValidationError, match="context_weight"):
            _fit(context_weight=bad)
    folder = _fit().save_pretrained(tmp_path / "vc")
    config = json.loads((folder / "config.json").read_text())
    del config["params"]["context_weight"], config["context_used"]  # as saved before
    (folder / "config.json").write_text(json.dumps(config))
    old = ViewpointClusterer.from_pretrained(folder, encoder=HashingEncoder(dim=256))
    assert old.context_weight == 0.0 and not old.context_used_


def _calibration_script() -> Any:
    """benchmarks/calibrate_viewpoints.py, imported as a module."""
    import sys

    bench = str(Path(__file__).parents[1] / "benchmarks")
    sys.path.insert(0, bench)
    try:
        import calibrate_viewpoints
    finally:
        sys.path.remove(bench)
    return calibrate_viewpoints


def test_calibration_script_runs_on_the_clusterer_as_it_is() -> None:
    """benchmarks/calibrate_viewpoints.py reaches into the clusterer's steps; it must keep
    up with their signatures (it broke once when contexts were added to ``_collapse``)."""
    cal = _calibration_script()
    texts, gold = _questions()
    sets = {"clinc150-val": (texts, gold), "b": (texts[::-1], gold[::-1])}
    enc = HashingEncoder(dim=256)
    best, rows = cal.calibrate("hashing", sets, (texts[:4], ["完全无关的一句话", "zzz qqq"]),
                               merges=[0.5, 0.7], assigns=[0.3, 0.5], encoder=enc)
    assert best["merge"] in (0.5, 0.7) and best["outlier"] in (0.3, 0.5)
    assert 0 <= best["objective"] <= 1 and rows
    cbest, crows = cal.calibrate_connect("hashing", sets, neighbors=[3], thresholds=[0.1, 0.3],
                                         encoder=enc)
    assert cbest["connect_neighbors"] == 3 and cbest["connect"] in (0.1, 0.3)
    assert len(crows) == 3  # off + the two grid points
    jbest, jrows = cal.calibrate_connect("hashing", sets, neighbors=[3], thresholds=[0.1, 0.3],
                                         encoder=enc, merges=[0.5, 0.7])
    assert jbest["merge"] in (0.5, 0.7) and jbest["connect"] in (0.1, 0.3)
    assert len(jrows) == 6  # (off + the two grid points) per merge threshold
    assert all(r.method.startswith("merge=") for r in jrows)


# ---------------------------------------------------------------------- Louvain


class _BlobEncoder:
    """Deterministic test encoder for large fits: question "g<group>-<i>" is its group's
    centre plus seeded noise, so the true grouping is known."""

    name = "blobs"
    dim = 16

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            group, i = text[1:].split("-")
            centre = np.random.default_rng(int(group)).normal(size=self.dim)
            noise = np.random.default_rng(1000 + 97 * int(group) + int(i)).normal(size=self.dim)
            out[row] = centre / np.linalg.norm(centre) + 0.12 * noise / np.sqrt(self.dim)
        return out


def _blob_questions(groups: int = 12, per: int = 100) -> tuple[list[str], list[str]]:
    texts = [f"g{g}-{i}" for g in range(groups) for i in range(per)]
    return texts, [t.split("-")[0] for t in texts]


def test_louvain_finds_the_groups_independent_of_order_and_saves(tmp_path: Path) -> None:
    texts, gold = _blob_questions()  # 1,200 distinct questions: Louvain runs
    kw = dict(encoder=_BlobEncoder(), algorithm="louvain", resolution=4.0, merge_threshold=0.99,
              outlier_threshold=0.5, assign_threshold=0.5, connect_threshold=None)
    vc = ViewpointClusterer(**kw).fit(texts)  # type: ignore[arg-type]
    assert vc.algorithm_ == "louvain" and vc.resolution_ == 4.0
    s = clustering_scores(gold, vc.labels_)
    assert s["ari"] > 0.95 and len(vc.viewpoints_) == 12
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    again = ViewpointClusterer(**kw).fit([texts[i] for i in order])  # type: ignore[arg-type]
    assert again.assign(texts) == vc.assign(texts)
    assert ViewpointClusterer(**kw).fit(texts).labels_.tolist() == vc.labels_.tolist()  # type: ignore[arg-type]
    loaded = ViewpointClusterer.from_pretrained(vc.save_pretrained(tmp_path / "vp"),
                                                encoder=_BlobEncoder())  # type: ignore[arg-type]
    assert loaded.algorithm_ == "louvain" and loaded.resolution_ == 4.0
    assert loaded.assign(texts) == vc.assign(texts)
    # partial_fit clusters 1,200 new questions with Louvain too; the old ids stay
    new_texts = [f"g{g}-{i}" for g in range(12, 24) for i in range(100)]
    before = [v.viewpoint_id for v in vc.viewpoints_]
    vc.partial_fit(new_texts)
    assert [v.viewpoint_id for v in vc.viewpoints_][:12] == before
    assert len(vc.viewpoints_) == 24
    assert clustering_scores([t.split("-")[0] for t in new_texts], vc.labels_)["ari"] > 0.95
    # a far higher resolution splits the groups: the parameter is used
    finer = ViewpointClusterer(**{**kw, "resolution": 40.0}).fit(texts)  # type: ignore[arg-type]
    assert len(finer.viewpoints_) > 12


def test_louvain_small_fits_use_hdbscan_and_auto_follows_calibration(tmp_path: Path) -> None:
    texts, _ = _blob_questions(groups=6, per=50)  # 300 distinct: below Louvain's minimum
    kw = dict(encoder=_BlobEncoder(), merge_threshold=0.99, outlier_threshold=0.5,
              assign_threshold=0.5, connect_threshold=None)
    louvain = ViewpointClusterer(algorithm="louvain", **kw).fit(texts)  # type: ignore[arg-type]
    hdb = ViewpointClusterer(algorithm="hdbscan", **kw).fit(texts)  # type: ignore[arg-type]
    assert louvain.labels_.tolist() == hdb.labels_.tolist()
    vc = ViewpointClusterer(encoder="hashing")
    assert vc._resolve_algorithm({"resolution": 16.0}) == ("louvain", 16.0)
    assert vc._resolve_algorithm({"merge": 0.9}) == ("hdbscan", 24.0)
    assert vc._resolve_algorithm(None) == ("hdbscan", 24.0)
    # adapt=True: the adapted pipeline was calibrated with HDBSCAN, which "auto" keeps
    adapting = ViewpointClusterer(encoder="hashing", adapt=True)
    assert adapting._resolve_algorithm({"resolution": 16.0}) == ("hdbscan", 16.0)
    adapting.set_params(algorithm="louvain")
    assert adapting._resolve_algorithm({"resolution": 16.0}) == ("louvain", 16.0)
    vc.set_params(algorithm="hdbscan", resolution=8)
    assert vc._resolve_algorithm({"resolution": 16.0}) == ("hdbscan", 8.0)
    assert _fit().algorithm_ == "hdbscan"  # hashing has no calibrated resolution
    # folders saved before Louvain existed were fitted with HDBSCAN
    hdb.save_pretrained(tmp_path / "old")
    cfg = json.loads((tmp_path / "old" / "config.json").read_text())
    del cfg["algorithm"], cfg["resolution"], cfg["params"]["algorithm"], cfg["params"]["resolution"]
    (tmp_path / "old" / "config.json").write_text(json.dumps(cfg))
    old = ViewpointClusterer.from_pretrained(tmp_path / "old", encoder=_BlobEncoder())  # type: ignore[arg-type]
    assert old.algorithm_ == "hdbscan" and old.assign(texts) == hdb.assign(texts)
    cfg["algorithm"] = "kmeans"
    (tmp_path / "old" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="algorithm"):
        ViewpointClusterer.from_pretrained(tmp_path / "old", encoder=_BlobEncoder())  # type: ignore[arg-type]
    for bad in ({"algorithm": "kmeans"}, {"resolution": 0}, {"resolution": True},
                {"resolution": "high"}, {"resolution": float("inf")}):
        with pytest.raises(ValidationError, match=r"algorithm|resolution"):
            _fit(**bad)


def test_louvain_calibration_runs_and_needs_a_gain() -> None:
    cal = _calibration_script()
    texts, gold = _questions()
    sets = {"a": (texts, gold)}
    best, rows = cal.calibrate_louvain("hashing", sets, {"r": (texts[::-1], gold[::-1])},
                                      resolutions=[8.0, 16.0, 24.0],
                                      encoder=HashingEncoder(dim=256))
    assert len(rows) == 4 and rows[0].method == "hdbscan"
    # 15 questions: Louvain falls back to HDBSCAN, no gain, so no resolution is chosen
    assert best["resolution"] is None and best["calibration"] == best["calibration_hdbscan"]
