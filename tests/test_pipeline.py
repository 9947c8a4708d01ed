"""The pipeline and `csdialog analyze`, end to end on the sample chats: the outputs'
content, not just their existence; bad input ends with a message, never a traceback."""

from __future__ import annotations

import json
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csdialog import Dialogue, Turn
from csdialog.cli import app
from csdialog.encoders import HashingEncoder
from csdialog.errors import ValidationError
from csdialog.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "data" / "sample_chats.jsonl"
LOGICS = ROOT / "examples" / "answer_logic.yaml"
RUNNER = CliRunner()
OUTPUTS = {"turns.jsonl", "turns.parquet", "viewpoints.csv", "questions.csv", "top_by_category.csv",
           "answer_checks.csv", "inspections.csv", "findings.csv", "alerts.csv", "read_report.json",
           "summary.json", "report.html"}


def _check_outputs(out: Path, *, emotions: bool) -> None:
    assert OUTPUTS <= {p.name for p in out.iterdir()}
    turns = pd.read_parquet(out / "turns.parquet")
    assert len(turns) == 425 and turns.dialogue_id.nunique() == 77
    assert len(out.joinpath("turns.jsonl").read_text(encoding="utf-8").splitlines()) == 425
    if emotions:
        assert turns.emotion.notna().all() and turns.sarcastic.any()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["rows_read"], summary["rows_rejected"], summary["dialogues"]) == (77, 0, 77)
    questions = pd.read_csv(out / "questions.csv")
    assert len(questions) == summary["questions"] == 109
    assert 0 < turns.is_question.sum() <= 109  # a turn may ask two things
    viewpoints = pd.read_csv(out / "viewpoints.csv")
    assert viewpoints["size"].sum() == questions.viewpoint_id.notna().sum() > 0
    assert set(turns.viewpoint_id.dropna()) <= set(viewpoints.viewpoint_id)
    checks = pd.read_csv(out / "answer_checks.csv")
    assert len(checks) == len(questions) and set(checks.answered.unique()) <= {True, False}
    inspections = pd.read_csv(out / "inspections.csv")
    assert len(inspections) == 77 and inspections.score.between(0, 100).all()
    forbidden = set(inspections[inspections.tags.fillna("").str.contains("forbidden_phrases")].dialogue_id)
    assert forbidden == {"zh-0007", "zh-0043", "en-0004"}
    alerts = pd.read_csv(out / "alerts.csv")
    repeats = alerts[alerts.kind == "repeat_contact"]
    assert set(repeats.customer_id) == {"c-2001", "c-2002", "c-3003"}
    risky = alerts[(alerts.kind == "complaint_risk") & (alerts.severity == "high")]
    assert {"zh-0007", "zh-0018", "en-0004", "en-0016"} <= set(risky.dialogue_id)
    html = (out / "report.html").read_text(encoding="utf-8")
    for heading in ("Hot viewpoints", "Unanswered questions", "Complaint risk", "Repeat contacts",
                    "Inspection scores"):
        assert heading in html
    assert "<svg" in html and "http://" not in html and "https://" not in html
    assert "138-0013-8000" not in html and "13900139000" not in html and "[PHONE]" in html
    assert "@example.com" not in html
    HTMLParser().feed(html)


def test_pipeline_on_sample_chats_with_test_encoder(tmp_path: Path) -> None:
    pipe = Pipeline(("viewpoints", "answers", "inspection", "alerts"), encoder=HashingEncoder(dim=256),
                    answer_logics=LOGICS)
    result = pipe.run(SAMPLE)
    assert result.steps == ("viewpoints", "answers", "inspection", "alerts")
    assert result.summary["answer_logics"] >= 5
    frame = result.to_frame("turns")
    assert str(frame.timestamp.dtype).startswith("datetime64") and frame.timestamp.notna().all()
    with pytest.raises(ValidationError, match="to_frame"):
        result.to_frame("everything")
    _check_outputs(Path(result.save(tmp_path / "out")["report.html"]).parent, emotions=False)


def test_pipeline_streams_in_chunks_and_takes_dialogues(tmp_path: Path) -> None:
    dialogues = [Dialogue(f"d{i}", (Turn("customer", "快递什么时候到?"), Turn("agent", "预计明天送达")))
                 for i in range(5)]
    ticks: list[tuple[str, int, int | None]] = []
    pipe = Pipeline(("viewpoints", "answers", "inspection", "alerts"), encoder=HashingEncoder(dim=64),
                    chunk_size=2, progress=lambda *a: ticks.append(a))
    result = pipe.run(dialogues)
    assert [t[1] for t in ticks if t[0] == "annotate"] == [0, 2, 4, 5]
    assert result.read_report is None and result.summary["dialogues"] == 5
    with pytest.raises(ValidationError, match="iterable of Dialogue"):
        pipe.run(42)
    with pytest.raises(ValidationError, match="unknown step"):
        Pipeline(("everything",), encoder=HashingEncoder(dim=8))
    with pytest.raises(ValidationError, match="intent_model"):
        Pipeline(("intent",), encoder=HashingEncoder(dim=8))


