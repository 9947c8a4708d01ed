"""The command line: train and evaluate an intent classifier from tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csdialog.cli import app

RUNNER = CliRunner()

ROWS = [("where is my parcel", "delivery"), ("parcel not arrived", "delivery"),
        ("快递什么时候到", "delivery"), ("refund please", "refund"), ("我要退款", "refund"),
        ("money back", "refund")] * 3


def _csv(path: Path, rows: list[tuple[str, str]], header: str = "utterance,intent") -> Path:
    path.write_text(header + "\n" + "\n".join(f"{t},{y}" for t, y in rows) + "\n",
                    encoding="utf-8")
    return path


def test_train_then_evaluate(tmp_path: Path) -> None:
    data = _csv(tmp_path / "train.csv", ROWS)
    out = tmp_path / "model"
    res = RUNNER.invoke(app, ["train", "intent", str(data), "--out", str(out), "--encoder",
                              "hashing", "--window", "0", "--text-column", "utterance",
                              "--label-column", "intent", "--validation", str(data)])
    assert res.exit_code == 0, res.output
    assert "2 labels" in res.output and "validation_accuracy" in res.output
    assert (out / "config.json").is_file() and (out / "README.md").is_file()
    preds = tmp_path / "p.jsonl"
    res = RUNNER.invoke(app, ["evaluate", "intent", str(out), str(data), "--text-column",
                              "utterance", "--label-column", "intent", "--predictions",
                              str(preds)])
    assert res.exit_code == 0, res.output
    scores = json.loads(res.output)
    assert scores["rows"] == len(ROWS) and scores["accuracy"] > 0.9
    assert len(preds.read_text().splitlines()) == len(ROWS)


@pytest.mark.parametrize("args, message", [
    (["--text-column", "nope"], "text_column='nope' is not a column"),
    (["--method", "magic"], "method must be one of"),
])
def test_errors_are_messages_not_tracebacks(tmp_path: Path, args: list[str], message: str) -> None:
    data = _csv(tmp_path / "train.csv", ROWS, header="text,label")
    res = RUNNER.invoke(app, ["train", "intent", str(data), "--out", str(tmp_path / "m"),
                              "--encoder", "hashing", *args])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_missing_and_empty_files(tmp_path: Path) -> None:
    res = RUNNER.invoke(app, ["train", "intent", str(tmp_path / "none.csv"), "--out",
                              str(tmp_path / "m")])
    assert res.exit_code == 2 and "does not exist" in res.output
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n")
    res = RUNNER.invoke(app, ["train", "intent", str(empty), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "no rows" in res.output
    res = RUNNER.invoke(app, ["evaluate", "intent", str(tmp_path / "nomodel"), str(empty)])
    assert res.exit_code == 2


def test_train_emotion_and_bench_encoders(tmp_path: Path) -> None:
    rows = [("太好了谢谢", "grateful"), ("thank you so much", "grateful"), ("气死我了", "angry"),
            ("this is outrageous", "angry"), ("好的", "neutral"), ("ok", "neutral")] * 4
    data = _csv(tmp_path / "emo.csv", rows, header="text,label")
    sarcasm = tmp_path / "sarcasm.csv"
    sarcasm.write_text("text,label,context\n" + "\n".join(
        ['谢谢你,true,"快递丢了\n我们也没办法"', '谢谢你,false,"已经帮您退款了"'] * 6) + "\n",
        encoding="utf-8")
    out = tmp_path / "emo"
    res = RUNNER.invoke(app, ["train", "emotion", str(data), "--out", str(out), "--encoder", "hashing",
                              "--sarcasm", str(sarcasm)])
    assert res.exit_code == 0, res.output
    assert "trained on 24 rows (+12 sarcasm rows)" in res.output and (out / "config.json").is_file()
    res = RUNNER.invoke(app, ["train", "emotion", str(data), "--out", str(out), "--encoder", "hashing",
                              "--sarcasm-lora", "4"])
    assert res.exit_code == 2 and "pass --sarcasm too" in res.output
    res = RUNNER.invoke(app, ["train", "emotion", str(data), "--out", str(out), "--encoder", "hashing",
                              "--sarcasm", str(sarcasm), "--sarcasm-lora", "4"])
    assert res.exit_code == 2 and "at least 40 sarcasm-labelled turns" in res.output
    # in-house labels, the sarcasm side of a saved model kept as it is
    labelled = [("看不懂这个扣费", "confused"), ("what is this fee", "confused"),
                ("服务太差了", "dissatisfied"), ("not good enough", "dissatisfied")] * 3
    mine = _csv(tmp_path / "mine.csv", labelled, header="text,label")
    res = RUNNER.invoke(app, ["train", "emotion", str(mine), "--out", str(tmp_path / "mine"),
                              "--encoder", "hashing", "--sarcasm-from", str(out)])
    assert res.exit_code == 0, res.output
    assert f"(sarcasm side kept from {out})" in res.output
    assert json.loads((tmp_path / "mine" / "config.json").read_text())["format_version"] == 2
    res = RUNNER.invoke(app, ["train", "emotion", str(mine), "--out", str(tmp_path / "x"),
                              "--encoder", "hashing", "--sarcasm-from", str(out),
                              "--sarcasm", str(sarcasm)])
    assert res.exit_code == 2 and "pass one or the other" in res.output
    chats = Path(__file__).resolve().parents[1] / "examples" / "data" / "sample_chats.jsonl"
    res = RUNNER.invoke(app, ["bench", "encoders", str(chats), "--encoders", "hashing", "--repeats", "1",
                              "--limit", "50"])
    assert res.exit_code == 0, res.output
    rows_out = json.loads(res.output)
    assert rows_out[0]["encoder"] == "hashing" and rows_out[0]["texts"] == 50


def test_backend_names_of_e5_keep_the_shipped_emotion_model() -> None:
    from csdialog.cli import _encoder_name

    # e5-small on another backend is still e5-small: the shipped emotion model applies
    assert _encoder_name("e5-small-int8") == "e5-small"
    assert _encoder_name("e5-small-onnx") == "e5-small"
    assert _encoder_name("hashing") != "e5-small"
    assert _encoder_name("no-such-encoder") == "no-such-encoder"  # Pipeline reports it


def test_train_intent_with_label_names_as_examples(tmp_path: Path) -> None:
    data = _csv(tmp_path / "train.csv", ROWS, header="text,label")
    out = tmp_path / "model"
    res = RUNNER.invoke(app, ["train", "intent", str(data), "--out", str(out), "--encoder",
                              "hashing", "--window", "0", "--label-names-as-examples"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "config.json").read_text())["params"]["description_examples"]
