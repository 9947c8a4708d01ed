"""csdialog.ray on a local Ray instance (2 CPUs): the same rows as the in-process pipeline,
every input row accounted for, a failing batch reported rather than lost."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from typer.testing import CliRunner  # noqa: E402

from csdialog import Dialogue, read_chats  # noqa: E402
from csdialog.cli import app  # noqa: E402
from csdialog.encoders import HashingEncoder  # noqa: E402
from csdialog.errors import ValidationError  # noqa: E402
from csdialog.pipeline import Pipeline  # noqa: E402
from csdialog.ray import DialogueAnnotator, PipelineSpec, analyze, annotate, explode  # noqa: E402
from csdialog.viewpoints import ViewpointClusterer  # noqa: E402

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "data" / "sample_chats.jsonl"
LOGICS = ROOT / "examples" / "answer_logic.yaml"
STEPS = ("viewpoints", "answers", "inspection", "alerts")
SPEC = PipelineSpec(steps=STEPS, encoder="hashing", encoder_kwargs={"dim": 256}, answer_logics=str(LOGICS))
# two actors on the 2-CPU instance, each holding half a CPU so that reading can run beside them
POOL: dict[str, Any] = {"num_actors": 2, "num_cpus": 0.5}


@pytest.fixture(scope="module", autouse=True)
def ray_session() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    # the failing annotator below is defined here: ship it by value, workers can't import tests/
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


def _plain(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts with None for every missing value and Python scalars, so that nullable
    and numpy dtypes compare equal."""
    out = frame[columns].astype(object).where(frame[columns].notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in out.to_dict(orient="records")]


def test_ray_gives_the_same_results_as_the_in_process_pipeline(tmp_path: Path) -> None:
    fitted = ViewpointClusterer(encoder=HashingEncoder(dim=256), min_cluster_size=2).fit(
        read_chats(SAMPLE).dialogues)
    folder = fitted.save_pretrained(tmp_path / "clusterer")
    pipe = Pipeline(STEPS, encoder=HashingEncoder(dim=256), answer_logics=LOGICS)
    whole = pipe.run(SAMPLE, clusterer=fitted)
    res = analyze(SAMPLE, SPEC, clusterer=folder, batch_size=10, **POOL)

    assert res.summary["dialogues"] == res.summary["annotated"] == 77
    assert (res.summary["turns"], res.summary["questions"]) == (425, 109)
    for what in ("turns", "answers", "inspections", "findings", "alerts"):
        mine, theirs = res.to_frame(what), whole.to_frame(what)
        assert list(mine.columns) == list(theirs.columns), what
        assert _plain(mine, list(theirs.columns)) == _plain(theirs, list(theirs.columns)), what
    # and the files the local engine writes, byte for byte where the content is the same
    ours, local = res.save(tmp_path / "ray"), whole.save(tmp_path / "local")
    for name in ("turns.jsonl", "inspections.csv", "findings.csv", "alerts.csv"):
        assert ours[name].read_bytes() == local[name].read_bytes(), name
    assert set(local) - {"top_by_category.csv"} <= set(ours)
    turns = pd.read_parquet(ours["turns.parquet"])
    assert len(turns) == 425 and str(turns.timestamp.dtype).startswith("datetime64")
    # viewpoint sizes count every assigned question, as Pipeline.stream does
    vp = pd.read_csv(ours["viewpoints.csv"])
    assert vp["size"].sum() == pd.read_csv(ours["questions.csv"]).viewpoint_id.notna().sum() > 0
    assert "Hot viewpoints" in ours["report.html"].read_text(encoding="utf-8")
    assert json.loads(ours["summary.json"].read_text())["report_sample"] == 77