def test_long_turns_are_cut_and_reported(tmp_path: Path) -> None:
    huge = "很" * 200_000 + "?"
    d = Dialogue("big", (Turn("customer", huge), Turn("agent", "您好")))
    result = Pipeline(("viewpoints", "inspection"), encoder=HashingEncoder(dim=32),
                      max_turn_chars=1000).run([d])
    assert result.summary["truncated_turns"] == [{"dialogue_id": "big", "turn_index": 0, "chars": 200_001}]
    assert len(result.turns[0]["text"]) == 1000


def _analyze(*args: str) -> object:
    return RUNNER.invoke(app, ["analyze", *args])


def test_cli_analyze_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "res"
    res = _analyze(str(SAMPLE), "--out", str(out), "--encoder", "hashing", "--logics", str(LOGICS), "-q")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    text = res.output  # type: ignore[attr-defined]
    assert "77 rows in, 77 read, 0 rejected" in text and "77 dialogues, 425 turns" in text
    assert "report.html" in text
    _check_outputs(out, emotions=False)


def test_cli_reports_bad_rows_and_keeps_going(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:4]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], '{"dialogue_id": "x", "turns": [ broken', *lines[1:]]) + "\n",
                   encoding="utf-8")
    res = _analyze(str(bad), "--out", str(tmp_path / "o"), "--encoder", "hashing", "-q")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert "5 rows in, 4 read, 1 rejected" in res.output  # type: ignore[attr-defined]
    assert "rejected line 2: not valid JSON" in res.output  # type: ignore[attr-defined]
    report = json.loads((tmp_path / "o" / "read_report.json").read_text(encoding="utf-8"))
    assert report["rows_rejected"] == 1


