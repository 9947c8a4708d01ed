"""Answer logics, question/answer types, the matcher and mining (fast, test encoder)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdialog import Dialogue, Turn
from csdialog.answers import (
    AnswerCheck,
    AnswerLogic,
    AnswerLogicMatcher,
    CrossEncoderScorer,
    PairClassifierScorer,
    SimilarityScorer,
    answer_types,
    load_answer_logics,
    mine_from_pairs,
    question_type,
    resolves,
    save_answer_logics,
    type_agreement,
)
from csdialog.answers.types import VALUE_KINDS, value_kinds
from csdialog.datasets import Role, request_reply_pairs
from csdialog.errors import ModelFolderError, NotFittedError, ValidationError
from csdialog.viewpoints import Question

ROOT = Path(__file__).resolve().parents[1]
LOGICS = ROOT / "examples" / "answer_logic.yaml"


@pytest.mark.parametrize("text, expected", [
    ("为什么面膜B比面膜A贵了一百多块钱?", "why"),
    ("面膜B这么贵,它贵在哪里?", "why"),
    ("快递什么时候到?", "when"),
    ("运费多少钱", "how_much"),
    ("How much is the Pro?", "how_much"),
    ("Where is my package?", "where"),
    ("怎么退货啊？", "how"),
    ("Can I get the reference number?", "code"),
    ("敏感肌能用吗", "yes_no"),
    ("好的谢谢", None),
])
def test_question_types(text: str, expected: str | None) -> None:
    assert question_type(text) == expected


@pytest.mark.parametrize("question, reply, expected", [
    ("为什么B贵?", "因为B含有依克多因,原料成本高", True),
    ("为什么B贵?", "亲,商品价格以页面实际显示为准哦", False),
    ("快递什么时候到?", "预计今天下午送达", True),
    ("When will it arrive?", "It is scheduled for delivery this Thursday by 8 pm.", True),
    ("When will it arrive?", "Please be patient.", False),
    ("How much is it?", "It costs 10.1 GBP.", True),
    ("好的谢谢", "不客气", None),
])
def test_type_agreement(question: str, reply: str, expected: bool | None) -> None:
    assert type_agreement(question, reply) is expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_type_rules_never_raise_on_any_text(text: str) -> None:
    qt = question_type(text)
    assert qt is None or isinstance(qt, str)
    assert isinstance(answer_types(text), frozenset)
    assert type_agreement(text, text) in (True, False, None)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_coverage_features_are_bounded_on_any_text(question: str, reply: str) -> None:
    from csdialog.answers.scorers import _ASKABLE, _coverage

    found = value_kinds(reply)
    assert found <= set(VALUE_KINDS)
    vk = np.array([[float(k in found) for k in VALUE_KINDS]])
    F = _coverage([question], vk)[0]
    k = len(_ASKABLE)
    assert F.shape == (2 * k + 3,) and np.isfinite(F).all()
    assert (F[k:2 * k] <= F[:k]).all()                 # given only what was asked
    assert 0 <= F[-2] <= F[-3] and 0.0 <= F[-1] <= 1.0  # missing <= named, share in [0, 1]


@pytest.mark.parametrize("reply, kinds", [
    ("The phone number is 01223362433 and the postcode is cb21qy.", {"phone", "postcode"}),
    ("好的，邮政编码是cb21qy，电话号码是01223362433。", {"phone", "postcode"}),
    ("Booking was successful . Reference number is : AA3V02DD .", {"reference"}),
    ("预订成功，您的参考号是2g8lc07r。", {"reference"}),
    ("The train ID is TR3387 .", {"train_id"}),
    ("TR2775的价格为23.60磅。", {"train_id", "price"}),
    ("The total travel time is 51 minutes .", {"duration"}),
    ("游玩时间是2小时。", {"duration"}),
    ("It leaves at 17:45 .", {"clock"}),
    ("抱歉，没有找到符合条件的餐馆。", {"none_found"}),
    ("Sorry, there are no matches .", {"none_found"}),
    ("It 's a black Volvo .", {"car"}),
    ("It has 4 stars and is in the west .", {"rating", "area"}),
    # what a question names, in Chinese as in English
    ("入场费是多少？", {"price"}),
    ("运费多少钱", {"price"}),
    ("旅程需要多长时间？", {"duration"}),
    ("它在哪个区域？", {"area"}),
    ("你能给我一个联系电话和汽车类型吗？", {"phone", "car"}),
    ("我需要火车ID和旅行时间。", {"train_id", "duration"}),
    ("请告诉我价格范围和食物类型。", {"price_range", "food"}),
    ("How many stars does it have?", {"rating"}),
    ("该酒店位于城镇的西侧。", {"area"}),
    ("它位于莱昂码头的海德堡花园。", {"address"}),
    ("对不起，他们的入场费没有信息。", {"none_found"}),
    ("是的，它有互联网。", {"amenity"}),
    ("酒店有游泳池吗？", {"amenity"}),
    ("你能告诉我门票吗？", {"price"}),
])
def test_value_kinds_are_bilingual(reply: str, kinds: set[str]) -> None:
    found = value_kinds(reply)
    assert kinds <= found, (reply, sorted(found))
    assert found <= set(VALUE_KINDS)


@pytest.mark.parametrize("text, kind", [
    ("需要105分钟。", "rating"),                # minutes, not a score
    ("那条路线的旅行时间是105分钟。", "address"),  # a route, not a road
    ("剑桥铁路宾馆的邮政编码是cb28rj。", "address"),  # a railway in a name
    ("他们位于市中心。", "address"),            # an area, not an address
    ("可以给我7张门票和参考号码吗？", "price"),    # tickets booked, not their price
    ("给我8张派对的门票以及参考号码。", "price"),
    ("我可以得到泳池的地址和电话吗？", "amenity"),  # a pool as the place asked about
])
def test_value_kinds_false_friends(text: str, kind: str) -> None:
    assert kind not in value_kinds(text), (text, sorted(value_kinds(text)))


def test_value_kinds_leave_the_answer_types_alone() -> None:
    assert value_kinds("") == frozenset() and value_kinds(None) == frozenset()  # type: ignore[arg-type]
    assert "car" not in value_kinds("什么车次?")  # a train, not a car
    assert not set(value_kinds("好的谢谢")) & {"phone", "postcode", "reference", "price"}
    assert sorted(answer_types("因为B含有依克多因，原料成本高。")) == ["reason"]


def test_answer_logic_validation_and_keywords() -> None:
    lg = AnswerLogic("p", "因为含有依克多因", keywords=("依克多因|玻色因", "成本"))
    assert lg.missing_keywords("B含有玻色因,成本高") == ()
    assert lg.missing_keywords("B含有玻色因") == ("成本",)
    with pytest.raises(ValidationError, match="answer_type"):
        AnswerLogic("p", "x", answer_type="weather")
    with pytest.raises(ValidationError, match="expected answer"):
        AnswerLogic("p", "  ")
    with pytest.raises(ValidationError, match="unknown field"):
        AnswerLogic.from_dict({"logic_id": "p", "answer": "x", "colour": "red"})


def test_logic_files_round_trip(tmp_path: Path) -> None:
    logics = load_answer_logics(LOGICS)
    assert {lg.logic_id for lg in logics} >= {"mask-b-price", "pro-price"}
    for suffix in (".yaml", ".json"):
        path = save_answer_logics(logics, tmp_path / f"logics{suffix}")
        assert load_answer_logics(path) == logics
    bad = tmp_path / "dup.json"
    bad.write_text(json.dumps([{"logic_id": "a", "answer": "x"}, {"logic_id": "a", "answer": "y"}]))
    with pytest.raises(ValidationError, match="used twice"):
        load_answer_logics(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("logics: [unclosed")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_answer_logics(broken)


def _dialogue() -> Dialogue:
    return Dialogue("d1", (
        Turn("customer", "面膜B为什么比A贵?"),
        Turn("agent", "您好"),
        Turn("agent", "因为B含有依克多因,原料成本高"),
        Turn("customer", "好的。那快递什么时候到?"),
        Turn("agent", "亲亲,请耐心等待哦"),
        Turn("customer", "能开发票吗"),
    ))


class _FixedScorer:
    """Scores a reply 0.9 when it contains a given word, else 0.1."""

    def __init__(self, word: str) -> None:
        self.word = word

    def score(self, questions, replies, logics=None):  # type: ignore[no-untyped-def]
        return np.asarray([0.9 if self.word in r else 0.1 for r in replies])


def test_matcher_finds_the_reply_that_answers(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    m = AnswerLogicMatcher(encoder=hashing_encoder, scorer=_FixedScorer("依克多因"))
    checks = m.check(_dialogue())
    assert [c.question_turn for c in checks] == [0, 3, 5]
    first, second, third = checks
    assert isinstance(first, AnswerCheck)
    assert (first.reply_turn, first.answered, first.type_agrees) == (2, True, True)  # not the greeting
    assert (second.reply_turn, second.answered, second.question_type) == (4, False, "when")
    assert second.type_agrees is False and "when" in second.reason
    assert (third.reply_turn, third.reply, third.answered) == (None, None, False)
    assert "no agent reply" in third.reason


def test_matcher_logic_keywords_are_required(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    logic = AnswerLogic("price", "因为面膜B含有依克多因,这个成分比较珍贵",
                        questions=("面膜B为什么比A贵?",), keywords=("玻色因",))
    m = AnswerLogicMatcher([logic], encoder=hashing_encoder, scorer=_FixedScorer("依克多因"))
    c = m.check(_dialogue())[0]
    assert c.logic_id == "price" and c.logic_score == pytest.approx(1.0, abs=1e-4)
    assert not c.answered and c.missing_keywords == ("玻色因",)
    assert "玻色因" in c.reason


def test_matcher_uses_viewpoint_of_clusterer(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    class Clusterer:
        encoder_ = hashing_encoder

        def assign(self, questions):  # type: ignore[no-untyped-def]
            # the matcher passes Question records, so that the clusterer sees their context
            assert all(isinstance(q, Question) for q in questions)
            return ["vp-9" if "贵" in q.text else None for q in questions]

    logic = AnswerLogic("price", "因为含有依克多因", viewpoint_id="vp-9")
    m = AnswerLogicMatcher([logic], clusterer=Clusterer(), scorer=_FixedScorer("依克多因"))
    checks = m.check([_dialogue()])
    assert (checks[0].viewpoint_id, checks[0].logic_id, checks[0].logic_score) == ("vp-9", "price", 1.0)
    assert checks[1].viewpoint_id is None and checks[1].logic_id is None


def test_matcher_rejects_bad_arguments(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="AnswerLogic"):
        AnswerLogicMatcher([{"logic_id": "a"}], encoder=hashing_encoder)  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="scorer"):
        AnswerLogicMatcher(encoder=hashing_encoder, scorer="magic")
    with pytest.raises(ValidationError, match="threshold"):
        AnswerLogicMatcher(encoder=hashing_encoder, threshold=2)
    with pytest.raises(ValidationError, match="Dialogue"):
        AnswerLogicMatcher(encoder=hashing_encoder).check(["text"])  # type: ignore[list-item]


def test_similarity_scorer_is_a_probability_and_refits(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    s = SimilarityScorer(hashing_encoder)
    p = s.score(["多少钱?", "几点到?"], ["一共99元", "您好"])
    assert p.shape == (2,) and ((p >= 0) & (p <= 1)).all()
    with pytest.raises(ValidationError, match="same length"):
        s.score(["a"], ["b", "c"])
    with pytest.raises(ValidationError, match="weights"):
        SimilarityScorer(hashing_encoder, weights=[1.0])
    q = ["多少钱?", "多少钱?", "几点到?", "几点到?"] * 5
    r = ["一共99元", "您好", "下午3点到", "亲亲"] * 5
    y = [True, False, True, False] * 5
    s.fit(q, r, y)
    refit = s.score(q[:4], r[:4])
    assert refit[0] > refit[1] and refit[2] > refit[3]
    with pytest.raises(ValidationError, match="both"):
        s.fit(q[:2], r[:2], [True, True])


def test_pair_classifier_learns_and_round_trips(hashing_encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFittedError):
        PairClassifierScorer(hashing_encoder).score(["a"], ["b"])
    q = ["多少钱?", "多少钱?", "几点到?", "几点到?", "How much?", "How much?"] * 4
    r = ["一共99元", "您好", "下午3点到", "亲亲", "It is 5 pounds.", "Hello there."] * 4
    y = [True, False] * 12
    pcs = PairClassifierScorer(hashing_encoder).fit(q, r, y)
    s = pcs.score(q[:6], r[:6])
    assert all(s[i] > s[i + 1] for i in (0, 2, 4))
    pcs.save_pretrained(tmp_path / "pcs")
    again = PairClassifierScorer.from_pretrained(tmp_path / "pcs", encoder=hashing_encoder)
    assert again.evidence_weight == pcs.evidence_weight == 2.0
    np.testing.assert_allclose(again.score(q[:6], r[:6]), s)
    # the evidence weight changes the fit (less shrinkage of the hand-made columns)
    plain = PairClassifierScorer(hashing_encoder, evidence_weight=1.0).fit(q, r, y)
    assert not np.allclose(plain.score(q[:6], r[:6]), s)
    for bad in (0, -1.0, float("inf"), float("nan"), True, "2"):
        with pytest.raises(ValidationError, match="evidence_weight"):
            PairClassifierScorer(hashing_encoder, evidence_weight=bad)  # type: ignore[arg-type]
    from csdialog.encoders import HashingEncoder

    with pytest.raises(ModelFolderError, match="dims"):
        PairClassifierScorer.from_pretrained(tmp_path / "pcs", encoder=HashingEncoder(dim=16))
    # a folder saved before the value kinds were part of the design is refused, not misread
    cfg = tmp_path / "pcs" / "config.json"
    old = json.loads(cfg.read_text(encoding="utf-8"))
    old["format_version"] = 1
    cfg.write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(ModelFolderError, match="v1"):
        PairClassifierScorer.from_pretrained(tmp_path / "pcs", encoder=hashing_encoder)


def _band_pairs(n: int, seed: int) -> tuple[list[str], list[str], list[bool]]:
    """Pairs whose label no linear model of the evidence can read: "answered" when the
    reply's length is in a middle band (the booster sees log-length as one of its columns)."""
    rng = np.random.default_rng(seed)
    words = ["price", "parcel", "refund", "today", "order", "colour", "size", "store", "card", "box"]
    q, r, y = [], [], []
    for _ in range(n):
        k = int(rng.integers(1, 16))
        reply = " ".join(rng.choice(words, size=k))
        q.append("where is my " + str(rng.choice(words)) + "?")
        r.append(reply)
        y.append(20 <= len(reply) <= 45)
    return q, r, y


