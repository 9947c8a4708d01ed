from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdialog import (
    ChatReader,
    ColumnMapping,
    ColumnMappingError,
    DataFormatError,
    Dialogue,
    Turn,
    ValidationError,
    from_hf_dataset,
    from_pandas,
    read_chats,
    to_hf_dataset,
    to_pandas,
    write_csv,
    write_jsonl,
)

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "sample_chats.jsonl"


def _dialogues() -> list[Dialogue]:
    return [
        Dialogue("d1", [Turn("customer", "面膜B为什么贵?", timestamp="2026-11-01T10:00:00+08:00"),
                        Turn("agent", "因为含有稀有成分。", speaker="a-1",
                             timestamp="2026-11-01T10:00:30+08:00", metadata={"intent": "explain"})],
                 customer_id="c1", product="面膜B", metadata={"vip": "yes"}),
        Dialogue("d2", [Turn("customer", "When will it arrive?\nToday?"),
                        Turn("bot", 'Say "agent" to talk to a person, 谢谢')], channel="web"),
    ]


def _write_lines(path: Path, lines: list[str | bytes]) -> None:
    with path.open("wb") as fh:
        for line in lines:
            fh.write((line.encode() if isinstance(line, str) else line) + b"\n")


def test_jsonl_round_trip_both_layouts(tmp_path: Path) -> None:
    ds = _dialogues()
    for layout in ("dialogues", "turns"):
        p = tmp_path / f"{layout}.jsonl"
        write_jsonl(ds, p, layout=layout)  # type: ignore[arg-type]
        res = read_chats(p)
        assert res.report.layout == layout
        assert res.report.rows_rejected == 0
        got = list(res.dialogues)
        assert [d.dialogue_id for d in got] == ["d1", "d2"]
        assert [t.text for t in got[0].turns] == [t.text for t in ds[0].turns]
        assert got[0].product == "面膜B" and got[0].customer_id == "c1"
        assert got[0].metadata["vip"] == "yes"
        assert got[0].turns[1].metadata["intent"] == "explain"
        assert got[0].turns[0].timestamp == ds[0].turns[0].timestamp
    assert read_chats(tmp_path / "dialogues.jsonl").dialogues == tuple(ds)


def test_csv_round_trip_with_newlines_and_quotes(tmp_path: Path) -> None:
    ds = _dialogues()
    p = tmp_path / "chats.csv"
    assert write_csv(ds, p) == 4
    res = read_chats(p)
    assert res.report.rows_in == 4 and res.report.rows_read == 4
    assert res.dialogues[1].turns[0].text == "When will it arrive?\nToday?"
    assert res.dialogues[1].turns[1].text == 'Say "agent" to talk to a person, 谢谢'
    assert res.dialogues[0].metadata["vip"] == "yes"