def test_fitting_on_a_sample_gives_the_viewpoints_and_rows_of_pipeline_stream(tmp_path: Path) -> None:
    # the same question in several wordings spread over the file: the sample keeps the first
    variants = ["面膜b为什么比a贵这么多？", "面膜B 为什么比A贵这么多！？", "why is the PRO more expensive??",
                "Why is the Pro more expensive?"]
    extra = [json.dumps({"dialogue_id": f"x-{i}", "customer_id": "c-9", "turns": [
        {"role": "customer", "text": variants[i % 4]}, {"role": "agent", "text": "您好"}]},
        ensure_ascii=False) for i in range(12)]
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    path = _write(tmp_path / "chats.jsonl", extra[6:] + lines[:40] + extra[:6] + lines[40:])
    stream_pipe = Pipeline(STEPS, encoder=HashingEncoder(dim=256), answer_logics=LOGICS, chunk_size=10)
    streamed = stream_pipe.stream(path, tmp_path / "stream", report=False)["summary"]
    res = analyze(path, SPEC, batch_size=7, **POOL)
    paths = res.save(tmp_path / "ray", report=False)
    assert res.summary["question_sample"] == streamed["question_sample"]
    assert res.summary["viewpoints"] == streamed["viewpoints"] > 0
    for name in ("viewpoints.csv", "turns.jsonl", "inspections.csv"):
        assert paths[name].read_bytes() == (tmp_path / "stream" / name).read_bytes(), name


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Exploding(DialogueAnnotator):
    """Fails on any chunk holding the dialogue 'boom' (a model error, say)."""

    def annotate_dialogues(self, chunk):  # type: ignore[no-untyped-def]
        if any(d.dialogue_id == "boom" for d in chunk):
            raise RuntimeError("model crashed on boom")
        return super().annotate_dialogues(chunk)


def test_every_row_is_accounted_for_and_a_failing_batch_is_reported(tmp_path: Path) -> None:
    good = [json.dumps(d.to_dict(), ensure_ascii=False) for d in read_chats(SAMPLE).dialogues[:20]]
    boom = json.dumps({"dialogue_id": "boom", "turns": [{"role": "customer", "text": "为什么这么贵?"}]})
    half = json.dumps({"dialogue_id": "half", "turns": [{"role": "customer", "text": "在吗?"},
                                                         {"role": "agent", "text": "   "}]})
    lines = [*good[:5], "{not json", boom, json.dumps({"dialogue_id": "empty", "turns": []}), half,
             "", *good[5:]]
    path = _write(tmp_path / "chats.jsonl", lines)
    spec = PipelineSpec(steps=("inspection", "alerts"), encoder="hashing", encoder_kwargs={"dim": 64})

    res = analyze(path, spec, annotator=Exploding, batch_size=4, **POOL)
    r = res.read_report
    assert r["rows_in"] == 24 == res.summary["annotated"] + r["rows_rejected"] + r["failed"]
    assert (res.summary["annotated"], r["rows_rejected"], r["failed"], r["turns_rejected"]) == (21, 2, 1, 1)
    errors = res.to_frame("errors").set_index("status")
    assert errors.loc["failed", "dialogue_id"] == "boom"
    assert "RuntimeError: model crashed on boom" in errors.loc["failed", "reason"]
    rejected = errors.loc[["rejected"]].sort_values("line")
    assert rejected.line.tolist() == [6, 8] and rejected.reason.str.contains("not valid JSON").iloc[0]
    assert errors.loc["turn_rejected", "dialogue_id"] == "half"
    records = res.to_frame("records")
    assert records.status.tolist()[:9] == ["ok"] * 5 + ["rejected", "failed", "rejected", "ok"]
    assert res.summary["turns"] == sum(len(json.loads(x)["turns"]) for x in good) + 1

    # without isolation the whole batch that raised is reported as failed, nothing is lost
    ds = annotate(path, spec, annotator=Exploding, batch_size=4, isolate_failures=False, **POOL)
    table = ds.to_pandas()
    assert len(table) == 24
    failed = table[table.status == "failed"]
    assert "boom" in set(failed.dialogue_id) and len(failed) > 1
    assert failed.reason.str.contains("model crashed").all()