def test_pair_classifier_booster_learns_what_the_linear_model_cannot(
        hashing_encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    from csdialog.answers.scorers import _BOOST_PARAMS, _Trees

    q, r, y = _band_pairs(600, seed=0)
    tq, tr, ty = _band_pairs(300, seed=1)
    linear = PairClassifierScorer(hashing_encoder, boost=False).fit(q, r, y)
    boosted = PairClassifierScorer(hashing_encoder).fit(q, r, y, groups=[i % 50 for i in range(600)])
    assert boosted.boosted_ and not linear.boosted_
    assert roc_auc_score(ty, boosted.score(tq, tr)) > roc_auc_score(ty, linear.score(tq, tr)) + 0.05
    # saved as arrays (no pickle) and read back to the same scores
    boosted.save_pretrained(tmp_path / "b")
    again = PairClassifierScorer.from_pretrained(tmp_path / "b", encoder=hashing_encoder)
    assert again.boosted_
    np.testing.assert_allclose(again.score(tq, tr), boosted.score(tq, tr))
    # too little data for the booster: the linear model alone, said so
    small = PairClassifierScorer(hashing_encoder).fit(q[:100], r[:100], y[:100])
    assert not small.boosted_
    with pytest.raises(ValidationError, match="groups"):
        PairClassifierScorer(hashing_encoder).fit(q, r, y, groups=[1, 2])
    with pytest.raises(ValidationError, match="boost"):
        PairClassifierScorer(hashing_encoder, boost="yes")  # type: ignore[arg-type]
    # the exported trees give scikit-learn's probabilities, missing values included
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    labels = (np.nan_to_num(X[:, 0]) + X[:, 1] ** 2 > 0.5).astype(int)
    model = HistGradientBoostingClassifier(**_BOOST_PARAMS).fit(X, labels)
    trees = _Trees.from_sklearn(model)
    np.testing.assert_allclose(trees.proba(X), model.predict_proba(X)[:, 1], atol=1e-9)
    np.testing.assert_allclose(trees.proba(X, block=64), trees.proba(X))  # in blocks
    assert trees.proba(X[:0]).shape == (0,)


def test_pair_classifier_reads_folders_from_before_the_booster(
        hashing_encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    q, r, y = _band_pairs(300, seed=2)
    pcs = PairClassifierScorer(hashing_encoder, boost=False).fit(q, r, y)
    folder = pcs.save_pretrained(tmp_path / "v3")
    cfg = folder / "config.json"
    old = json.loads(cfg.read_text(encoding="utf-8"))
    for key in ("boost", "boosted", "boost_baseline"):
        old.pop(key)
    old["format_version"] = 3
    cfg.write_text(json.dumps(old), encoding="utf-8")
    again = PairClassifierScorer.from_pretrained(folder, encoder=hashing_encoder)
    assert not again.boosted_ and again.boost is False
    np.testing.assert_allclose(again.score(q[:20], r[:20]), pcs.score(q[:20], r[:20]))
    # a folder that says it has trees but lost them is refused
    boosted = PairClassifierScorer(hashing_encoder).fit(*_band_pairs(300, seed=3))
    bad = boosted.save_pretrained(tmp_path / "bad")
    cfg = bad / "config.json"
    meta = json.loads(cfg.read_text(encoding="utf-8"))
    meta["boost_baseline"] = None
    cfg.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFolderError, match="damaged"):
        PairClassifierScorer.from_pretrained(bad, encoder=hashing_encoder)


def test_mining_groups_replies_and_drops_dodges(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    groups = {"vp-price": [
        ("为什么B贵?", "因为B含有依克多因,原料成本高"),
        ("B贵在哪?", "因为B含有依克多因,原料成本比较高"),
        ("B为啥贵?", "因为B里面有依克多因,原料成本高"),
        ("B为什么这么贵?", "亲,商品价格以页面实际显示为准哦"),   # dodge: no reason, filtered
        ("B为什么这么贵?", "亲,商品价格以页面实际显示为准哦"),
    ]}
    logics = mine_from_pairs(groups, encoder=hashing_encoder, similarity=0.5)
    assert len(logics) == 1
    lg = logics[0]
    assert (lg.viewpoint_id, lg.support, lg.source) == ("vp-price", 3, "mined")
    assert "依克多因" in lg.answer and lg.logic_id == "vp-price/a1"
    # deterministic, independent of the order of the pairs
    again = mine_from_pairs({"vp-price": list(reversed(groups["vp-price"]))},
                            encoder=hashing_encoder, similarity=0.5)
    assert again == logics


def test_resolves_reads_the_follow_up() -> None:
    assert resolves("为什么B贵?", "因为B含有依克多因")
    assert not resolves("为什么B贵?", "因为B含有依克多因", "我问的是它比A贵在哪")
    assert not resolves("When will it arrive?", "Please wait.")


def test_request_reply_pairs_labels() -> None:
    d = Dialogue("d", (
        Turn("customer", "Phone number and postcode please",
             metadata={"dialogue_acts": [["Request", "Hotel", "Phone", "?"],
                                         ["Request", "Hotel", "Post", "?"]]}),
        Turn("agent", "The phone is 01223 356354.",
             metadata={"dialogue_acts": [["Inform", "Hotel", "Phone", "01223356354"]]}),
        Turn("customer", "Book it and give me the reference",
             metadata={"dialogue_acts": [["Request", "Hotel", "Ref", "?"]]}),
        Turn("agent", "Booked, reference ABC123.",
             metadata={"dialogue_acts": [["Book", "Booking", "Ref", "ABC123"]]}),
    ))
    pairs = request_reply_pairs([d])
    assert [(p.turn_index, p.answered) for p in pairs] == [(0, False), (2, True)]
    assert pairs[1].context[0].role is Role.CUSTOMER


def test_request_reply_pairs_skip_unannotated_replies() -> None:
    # an agent turn without any act was not annotated: its pair has no label
    d = Dialogue("d", (
        Turn("customer", "酒店电话是多少?", metadata={"dialogue_acts": [["Request", "酒店", "电话", ""]]}),
        Turn("agent", "电话是010-63024929。", metadata={"dialogue_acts": []}),
        Turn("customer", "地址呢?", metadata={"dialogue_acts": [["Request", "酒店", "地址", ""]]}),
        Turn("agent", "您说的是哪家?", metadata={"dialogue_acts": [["General", "reqmore", "none", "none"]]}),
    ))
    assert [(p.turn_index, p.answered) for p in request_reply_pairs([d])] == [(2, False)]
    kept = request_reply_pairs([d], skip_unannotated=False)
    assert [(p.turn_index, p.answered) for p in kept] == [(0, False), (2, False)]


# ----------------------------------------------------------------- trained cross-encoder


def _toy_pairs() -> tuple[list[str], list[str], list[bool]]:
    # "hello" is answered by "world", "快递" by "到": neither text alone tells the label
    qs = ["hello", "hello", "快递", "快递"] * 8
    rs = ["world", "到", "到", "world"] * 8
    return qs, rs, [True, False] * 16


def test_cross_encoder_learns_a_pair_relation_and_round_trips(
        tmp_path: Path, tiny_bert: Callable[..., Path]) -> None:
    from sklearn.metrics import roc_auc_score

    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import FineTuneArgs

    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m"), backend="torch", name="tiny")
    qs, rs, y = _toy_pairs()
    args = FineTuneArgs(epochs=25, batch_size=8, learning_rate=3e-3, max_length=16,
                        freeze_embeddings=False, patience=25)
    s = CrossEncoderScorer(encoder=enc, args=args).fit(qs, rs, y, validation=(qs, rs, y))
    p = s.score(qs, rs)
    assert p.shape == (32,) and ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(y, p) > 0.9  # neither text alone tells the label
    assert s.fit_log_.best_epoch >= 1 and "val_auc" in s.fit_log_.epochs[0]
    folder = s.save_pretrained(tmp_path / "ce")
    assert (folder / "encoder" / "model.safetensors").is_file()
    for loaded in (CrossEncoderScorer.from_pretrained(folder), CrossEncoderScorer(folder)):
        np.testing.assert_allclose(loaded.score(qs, rs), p, atol=1e-6)
    assert s.score([], []).shape == (0,)


def test_cross_encoder_errors(tmp_path: Path, tiny_bert: Callable[..., Path]) -> None:
    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import FineTuneArgs

    with pytest.raises(NotFittedError, match="call fit"):
        CrossEncoderScorer().score(["多少钱?"], ["99元"])
    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m"), backend="torch")
    args = FineTuneArgs(epochs=1, batch_size=4, max_length=8)
    with pytest.raises(ValidationError, match=r"validation must be \(questions, replies, labels\)"):
        CrossEncoderScorer(encoder=enc, args=args).fit(["hello"] * 2, ["world", "到"], [True, False],
                                                       validation=(["hello"], ["world"]))
    with pytest.raises(ValidationError, match="both answered"):
        CrossEncoderScorer(encoder=enc, args=args).fit(["hello"] * 4, ["world"] * 4, [True] * 4)
    long = " ".join(["hello world"] * 10)
    with pytest.warns(UserWarning, match=r"4 of 4 training pairs are longer than max_length=8"):
        CrossEncoderScorer(encoder=enc, args=args).fit(["hello"] * 4, [long] * 4, [True, False] * 2)

    class Wrapped:
        def predict(self, pairs: list[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
            return np.array([2.0 if a == b else -2.0 for a, b in pairs])

    w = CrossEncoderScorer(Wrapped())
    assert w.score(["a", "a"], ["a", "b"]).round(3).tolist() == [0.881, 0.119]
    with pytest.raises(ValidationError, match="save_pretrained writes cross-encoders trained"):
        w.save_pretrained(tmp_path / "x")
    with pytest.raises(ModelFolderError, match="local model folder"):
        pytest.importorskip("sentence_transformers")
        CrossEncoderScorer(str(tmp_path / "missing")).score(["a"], ["b"])


def test_load_scorer_reads_either_kind_of_folder(tmp_path: Path) -> None:
    from csdialog.answers import load_scorer
    from csdialog.encoders import HashingEncoder

    enc = HashingEncoder(dim=32)
    s = PairClassifierScorer(enc).fit(["多少钱?", "多少钱?", "几点到?", "几点到?"],
                                      ["一共99元", "您好", "下午3点到", "亲亲"], [True, False, True, False])
    folder = s.save_pretrained(tmp_path / "pcs")
    loaded = load_scorer(folder, encoder=enc)
    assert isinstance(loaded, PairClassifierScorer)
    np.testing.assert_array_equal(loaded.score(["多少钱?"], ["一共99元"]), s.score(["多少钱?"], ["一共99元"]))
    with pytest.raises(ModelFolderError, match=r"no config\.json"):
        load_scorer(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"format": "csdialog.IntentClassifier"}')
    with pytest.raises(ModelFolderError, match=r"has format .csdialog\.IntentClassifier."):
        load_scorer(tmp_path / "other")


def test_cross_encoder_with_lora_learns_and_rebuilds_from_the_base(
        tmp_path: Path, tiny_bert: Callable[..., Path]) -> None:
    """LoRA trains only rank-r updates; merged, they equal the base plus the saved arrays."""
    from sklearn.metrics import roc_auc_score

    from csdialog.encoders import HuggingFaceEncoder
    from csdialog.training import CrossEncoderParts, FineTuneArgs, apply_lora, finetune_cross_encoder

    enc = HuggingFaceEncoder(tiny_bert(tmp_path / "m"), backend="torch", name="tiny")
    base = {k: v.clone() for k, v in enc._load_torch().state_dict().items()}
    qs, rs, y = _toy_pairs()
    args = FineTuneArgs(epochs=25, batch_size=8, learning_rate=1e-2, max_length=16,
                        patience=25, lora_rank=4)
    parts, log = finetune_cross_encoder(enc, qs, rs, y, args=args, validation=(qs, rs, y))
    z = parts.logits(qs, rs)
    assert roc_auc_score(y, z) > 0.9
    assert parts.lora is not None and all(k.endswith((".lora_A", ".lora_B")) for k in parts.lora)
    n_layers = len(parts.lora) // 2
    assert n_layers > 0 and parts.lora[next(iter(parts.lora))].shape[0] == 4
    trained = parts.model.state_dict()
    assert set(trained) == set(base)  # merged: plain layers again
    changed = {k for k in base if not np.allclose(base[k].numpy(), trained[k].numpy())}
    assert changed and all(k.endswith("weight") and ".encoder." in "." + k for k in changed)
    assert enc._load_torch().state_dict()["embeddings.word_embeddings.weight"].equal(
        base["embeddings.word_embeddings.weight"])  # the input encoder is untouched
    fresh = HuggingFaceEncoder(tiny_bert(tmp_path / "m2"), backend="torch")._load_torch()
    fresh.load_state_dict(base)
    rebuilt = dataclasses.replace(parts, model=apply_lora(fresh, parts.lora))
    np.testing.assert_allclose(rebuilt.logits(qs, rs), z, atol=1e-4)
    with pytest.raises(ModelFolderError, match="another base model"):
        apply_lora(fresh, {"encoder.nope.lora_A": np.zeros((4, 2)),
                           "encoder.nope.lora_B": np.zeros((2, 4))})
    with pytest.raises(ValidationError, match="lora_rank must be an int >= 0"):
        FineTuneArgs(lora_rank=-1)
    assert isinstance(parts, CrossEncoderParts) and log.best_epoch >= 1


def test_pair_classifier_coverage_features_see_partial_answers() -> None:
    from csdialog.answers.scorers import _ASKABLE, _coverage
    from csdialog.answers.types import VALUE_KINDS, value_kinds

    replies = ["The phone is 01223 356354.", "Phone 01223 356354, postcode cb21ab.", "Sure."]
    vk = np.array([[float(k in value_kinds(r)) for k in VALUE_KINDS] for r in replies])
    F = _coverage(["Phone number and postcode please"] * 3, vk)
    k = len(_ASKABLE)
    assert F.shape == (3, 2 * k + 3)
    assert F[:, :k].sum(axis=1).tolist() == [2, 2, 2]        # both named by the question
    assert F[:, -2].tolist() == [1, 0, 2]                     # missing: postcode / none / both
    assert F[:, -1].tolist() == [0.5, 1.0, 0.0]               # share covered
    # a question that names no kind of value is fully covered by any reply
    assert _coverage(["Can you help?"], vk[:1])[0, -1] == 1.0