def test_bad_rows_are_reported_with_line_and_reason(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    _write_lines(p, [
        json.dumps({"dialogue_id": "a", "role": "customer", "text": "hi"}),
        "{not json",
        "",
        json.dumps({"dialogue_id": "a", "role": "pirate", "text": "arr"}),
        json.dumps({"dialogue_id": "a", "role": "agent", "text": 42}),
        json.dumps({"dialogue_id": "a", "role": "agent", "text": "   "}),
        json.dumps({"dialogue_id": None, "role": "agent", "text": "x"}),
        json.dumps({"dialogue_id": "b", "speaker_role": "agent", "content": "x"}),
        json.dumps([1, 2]),
        "你好".encode("gb18030"),
        json.dumps({"dialogue_id": "a", "role": "agent", "text": "hello"}),
    ])
    res = read_chats(p)
    r = res.report
    assert r.rows_in == 10  # the blank line is not a row
    assert r.rows_read == 2 and r.rows_rejected == 8
    assert r.rows_in == r.rows_read + r.rows_rejected
    reasons = {x.line: x.reason for x in r.rejected}
    assert "not valid JSON" in reasons[2]
    assert "unknown role 'pirate'" in reasons[4]
    assert "must be a string, got int" in reasons[5]
    assert "empty or whitespace" in reasons[6]
    assert "dialogue id" in reasons[7]
    assert "not in this row" in reasons[8] and "content" in reasons[8]
    assert "JSON object" in reasons[9]
    assert "not valid utf-8" in reasons[10] and "gb18030" in reasons[10]
    assert [t.text for t in res.dialogues[0].turns] == ["hi", "hello"]


def test_on_error_raise(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    _write_lines(p, ['{"dialogue_id": "a", "role": "customer", "text": "hi"}', "{oops"])
    with pytest.raises(DataFormatError, match="line 2: not valid JSON"):
        read_chats(p, on_error="raise")


def test_csv_missing_column_lists_found(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("session,who,msg\ns1,buyer,hi\n", encoding="utf-8")
    with pytest.raises(ColumnMappingError, match=r"\['dialogue_id', 'text', 'role'\].*msg"):
        read_chats(p)
    res = read_chats(p, columns={"dialogue_id": "session", "role": "who", "text": "msg"})
    assert res.dialogues[0].turns[0].role.value == "customer"


def test_csv_ragged_and_bad_encoding_rows(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(
        b"dialogue_id,role,text\n"
        + b"d,customer,ok\n"
        + b"d,agent\n"
        + "d,agent,坏".encode("gb18030") + b"\n"
        + b'd,agent,"multi\nline"\n'
    )
    res = read_chats(p)
    r = res.report
    assert (r.rows_in, r.rows_read, r.rows_rejected) == (4, 2, 2)
    assert {x.line for x in r.rejected} == {3, 4}
    assert res.dialogues[0].turns[1].text == "multi\nline"


def test_dialogue_layout_bad_turn_dropped_and_reported(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    _write_lines(p, [
        json.dumps({"dialogue_id": "a", "turns": [{"role": "customer", "text": "hi"},
                                                   {"role": "customer", "text": ""}, "junk"]}),
        json.dumps({"dialogue_id": "b", "turns": [{"role": "customer", "text": ""}]}),
        json.dumps({"dialogue_id": "c", "turns": "not a list"}),
    ])
    r = read_chats(p).report
    assert r.layout == "dialogues"
    assert (r.rows_in, r.rows_read, r.rows_rejected, r.turns_rejected) == (3, 1, 2, 2)


def test_streaming_sorted_input_and_out_of_order_row(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    rows = [("a", "x"), ("a", "y"), ("b", "z"), ("a", "late")]
    _write_lines(p, [json.dumps({"dialogue_id": d, "role": "customer", "text": t})
                     for d, t in rows])
    reader = ChatReader(p, assume_sorted=True)
    it = iter(reader)
    first = next(it)  # yielded before the file is finished
    assert first.dialogue_id == "a" and len(first) == 2
    rest = list(it)
    assert [d.dialogue_id for d in rest] == ["b"]
    assert reader.report.rows_rejected == 1
    assert "appears again" in reader.report.rejected[0].reason
    grouped = read_chats(p)
    assert [len(d) for d in grouped.dialogues] == [3, 1]


def test_pandas_and_hf_dataset(tmp_path: Path) -> None:
    ds = _dialogues()
    frame = to_pandas(ds)
    assert list(frame["turn_index"]) == [0, 1, 0, 1]
    back = from_pandas(frame)
    assert [len(d) for d in back.dialogues] == [2, 2]
    frame.loc[1, "text"] = None
    r = from_pandas(frame).report
    assert r.rows_rejected == 1 and r.rejected[0].line == 1 and "missing" in r.rejected[0].reason
    with pytest.raises(ColumnMappingError, match=r"found|columns"):
        from_pandas(pd.DataFrame({"x": [1]}))
    hf = to_hf_dataset(ds)
    res = from_hf_dataset(hf)
    assert [d.dialogue_id for d in res.dialogues] == ["d1", "d2"]
    import datasets

    with pytest.raises(ValidationError, match=r"dataset\['train'\]"):
        from_hf_dataset(datasets.DatasetDict({"train": hf}))


def test_parquet(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    to_pandas(_dialogues()).to_parquet(p)
    res = read_chats(p)
    assert res.report.rows_read == 4 and len(res.dialogues) == 2


def test_column_mapping_validation() -> None:
    with pytest.raises(ValidationError, match="valid keys"):
        ColumnMapping.from_dict({"txt": "x"})
    with pytest.raises(ValidationError, match="default_role"):
        ColumnMapping(role=None)
    m = ColumnMapping(role=None, default_role="customer")
    res = from_pandas(pd.DataFrame({"dialogue_id": [1, 1], "text": ["a", "b"]}), columns=m)
    assert [t.role.value for t in res.dialogues[0].turns] == ["customer", "customer"]


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataFormatError, match="format="):
        read_chats(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError):
        read_chats(tmp_path / "nope.jsonl")


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample chats not written yet")
def test_sample_chats_read_cleanly() -> None:
    res = read_chats(SAMPLE)
    assert res.report.rows_rejected == 0 and res.report.turns_rejected == 0
    assert len(res.dialogues) >= 60


# ----------------------------------------------------------------------------- properties

_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(), st.sampled_from(["customer", "agent", "客服", "bot", "pirate", ""]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_rows = st.dictionaries(
    st.sampled_from(["dialogue_id", "role", "text", "timestamp", "speaker", "shop", "x"]),
    _values, max_size=7,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(_rows, st.text(), st.binary(max_size=30)), max_size=25))
def test_property_jsonl_every_row_accounted(tmp_path: Path, rows: list[object]) -> None:
    p = tmp_path / "prop.jsonl"
    lines: list[bytes] = []
    for r in rows:
        if isinstance(r, dict):
            lines.append(json.dumps(r, ensure_ascii=False).encode())
        elif isinstance(r, str):
            lines.append(r.replace("\n", " ").replace("\r", " ").encode())
        else:
            lines.append(r.replace(b"\n", b" ").replace(b"\r", b" "))
    p.write_bytes(b"\n".join(lines))
    res = read_chats(p)
    r = res.report
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, not text
        lines[0] = lines[0][3:]
    nonblank = sum(1 for line in lines if line.decode("utf-8", "replace").strip())
    assert r.rows_in == nonblank
    assert r.rows_in == r.rows_read + r.rows_rejected
    assert sum(len(d) for d in res.dialogues) == r.rows_read


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), cut=st.integers(min_value=0, max_value=400))
def test_property_corrupted_csv_never_crashes(tmp_path: Path, data: bytes, cut: int) -> None:
    good = tmp_path / "good.csv"
    write_csv(_dialogues(), good)
    raw = good.read_bytes()
    corrupted = raw[:cut] + data + raw[cut:]
    p = tmp_path / "bad.csv"
    p.write_bytes(corrupted)
    try:
        res = read_chats(p)
    except (ColumnMappingError, DataFormatError):
        return  # the header itself was destroyed: a clear whole-file error
    r = res.report
    assert r.rows_in == r.rows_read + r.rows_rejected
    assert sum(len(d) for d in res.dialogues) == r.rows_read


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.one_of(st.text(), st.none(), st.integers()), max_size=20))
def test_property_pandas_every_row_accounted(texts: list[object]) -> None:
    frame = pd.DataFrame({"dialogue_id": ["d"] * len(texts), "role": ["customer"] * len(texts),
                          "text": pd.Series(texts, dtype=object)})
    if not texts:
        frame = pd.DataFrame({"dialogue_id": [], "role": [], "text": []})
    r = from_pandas(frame).report
    assert r.rows_in == len(texts) == r.rows_read + r.rows_rejected
    assert r.rows_read == sum(1 for t in texts if isinstance(t, str) and t.strip())
