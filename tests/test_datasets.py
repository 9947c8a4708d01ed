"""Tests of csdialog.datasets against the real public data sets (skipped if absent).

Sizes are the ones in ``../shared/datasets/README.md`` unless a comment says the files
differ from it.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from csdialog.datasets import (
    DATA_ENV_VAR,
    LabelledExample,
    cped_examples,
    data_root,
    dialogue_act_examples,
    load_banking77,
    load_clinc150,
    load_cped,
    load_crosswoz,
    load_goemotions,
    load_multidogo,
    load_multiwoz21,
    load_multiwoz_zh,
    load_mustard,
    load_nlupp,
    load_snips,
    mustard_folds,
)
from csdialog.dialogue import Dialogue, Role, Turn
from csdialog.errors import DataFormatError, ValidationError


def _find_root() -> Path | None:
    # cwd-based search first (the documented default), then next to this checkout.
    for cand in (None, Path(__file__).resolve().parents[2] / "shared" / "datasets"):
        try:
            found = data_root(cand)
        except (FileNotFoundError, DataFormatError):
            continue
        if (found / "banking77").is_dir():
            return found
    return None


ROOT = _find_root()
if ROOT is None:
    pytest.skip(
        f"public data sets not found (looked via data_root() and next to the checkout); set "
        f"{DATA_ENV_VAR} to run these tests",
        allow_module_level=True,
    )

T = TypeVar("T")


def _quiet(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a loader, swallowing its skipped-row warnings (tested separately)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, root=ROOT, **kwargs)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def banking() -> dict[str, list[LabelledExample]]:
    return {s: _quiet(load_banking77, s) for s in ("train", "test")}


@pytest.fixture(scope="module")
def clinc() -> dict[str, list[LabelledExample]]:
    return {s: _quiet(load_clinc150, s) for s in ("train", "val", "test")}


@pytest.fixture(scope="module")
def goemotions() -> dict[str, list[LabelledExample]]:
    return {s: _quiet(load_goemotions, s) for s in ("train", "dev", "test")}


@pytest.fixture(scope="module")
def mustard() -> list[LabelledExample]:
    return _quiet(load_mustard)


@pytest.fixture(scope="module")
def cped_valid() -> list[Dialogue]:
    return _quiet(load_cped, "valid")


@pytest.fixture(scope="module")
def crosswoz_val() -> list[Dialogue]:
    return _quiet(load_crosswoz, "val")


@pytest.fixture(scope="module")
def multiwoz21_val() -> list[Dialogue]:
    return _quiet(load_multiwoz21, "val")


@pytest.fixture(scope="module")
def multiwoz_zh_val() -> list[Dialogue]:
    return _quiet(load_multiwoz_zh, "val")


def _assert_context_precedes(ex: LabelledExample, dialogue: Dialogue) -> None:
    assert ex.turn_index is not None
    k = len(ex.context)
    assert ex.context == dialogue.turns[ex.turn_index - k:ex.turn_index]
    assert dialogue.turns[ex.turn_index].text == ex.text


# ----------------------------------------------------------------------- intent sets


def test_banking77_sizes_and_labels(banking: dict[str, list[LabelledExample]]) -> None:
    assert len(banking["train"]) == 10_003
    assert len(banking["test"]) == 3_080
    categories = json.loads((ROOT / "banking77" / "categories.json").read_text("utf-8"))
    for examples in banking.values():
        assert {e.label for e in examples} == set(categories)
        assert all(isinstance(e.label, str) and e.text.strip() for e in examples)
    assert set(Counter(e.label for e in banking["test"]).values()) == {40}


def test_clinc150_sizes_labels_and_oos(clinc: dict[str, list[LabelledExample]]) -> None:
    expected = {"train": (15_000, 100), "val": (3_000, 100), "test": (4_500, 1_000)}
    for split, (n_in, n_oos) in expected.items():
        counts = Counter(e.label for e in clinc[split])
        assert counts.pop("oos") == n_oos
        assert len(counts) == 150
        assert sum(counts.values()) == n_in
    assert all(e.metadata["domain"] for e in clinc["train"])
    no_oos = _quiet(load_clinc150, "val", include_oos=False)
    assert len(no_oos) == 3_000 and all(e.label != "oos" for e in no_oos)
    small = _quiet(load_clinc150, "train", variant="small", include_oos=False)
    assert len(small) == 7_500
    with pytest.raises(ValidationError, match="full"):
        load_clinc150("train", ROOT, variant="imbalanced")


def test_snips_sizes_entities_and_encoding() -> None:
    train, val = _quiet(load_snips, "train"), _quiet(load_snips, "validate")
    assert (len(train), len(val)) == (13_784, 700)
    assert len({e.label for e in train}) == 7
    assert set(Counter(e.label for e in val).values()) == {100}
    for e in train:
        e.text.encode("utf-8")  # no lone surrogates left (PlayMusic file is CESU-8-ish)
        for ent in e.metadata["entities"]:
            assert e.text[ent["start"]:ent["end"]] == ent["text"]
    assert any("🍕" in e.text for e in train if e.label == "PlayMusic")
    assert len(_quiet(load_snips, "val")) == 700  # validation alias


def test_nlupp_multilabel_folds_and_slots() -> None:
    banking, hotels = _quiet(load_nlupp, "banking"), _quiet(load_nlupp, "hotels")
    assert (len(banking), len(hotels)) == (2_071, 1_009)
    assert len(_quiet(load_nlupp, "all", folds=[0, 1])) == sum(
        1 for e in banking + hotels if e.metadata["fold"] in (0, 1)
    )
    assert all(isinstance(e.label, tuple) for e in banking)
    assert any(len(e.label) > 1 for e in banking)
    assert sum(1 for e in banking if e.label == ()) == 88  # slot-only rows, no intent
    assert any("slots" in e.metadata for e in hotels)
    assert {e.metadata["fold"] for e in hotels} == set(range(20))
    only3 = _quiet(load_nlupp, "hotels", folds=[3])
    assert only3 and {e.metadata["fold"] for e in only3} == {3}
    with pytest.raises(ValidationError, match="0-19"):
        load_nlupp("banking", folds=[20], root=ROOT)
    with pytest.raises(ValidationError, match="hotels"):
        load_nlupp("retail", root=ROOT)


def test_multidogo_context_is_previous_customer_turns() -> None:
    dev = _quiet(load_multidogo, "finance", "dev", context=3)
    assert len(dev) == 2_167
    by_conv: dict[str | None, list[LabelledExample]] = {}
    for e in dev:
        by_conv.setdefault(e.dialogue_id, []).append(e)
    assert len(by_conv) == 240
    for exs in by_conv.values():
        numbers = [e.turn_index for e in exs]
        assert numbers == sorted(numbers)
        for i, e in enumerate(exs):
            assert e.context == tuple(
                Turn(Role.CUSTOMER, p.text, metadata={"turn_number": p.turn_index})
                for p in exs[max(0, i - 3):i]
            )
            assert all(t.metadata["turn_number"] < (e.turn_index or 0) for t in e.context)
    assert all(e.context == () for e in _quiet(load_multidogo, "finance", "dev", context=0))
    train = _quiet(load_multidogo, "fastfood", "train")
    multi = [e for e in train if len(e.metadata["intents"]) > 1]
    assert multi and all(e.label == "+".join(sorted(e.metadata["intents"])) for e in multi)
    # quoted utterances with tabs / newlines inside are kept whole (no row-splitting)
    assert all("<CONV>" not in e.text for e in train)
    with pytest.raises(ValidationError, match="airline"):
        load_multidogo("retail", root=ROOT)


def test_multidogo_warns_about_empty_rows() -> None:
    with pytest.warns(UserWarning, match=r"skipped 6 source row\(s\) with empty text"):
        examples = load_multidogo("airline", "test", ROOT)
    assert len(examples) == 3_925


# ------------------------------------------------------------------ emotion / sarcasm


def test_goemotions_sizes_and_multilabel(goemotions: dict[str, list[LabelledExample]]) -> None:
    assert [len(goemotions[s]) for s in ("train", "dev", "test")] == [43_410, 5_426, 5_427]
    names = [n for n in (ROOT / "goemotions" / "labels.txt").read_text("utf-8").split() if n]
    assert len(names) == 28
    train = goemotions["train"]
    assert all(isinstance(e.label, tuple) and e.label for e in train)
    assert {lab for e in train for lab in e.label} == set(names)
    assert sum(1 for e in train if len(e.label) > 1) == 7_102
    # CSV-quoted texts are unescaped: no text keeps the wrapping quote plus doubled quotes
    assert not any(e.text.startswith('"') and '""' in e.text for e in train)


def test_mustard_balance_roles_and_context(mustard: list[LabelledExample]) -> None:
    assert len(mustard) == 690
    assert Counter(e.label for e in mustard) == {"sarcastic": 345, "not_sarcastic": 345}
    for e in mustard:
        assert 1 <= len(e.context) <= 11 and e.turn_index == len(e.context)
        for t in e.context:
            same = (t.speaker or "").casefold() == e.metadata["speaker"].casefold()
            assert t.role is (Role.CUSTOMER if same else Role.AGENT)
        assert e.metadata["show"] in {"FRIENDS", "BBT", "GOLDENGIRLS", "SARCASMOHOLICS"}
    first = mustard[0]
    assert first.dialogue_id == "1_60"
    assert [t.speaker for t in first.context] == ["LEONARD", "SHELDON"]


def test_mustard_folds_are_stratified_and_deterministic(mustard: list[LabelledExample]) -> None:
    folds = mustard_folds(mustard, n_folds=5, seed=0)
    tests = [test for _, test in folds]
    assert sorted(i for t in tests for i in t) == list(range(690))
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == 690
        assert Counter(mustard[i].label for i in test) == {"sarcastic": 69, "not_sarcastic": 69}
    assert mustard_folds(mustard, 5, 0) == folds
    assert mustard_folds(mustard, 5, 1) != folds
    with pytest.raises(ValidationError, match="n_folds"):
        mustard_folds(mustard, n_folds=1)


def test_cped_dialogues_roles_and_metadata(cped_valid: list[Dialogue]) -> None:
    assert len(cped_valid) == 934
    assert sum(len(d) for d in cped_valid) == 11_137
    for d in cped_valid:
        ids = [t.metadata["utterance_id"] for t in d.turns]
        assert ids == sorted(ids) and all(i.startswith(d.dialogue_id + "_") for i in ids)
        assert all(t.role is Role.CUSTOMER and t.speaker for t in d.turns)
        assert set(d.metadata["speakers"]) == {t.speaker for t in d.turns}
    turn = cped_valid[0].turns[0]
    assert {"emotion", "sentiment", "da", "gender", "scene"} <= set(turn.metadata)
    test = _quiet(load_cped, "test")
    assert (len(test), sum(len(d) for d in test)) == (2_815, 27_438)


def test_cped_examples_labels_and_context(cped_valid: list[Dialogue]) -> None:
    by_id = {d.dialogue_id: d for d in cped_valid}
    sizes = {"emotion": 13, "sentiment": 3, "da": 19}
    for label, n in sizes.items():
        examples = _quiet(cped_examples, "valid", label=label, context=5)
        assert len(examples) == 11_137
        assert len({e.label for e in examples}) == n
        for e in examples[:500]:
            assert e.dialogue_id is not None and len(e.context) <= 5
            _assert_context_precedes(e, by_id[e.dialogue_id])
    das = Counter(e.label for e in _quiet(cped_examples, "valid", label="da", context=0))
    assert das["irony"] == 122
    with pytest.raises(ValidationError, match="sentiment"):
        cped_examples("valid", ROOT, label="intent")


# ------------------------------------------------------------ task-oriented dialogues


def _check_woz(dialogues: list[Dialogue]) -> None:
    for d in dialogues:
        assert d.turns[0].role is Role.CUSTOMER
        assert [t.role for t in d.turns] == [
            Role.CUSTOMER if i % 2 == 0 else Role.AGENT for i in range(len(d))
        ]
        assert d.metadata["domains"]
        for t in d.turns:
            acts = t.metadata["dialogue_acts"]
            assert isinstance(acts, list)
            assert all(isinstance(a, list) and len(a) == 4 for a in acts)
            assert all(all(isinstance(x, str) for x in a) for a in acts)


def test_crosswoz_val(crosswoz_val: list[Dialogue]) -> None:
    assert len(crosswoz_val) == 500
    _check_woz(crosswoz_val)
    first = crosswoz_val[0].turns[0].metadata["dialogue_acts"]
    assert ["greet", "General", "none", "none"] in first  # General acts: intent first
    intents = {a[0] for d in crosswoz_val for t in d.turns for a in t.metadata["dialogue_acts"]}
    assert {"Inform", "Request", "greet", "thank"} <= intents and "General" not in intents


def test_crosswoz_natural_audit_matches_the_pairs(crosswoz_val: list[Dialogue]) -> None:
    """benchmarks/data/crosswoz_natural_audit.jsonl (the "answered?" pairs read by hand)
    names real pairs with the act label it records: every pair the acts call unanswered,
    in both splits, and 60 the acts call answered in test."""
    import json

    from csdialog.datasets import request_reply_pairs

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "crosswoz_natural_audit.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert all(set(r) == {"split", "dialogue_id", "turn_index", "acts_answered",
                          "reads_answered", "note"} for r in rows)
    assert all(isinstance(r["reads_answered"], bool) for r in rows)
    assert all(r["note"] for r in rows if not (r["acts_answered"] and r["reads_answered"]))
    for split, dialogues in (("val", crosswoz_val), ("test", _quiet(load_crosswoz, "test"))):
        pairs = {(p.dialogue_id, p.turn_index): p.answered
                 for p in request_reply_pairs(dialogues)}
        mine = [r for r in rows if r["split"] == split]
        assert all(pairs[(r["dialogue_id"], r["turn_index"])] == r["acts_answered"]
                   for r in mine)
        unanswered = {k for k, v in pairs.items() if not v}
        assert unanswered == {(r["dialogue_id"], r["turn_index"]) for r in mine
                              if not r["acts_answered"]}
    assert sum(r["acts_answered"] for r in rows) == 60


def test_multiwoz21_val(multiwoz21_val: list[Dialogue]) -> None:
    assert len(multiwoz21_val) == 999
    _check_woz(multiwoz21_val)
    d = multiwoz21_val[0]
    assert d.dialogue_id == "PMUL1635"
    assert d.turns[0].metadata["dialogue_acts"][0] == ["Inform", "Hotel", "Area", "east"]
    assert d.metadata["goal_domains"] == ("hotel", "train")
    test = _quiet(load_multiwoz21, "test")
    assert (len(test), sum(len(x) for x in test)) == (1_000, 14_744)


def test_multiwoz_zh_splits(multiwoz_zh_val: list[Dialogue]) -> None:
    # The data README says val 1,000; the file holds 999 (the same ids as MultiWOZ 2.1 val).
    assert len(multiwoz_zh_val) == 999
    _check_woz(multiwoz_zh_val)
    assert multiwoz_zh_val[0].turns[0].metadata["dialogue_acts"][0] == [
        "通知", "旅馆", "区域", "东方"
    ]
    assert len(_quiet(load_multiwoz_zh, "test")) == 1_000
    assert len(_quiet(load_multiwoz_zh, "human_val")) == 250


@pytest.mark.parametrize("granularity", ["intent", "intent-domain", "intent-domain-slot"])
def test_dialogue_act_examples(
    granularity: str, multiwoz21_val: list[Dialogue], crosswoz_val: list[Dialogue]
) -> None:
    n_parts = len(granularity.split("-"))
    for dialogues in (multiwoz21_val, crosswoz_val):
        by_id = {d.dialogue_id: d for d in dialogues}
        for role in (Role.CUSTOMER, Role.AGENT):
            examples = dialogue_act_examples(
                dialogues, role=role, granularity=granularity, context=2
            )
            assert examples
            for e in examples:
                assert isinstance(e.label, str) and e.label
                parts = e.label.split("+")
                assert parts == sorted(set(parts)) and all(parts)
                # rebuilt from the acts (CrossWOZ slot names may contain "-": 酒店设施-吹风机)
                acts = e.metadata["dialogue_acts"]
                expected = {
                    "-".join(x for j, x in enumerate(a[:n_parts]) if j < 2 or x not in ("", "none"))
                    for a in acts
                }
                assert set(parts) == expected
                assert {p.split("-")[0] for p in parts} == {a[0] for a in acts}
                assert e.dialogue_id is not None and len(e.context) <= 2
                dlg = by_id[e.dialogue_id]
                assert e.turn_index is not None and dlg.turns[e.turn_index].role is role
                _assert_context_precedes(e, dlg)
    ex = dialogue_act_examples(multiwoz21_val[:1], granularity=granularity)[0]
    assert ex.label == {
        "intent": "Inform",
        "intent-domain": "Inform-Hotel",
        "intent-domain-slot": "Inform-Hotel-Area+Inform-Hotel-Stars",
    }[granularity]


def test_dialogue_act_examples_general_and_errors(multiwoz21_val: list[Dialogue]) -> None:
    labels = {e.label for e in dialogue_act_examples(multiwoz21_val, granularity="intent")}
    assert "thank" in labels or any("thank" in lab.split("+") for lab in labels)
    slot_labels = {
        p for e in dialogue_act_examples(multiwoz21_val) for p in str(e.label).split("+")
    }
    assert "thank-general" in slot_labels and "thank-general-none" not in slot_labels
    with pytest.raises(ValidationError, match="intent-domain-slot"):
        dialogue_act_examples(multiwoz21_val, granularity="slot")
    with pytest.raises(ValidationError, match="role"):
        dialogue_act_examples(multiwoz21_val, role="narrator")


def test_results_are_json_ready(
    mustard: list[LabelledExample], crosswoz_val: list[Dialogue]
) -> None:
    samples: list[Any] = [mustard[0].to_dict(), crosswoz_val[0].to_dict()]
    samples += [e.to_dict() for e in dialogue_act_examples(crosswoz_val[:1])]
    samples += [e.to_dict() for e in _quiet(load_snips, "validate")[:5]]
    samples += [e.to_dict() for e in _quiet(load_nlupp, "hotels", folds=[0])[:20]]
    json.dumps(samples, ensure_ascii=False)


# --------------------------------------------------------------- validation / errors


@pytest.mark.parametrize(
    ("loader", "args", "valid"),
    [
        (load_banking77, ("dev",), "['train', 'test']"),
        (load_clinc150, ("dev2",), "['train', 'val', 'test']"),
        (load_goemotions, ("holdout",), "['train', 'dev', 'test']"),
        (load_cped, ("train",), "['valid', 'test']"),
        (load_crosswoz, ("train",), "['val', 'test']"),
        (load_multiwoz_zh, ("train",), "['val', 'test', 'human_val']"),
        (load_multiwoz21, ("train",), "['val', 'test']"),
        (load_multidogo, ("media", "validation2"), "['train', 'dev', 'test']"),
    ],
)
def test_unknown_split_lists_valid_ones(
    loader: Callable[..., Any], args: tuple[str, ...], valid: str
) -> None:
    with pytest.raises(ValidationError, match="unknown split") as info:
        loader(*args, root=ROOT)
    assert valid in str(info.value)


def test_validation_split_aliases(goemotions: dict[str, list[LabelledExample]]) -> None:
    assert _quiet(load_goemotions, "validation") == goemotions["dev"]
    assert len(_quiet(load_cped, "dev")) == 934
    assert len(_quiet(load_clinc150, "dev", include_oos=False)) == 3_000


def test_data_root_explicit_env_and_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    assert data_root(ROOT) == ROOT.resolve()
    assert data_root(str(ROOT)) == ROOT.resolve()
    monkeypatch.setenv(DATA_ENV_VAR, str(ROOT))
    assert data_root() == ROOT.resolve()
    monkeypatch.delenv(DATA_ENV_VAR)
    project, shared = tmp_path / "proj", tmp_path / "shared" / "datasets"
    project.mkdir()
    shared.mkdir(parents=True)
    monkeypatch.chdir(project)
    assert data_root() == shared.resolve()  # ./../shared/datasets
    monkeypatch.chdir(tmp_path)
    assert data_root() == shared.resolve()  # ./shared/datasets


def test_data_root_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        data_root()
    msg = str(info.value)
    assert "root=" in msg and DATA_ENV_VAR in msg
    assert str((tmp_path / "shared" / "datasets").resolve()) in msg
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="root= argument") as info:
        data_root(missing)
    assert str(missing) in str(info.value) and DATA_ENV_VAR in str(info.value)
    monkeypatch.setenv(DATA_ENV_VAR, str(missing))
    with pytest.raises(FileNotFoundError, match=f"{DATA_ENV_VAR} environment variable"):
        data_root()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(DataFormatError, match="is a file"):
        data_root(a_file)


def test_missing_folder_and_file_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="banking77") as info:
        load_banking77("train", tmp_path)
    assert "root=" in str(info.value)
    (tmp_path / "banking77").mkdir()
    with pytest.raises(FileNotFoundError) as info:
        load_banking77("train", tmp_path)
    assert str(tmp_path / "banking77" / "train.csv") in str(info.value)
    assert DATA_ENV_VAR in str(info.value)


def test_unusable_rows_are_skipped_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "banking77"
    folder.mkdir()
    (folder / "test.csv").write_text(
        'text,category\nwhere is my card?,card_arrival\n"  ",card_arrival\n,top_up\n',
        encoding="utf-8",
    )
    with pytest.warns(UserWarning, match=r"skipped 2 source row\(s\) with empty text"):
        examples = load_banking77("test", tmp_path)
    assert [e.text for e in examples] == ["where is my card?"]
    (folder / "train.csv").write_text("sentence,label\nhi,greet\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="category"):
        load_banking77("train", tmp_path)


def test_labelled_example_validation_and_freezing() -> None:
    ex = LabelledExample("hi", ["a", "b"], context=[{"role": "agent", "text": "hello"}],
                         dialogue_id=7, turn_index=1, metadata={"k": 1})
    assert ex.label == ("a", "b") and ex.dialogue_id == "7"
    assert ex.context[0].role is Role.AGENT
    with pytest.raises(TypeError):
        ex.metadata["k"] = 2  # type: ignore[index]
    twin = LabelledExample("hi", ("a", "b"), ex.context, "7", 1, {"k": 1})
    assert ex == twin and hash(ex) == hash(twin)
    assert ex != LabelledExample("hi", ("a", "b"), ex.context, "7", 1, {"k": 2})
    for bad in (
        lambda: LabelledExample("  ", "x"),
        lambda: LabelledExample("hi", ""),
        lambda: LabelledExample("hi", 3),  # type: ignore[arg-type]
        lambda: LabelledExample("hi", "x", turn_index=-1),
        lambda: LabelledExample("hi", "x", context="not turns"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError):
            bad()