@pytest.mark.parametrize("content, args, message", [
    ("", [], "is empty"),
    ('{"foo": 1}\n', [], "no dialogue could be read"),
    (None, [], "does not exist"),
    ("x", ["--steps", "bogus"], "unknown step"),
    ("x", ["--column", "txt=content"], "--column takes FIELD=NAME"),
    ("x", ["--repeat", "often"], "repeat rule"),
])
def test_cli_bad_input_is_a_message(
    tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    path = tmp_path / "chats.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    res = _analyze(str(path), "--out", str(tmp_path / "o"), "--encoder", "hashing", "-q", *args)
    assert res.exit_code == 2, res.output  # type: ignore[attr-defined]
    assert message in res.output and "Traceback" not in res.output  # type: ignore[attr-defined]


def test_cli_huge_turn_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    rec = {"dialogue_id": "big", "turns": [{"role": "customer", "text": "你好?" + "很" * 3_500_000},
                                           {"role": "agent", "text": "您好"}]}
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    res = _analyze(str(path), "--out", str(tmp_path / "o"), "--encoder", "hashing", "-q")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    expected = "turn big#0 has 3,500,003 characters; analysed its first 5,000"
    assert expected in res.output  # type: ignore[attr-defined]


def test_cli_cluster_and_help(tmp_path: Path) -> None:
    qs = tmp_path / "q.txt"
    qs.write_text("快递什么时候到?\n快递几天能到?\n怎么退货?\n退货怎么办理?\n", encoding="utf-8")
    res = RUNNER.invoke(app, ["cluster", str(qs), "--out", str(tmp_path / "vp"), "--encoder", "hashing"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "vp" / "viewpoints.csv").is_file() and (tmp_path / "vp" / "clusterer").is_dir()
    res = RUNNER.invoke(app, ["cluster", str(qs), "--out", str(tmp_path / "vp2"), "--encoder",
                              "hashing", "--algorithm", "louvain"])
    assert res.exit_code == 0, res.output
    config = json.loads((tmp_path / "vp2" / "clusterer" / "config.json").read_text())
    assert config["params"]["algorithm"] == "louvain"
    res = RUNNER.invoke(app, ["cluster", str(qs), "--out", str(tmp_path / "vp3"), "--encoder",
                              "hashing", "--algorithm", "kmeans"])
    assert res.exit_code != 0 and "algorithm must be" in res.output
    for cmd in (["analyze", "--help"], ["cluster", "--help"], ["train", "emotion", "--help"],
                ["bench", "encoders", "--help"]):
        res = RUNNER.invoke(app, cmd)
        assert res.exit_code == 0 and "Usage" in res.output


@pytest.mark.model
def test_cli_analyze_with_the_default_models(tmp_path: Path, no_network) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "res"
    res = _analyze(str(SAMPLE), "--out", str(out), "--logics", str(LOGICS), "-q")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    _check_outputs(out, emotions=True)
    checks = pd.read_csv(out / "answer_checks.csv").set_index(["dialogue_id", "question_turn"])
    # the price question: answered with the ingredient where the agent gave it, dodged elsewhere
    assert checks.loc[("zh-0001", 0), "answered"] and checks.loc[("zh-0003", 0), "answered"]
    assert not checks.loc[("zh-0002", 0), "answered"] and not checks.loc[("zh-0004", 0), "answered"]
    assert checks.loc[("en-0001", 0), "answered"] and not checks.loc[("en-0002", 0), "answered"]
    assert (checks.loc[("zh-0002", 0), "logic_id"], checks.loc[("en-0002", 0), "logic_id"]) == (
        "mask-b-price", "pro-price")


def test_pipeline_is_independent_of_input_order() -> None:
    from csdialog import read_chats

    chats = read_chats(SAMPLE).dialogues
    pipe = Pipeline(("viewpoints", "answers", "inspection", "alerts"), encoder=HashingEncoder(dim=256),
                    answer_logics=LOGICS)
    a, b = pipe.run(chats), pipe.run(list(reversed(chats)))

    def key(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        return frame.sort_values(by).reset_index(drop=True)

    vp = ["viewpoint_id", "label", "size"]
    pd.testing.assert_frame_equal(key(a.to_frame("viewpoints")[vp], vp),
                                  key(b.to_frame("viewpoints")[vp], vp))
    ans = ["dialogue_id", "question_turn", "viewpoint_id", "logic_id", "reply_turn", "answered"]
    pd.testing.assert_frame_equal(key(a.to_frame("answers")[ans], ans[:2]),
                                  key(b.to_frame("answers")[ans], ans[:2]))
    pd.testing.assert_frame_equal(key(a.to_frame("inspections"), ["dialogue_id"]),
                                  key(b.to_frame("inspections"), ["dialogue_id"]))
    al = ["kind", "dialogue_id", "score"]
    pd.testing.assert_frame_equal(key(a.to_frame("alerts")[al], al), key(b.to_frame("alerts")[al], al))


# ---------------------------------------------------------------- streaming, resume


def _stream_pipe(**kw: object) -> Pipeline:
    return Pipeline(("viewpoints", "answers", "inspection", "alerts"), encoder=HashingEncoder(dim=256),
                    answer_logics=LOGICS, chunk_size=10, **kw)  # type: ignore[arg-type]


def test_stream_gives_the_same_rows_as_run(tmp_path: Path) -> None:
    from csdialog.viewpoints import ViewpointClusterer

    res = _stream_pipe().stream(SAMPLE, tmp_path / "s")
    s = res["summary"]
    assert (s["dialogues"], s["turns"], s["questions"], s["chunks"]) == (77, 425, 109, 8)
    assert s["report_sample"] == 77 and "report.html" in res["files"]
    fitted = ViewpointClusterer.from_pretrained(tmp_path / "s" / "parts" / "clusterer",
                                                encoder=HashingEncoder(dim=256))
    whole = _stream_pipe().run(SAMPLE, clusterer=fitted)
    cols = ["dialogue_id", "question_turn", "question", "viewpoint_id", "logic_id", "reply_turn", "answered"]
    got = pd.read_csv(tmp_path / "s" / "answer_checks.csv")[cols]
    pd.testing.assert_frame_equal(got.astype(str), whole.to_frame("answers")[cols].astype(str))
    ins = pd.read_csv(tmp_path / "s" / "inspections.csv")
    assert ins.score.tolist() == whole.to_frame("inspections").score.tolist()
    alerts = pd.read_csv(tmp_path / "s" / "alerts.csv")
    assert set(alerts[alerts.kind == "repeat_contact"].customer_id) == {"c-2001", "c-2002", "c-3003"}
    vp = pd.read_csv(tmp_path / "s" / "viewpoints.csv")
    assert vp["size"].sum() == pd.read_csv(tmp_path / "s" / "questions.csv").viewpoint_id.notna().sum()


def test_stream_resumes_after_an_interruption_without_losing_or_repeating_rows(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def stop_after_three_chunks(stage: str, done: int, total: int | None) -> None:
        if stage == "annotate" and done >= 30 and total is None:
            raise Stop

    with pytest.raises(Stop):
        _stream_pipe(progress=stop_after_three_chunks).stream(SAMPLE, tmp_path / "cut")
    state = json.loads((tmp_path / "cut" / "progress.json").read_text())
    assert state["chunks_done"] == 3 and not state.get("finished")
    calls: list[int] = []
    resumed = _stream_pipe(progress=lambda s, d, t: calls.append(d) if s == "annotate" else None)
    resumed.stream(SAMPLE, tmp_path / "cut")
    assert calls[0] == 40  # chunks 0-2 were not redone
    _stream_pipe().stream(SAMPLE, tmp_path / "full")
    for name in ("turns.jsonl", "answer_checks.csv", "inspections.csv", "findings.csv", "alerts.csv",
                 "questions.csv", "viewpoints.csv"):
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name
    # a changed setting starts over instead of mixing runs; the same settings redo nothing
    calls.clear()
    resumed.stream(SAMPLE, tmp_path / "cut")
    assert calls[0] == 80  # no chunk redone (the ticks after it are the report's sample run)
    calls.clear()
    _stream_pipe(min_cluster_size=3, progress=lambda s, d, t: calls.append(d) if s == "annotate" else None
                 ).stream(SAMPLE, tmp_path / "cut")
    assert calls[0] == 10


def test_bottom_k_sample_is_order_independent() -> None:
    from csdialog.streaming import BottomK

    keys = [f"q{i % 37}" for i in range(500)]
    a, b = BottomK(10), BottomK(10)
    for k in keys:
        a.add(k, k)
    for k in reversed(keys):
        b.add(k, k)
    assert a.items() == b.items() and len(a) == 10
    assert all(count == keys.count(k) for k, count, _ in a.items())


# ---------------------------------------------------------------- any user text

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60).filter(
    lambda s: s.strip() != "")
_TURN = st.tuples(st.sampled_from(["customer", "agent", "bot", "system"]),
                  st.one_of(_TEXT, st.sampled_from(["谢谢你?", "为什么这么贵?", "😡😡", "\x00\x07?",
                                                    "ok\u200b?", "多少钱？ How much?", "  ?  "])))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_TURN, min_size=1, max_size=6), min_size=1, max_size=6))