def test_dataset_and_parquet_input_and_candidate_viewpoints(tmp_path: Path) -> None:
    dialogues = list(read_chats(SAMPLE).dialogues)
    fitted = ViewpointClusterer(encoder=HashingEncoder(dim=256), min_cluster_size=2).fit(dialogues)
    # a question nobody asked when the viewpoints were fitted, asked three times today
    new = [Dialogue(f"new-{i}", [{"role": "customer", "text": "电子发票在哪里下载?"},
                                 {"role": "agent", "text": "在订单详情页可以下载"}]) for i in range(3)]
    ds = ray.data.from_items([d.to_dict() for d in dialogues + new])
    res = analyze(ds, SPEC, clusterer=fitted, batch_size=16, **POOL)
    assert res.summary["annotated"] == 80 and res.summary["turns"] == 431
    known = [v.viewpoint_id for v in fitted.viewpoints_]
    assert known and res.candidates
    assert any("发票" in v.label for v in res.candidates)
    assert min(v.viewpoint_id for v in res.candidates) > max(known)  # ids continue the clusterer's
    # the updated clusterer keeps the old ids and now knows the new question
    updated = res.updated_clusterer
    assert [v.viewpoint_id for v in updated.viewpoints_[: len(known)]] == known
    assert updated.assign(["电子发票在哪里下载?"])[0] not in (None, *known)
    assert "发票" in res.to_frame("candidates").label.str.cat()

    frame = pd.DataFrame([d.to_dict() for d in dialogues])
    frame.to_parquet(tmp_path / "chats.parquet")
    records = annotate(tmp_path / "chats.parquet", SPEC, clusterer=fitted, batch_size=32, **POOL)
    turns = explode(_concat(records), "turns")
    assert turns.num_rows == 425


def _concat(ds: Any) -> Any:
    import pyarrow as pa

    return pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow", batch_size=None)))


def test_spec_and_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="encoder name"):
        PipelineSpec(encoder=HashingEncoder(dim=8))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown step"):
        PipelineSpec(steps=("everything",))
    with pytest.raises(ValidationError, match="format"):
        analyze(tmp_path / "chats.csv", SPEC)
    with pytest.raises(ValidationError, match="Dialogue objects"):
        annotate([42], SPEC)
    with pytest.raises(ValidationError, match="num_actors"):
        annotate([Dialogue("d", [{"role": "customer", "text": "hi"}])], SPEC, num_actors=0)
    spec = PipelineSpec.from_dict(SPEC.to_dict())
    assert spec == SPEC and spec.logics()[0].logic_id == SPEC.logics()[0].logic_id


def test_cli_analyze_with_engine_ray(tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = CliRunner().invoke(app, ["analyze", str(SAMPLE), "--out", str(out), "--engine", "ray",
                                      "--encoder", "hashing", "--logics", str(LOGICS), "-q"])
    assert result.exit_code == 0, result.output
    assert "77 dialogues, 425 turns, 109 questions" in result.output
    for name in ("turns.jsonl", "turns.parquet", "answer_checks.csv", "inspections.csv", "alerts.csv",
                 "viewpoints.csv", "summary.json", "report.html", "read_report.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "ray" and summary["dialogues"] == 77
    bad = CliRunner().invoke(app, ["analyze", str(SAMPLE), "--engine", "spark"])
    assert bad.exit_code == 2 and "--engine" in bad.output


def test_a_trained_answer_scorer_travels_to_the_workers(tmp_path: Path) -> None:
    """analyze(spec with answer_scorer=folder) ships the folder and judges replies with it,
    as the in-process pipeline does."""
    from csdialog.answers import PairClassifierScorer

    folder = PairClassifierScorer(HashingEncoder(dim=256)).fit(
        ["多少钱?", "多少钱?", "几点到?", "几点到?"] * 3, ["一共99元", "您好", "下午3点到", "亲亲"] * 3,
        [True, False, True, False] * 3).save_pretrained(tmp_path / "scorer")
    steps = ("answers",)
    whole = Pipeline(steps, encoder=HashingEncoder(dim=256), answer_logics=LOGICS,
                     answer_scorer=folder).run(SAMPLE)
    spec = PipelineSpec(steps=steps, encoder="hashing", encoder_kwargs={"dim": 256},
                        answer_logics=str(LOGICS), answer_scorer=str(folder))
    assert PipelineSpec.from_dict(spec.to_dict()) == spec
    res = analyze(SAMPLE, spec, batch_size=20, **POOL)
    mine, theirs = res.to_frame("answers"), whole.to_frame("answers")
    assert _plain(mine, list(theirs.columns)) == _plain(theirs, list(theirs.columns))
    plain = Pipeline(steps, encoder=HashingEncoder(dim=256), answer_logics=LOGICS).run(SAMPLE)
    assert not plain.to_frame("answers").score.equals(theirs.score)  # the scorer mattered
    out = tmp_path / "cli"
    cli = CliRunner().invoke(app, ["analyze", str(SAMPLE), "--out", str(out), "--engine", "ray",
                                   "--encoder", "hashing", "--steps", "answers", "--logics", str(LOGICS),
                                   "--answer-scorer", str(folder), "-q"])
    assert cli.exit_code == 0, cli.output