def test_property_pipeline_accounts_for_every_turn(spec: list[list[tuple[str, str]]]) -> None:
    dialogues = [Dialogue(f"d{i}", tuple(Turn(role, text) for role, text in turns), customer_id="c1")
                 for i, turns in enumerate(spec)]
    pipe = Pipeline(("viewpoints", "answers", "inspection", "alerts"), encoder=HashingEncoder(dim=32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "dialogues without timestamps were left out"
        result = pipe.run(dialogues)
    assert len(result.turns) == sum(len(t) for t in spec)
    assert result.turns[0]["dialogue_id"] == "d0"
    assert result.turns[-1]["dialogue_id"] == f"d{len(spec) - 1}"
    assert len(result.inspections) == len(dialogues)
    assert len(result.checks) == result.summary["questions"]
    assert all(0 <= r.score <= 100 for r in result.inspections)
    for a in result.alerts:
        assert 0 <= a.score <= 1


def test_pipeline_and_cli_judge_replies_with_a_trained_scorer(tmp_path: Path) -> None:
    import numpy as np

    from csdialog.answers import PairClassifierScorer

    class Constant:
        def __init__(self, p: float) -> None:
            self.p = p

        def score(self, questions: list[str], replies: list[str], logics: object = None) -> np.ndarray:
            return np.full(len(questions), self.p)

    steps = ("viewpoints", "answers")
    base = Pipeline(steps, encoder=HashingEncoder(dim=256)).run(SAMPLE).to_frame("answers")
    always = Pipeline(steps, encoder=HashingEncoder(dim=256), answer_scorer=Constant(1.0))
    checks = always.run(SAMPLE).to_frame("answers")
    replied = checks.reply_turn.notna()
    assert len(checks) == len(base) and replied.any() and checks.score[replied].eq(1.0).all()
    # answered unless the logic's required keywords are missing
    assert checks.answered.sum() > base.answered.sum()
    with pytest.raises(ValidationError, match="answer_scorer must be a scorer folder"):
        Pipeline(steps, encoder=HashingEncoder(dim=8), answer_scorer=3)  # type: ignore[arg-type]

    # a scorer trained on labels, saved, and named on the command line
    folder = PairClassifierScorer(HashingEncoder(dim=256)).fit(
        ["多少钱?", "多少钱?", "几点到?", "几点到?"] * 3, ["一共99元", "您好", "下午3点到", "亲亲"] * 3,
        [True, False, True, False] * 3).save_pretrained(tmp_path / "scorer")
    out = tmp_path / "res"
    res = _analyze(str(SAMPLE), "--out", str(out), "--encoder", "hashing", "--steps", "viewpoints,answers",
                   "--answer-scorer", str(folder), "-q")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert len(pd.read_csv(out / "answer_checks.csv")) == len(base)
    res = _analyze(str(SAMPLE), "--out", str(out), "--encoder", "hashing", "--answer-scorer", str(tmp_path))
    assert res.exit_code != 0 and "no config.json" in res.output  # type: ignore[attr-defined]
