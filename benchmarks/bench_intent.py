"""Intent classification: csdialog's IntentClassifier against the anchors, same data, same
encoder, same run.

Parts (``--part``, several allowed):

* ``banking77``: full training data (10,003) -> test (3,080). Methods: zero-shot by
  nearest label name; anchor: scikit-learn ``LogisticRegression()`` (defaults) on the
  frozen embeddings; csdialog ``head``; csdialog ``finetune`` (encoder fine-tuned, early
  stopping on a 10% split of train).
* ``banking77-10shot``: 10 examples per intent (seeded draw from train) -> test. Methods:
  zero-shot, the LR anchor, csdialog ``head``, csdialog ``finetune`` with the contrastive
  loss, and the SetFit anchor (``setfit`` with the same e5 folder, 5 pair iterations, 1
  epoch, logistic head).
* ``clinc150``: train (in-scope 15,000 + 100 out-of-scope) -> test (4,500 + 1,000 oos); the
  out-of-scope threshold is calibrated on the validation split. Anchor: LR, no OOS handling.
* ``multidogo``: the six customer-service domains (train capped at ``--cap`` turns per
  domain, seeded), macro-F1 on test, csdialog ``head`` with window 0 vs window 3.
* ``nlupp``: multi-label, the 20-fold low-data protocol (train on one fold, test on the
  other 19, averaged over the 20 folds) for banking and hotels. Anchor: one-vs-rest LR.

Every method of a part gets the same embeddings (one cached encoder per run). Reports
accuracy / macro-F1 / micro-F1, ECE, training seconds and inference turns/s (2 cores).

    python benchmarks/bench_intent.py --part banking77 banking77-10shot clinc150 multidogo nlupp
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, write_results

SEED = 0


def _cached(name: str, pretuned: str | None = None) -> Any:
    """The encoder behind a disk cache (``_embcache``): every method of a part, and re-runs,
    see the same vectors; call ``.save()`` after a part. ``pretuned``: a folder saved by a
    fine-tuned classifier (``--save-model``); its encoder replaces ``name``, cached for this
    run only (a folder's name says nothing about the weights inside it)."""
    import tempfile

    from _embcache import DiskCachedEncoder, cached_encoder

    from csdialog.intent import IntentClassifier

    if pretuned:
        return DiskCachedEncoder(IntentClassifier.from_pretrained(pretuned).encoder_,
                                 directory=tempfile.mkdtemp(prefix="csdialog-emb-"))
    return cached_encoder(name, **({"batch_size": 32} if name.startswith("e5") else {}))


def _scores(clf: Any, items: list[Any], labels: list[str], oos: str | None = None) -> dict[str, Any]:
    from csdialog.evaluation import classification_scores, expected_calibration_error

    t0 = time.perf_counter()
    P = clf.predict_proba(items)
    preds = clf._decide(P)
    secs = time.perf_counter() - t0
    out: dict[str, Any] = classification_scores(labels, [p.label for p in preds], oos_label=oos)
    index = {c: i for i, c in enumerate(clf.classes_)}
    ins = [i for i, lab in enumerate(labels) if lab in index]
    out["ece"] = expected_calibration_error(P[ins], [index[labels[i]] for i in ins])
    out["predict_s"] = round(secs, 2)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def _lr_anchor(enc: Any, tr_texts: list[str], tr_y: list[str], te_texts: list[str],
               te_y: list[str], oos: str | None = None) -> tuple[dict[str, Any], float]:
    from sklearn.linear_model import LogisticRegression

    from csdialog.evaluation import classification_scores, expected_calibration_error

    keep = [i for i, y in enumerate(tr_y) if y != oos]
    t0 = time.perf_counter()
    lr = LogisticRegression(max_iter=2000).fit(enc.encode([tr_texts[i] for i in keep]),
                                                [tr_y[i] for i in keep])
    secs = time.perf_counter() - t0
    P = lr.predict_proba(enc.encode(te_texts))
    pred = lr.classes_[P.argmax(1)]
    out: dict[str, Any] = classification_scores(te_y, pred, oos_label=oos)
    index = {c: i for i, c in enumerate(lr.classes_)}
    ins = [i for i, y in enumerate(te_y) if y in index]
    out["ece"] = expected_calibration_error(P[ins], [index[te_y[i]] for i in ins])
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}, secs


def _speed(clf: Any, texts: list[str], encoder_name: str) -> float:
    """Turns/s of classify() with a fresh, uncached encoder (embedding included)."""
    from csdialog.encoders import get_encoder

    saved = clf.encoder_
    if encoder_name and not getattr(saved, "name", "").endswith("-ft"):
        clf.encoder_ = get_encoder(encoder_name)
    clf.encoder_.encode(["warm up"])
    t0 = time.perf_counter()
    clf.classify(texts)
    secs = time.perf_counter() - t0
    clf.encoder_ = saved
    return round(len(texts) / secs, 1)


def _draw(train: list[Any], shots: int, seed: int) -> list[Any]:
    """``shots`` examples per label, drawn with ``seed`` (seed 0 is the draw of the tables)."""
    rng = random.Random(seed)
    by: dict[str, list[Any]] = defaultdict(list)
    for e in train:
        by[e.label].append(e)
    return [e for lab in sorted(by) for e in rng.sample(by[lab], shots)]


def _draws(enc: Any, full: list[Any], shots: int, n: int, te_t: list[str], te_y: list[str],
           name: str) -> list[Row]:
    """Mean and spread of the head (and of the LR anchor) over ``n`` draws of the examples."""
    from csdialog.intent import IntentClassifier

    encoders = [enc, *getattr(enc, "parts", [])]
    acc: dict[tuple[str, str], list[float]] = defaultdict(list)
    for seed in range(n):
        train = _draw(full, shots, SEED + seed)
        tr_t, tr_y = [e.text for e in train], [e.label for e in train]
        for e in encoders:
            head = IntentClassifier(e, window=0, random_state=SEED).fit(tr_t, tr_y)
            acc[("csdialog head", e.name)].append(head.score(te_t, te_y))
        named = IntentClassifier(enc, window=0, description_examples=True,
                                 random_state=SEED).fit(tr_t, tr_y)
        acc[("csdialog head + label names as examples", enc.name)].append(
            named.score(te_t, te_y))
        m, _ = _lr_anchor(enc, tr_t, tr_y, te_t, te_y)
        acc[("anchor: LogisticRegression on frozen embeddings", enc.name)].append(m["accuracy"])
    return [Row(name, f"{method}, mean of {n} draws", enc_name, {
        "accuracy": round(float(np.mean(v)), 4), "accuracy_sd": round(float(np.std(v)), 4),
        "accuracy_min": round(float(np.min(v)), 4)}, notes=f"draw seeds {SEED}..{SEED + n - 1}")
        for (method, enc_name), v in acc.items()]


def _part_heads(enc: Any, tr_t: list[Any], tr_y: list[str], te_t: list[Any],
                te_y: list[str], name: str, oos: str | None = None,
                **fit: Any) -> list[Row]:
    """For a concat encoder: the same head on each part alone (what the ensemble adds)."""
    from csdialog.intent import IntentClassifier

    rows = []
    for part in getattr(enc, "parts", []):
        t0 = time.perf_counter()
        head = IntentClassifier(part, window=0, oos_label=oos, random_state=SEED).fit(
            tr_t, tr_y, **fit)
        secs = time.perf_counter() - t0
        m = _scores(head, te_t, te_y, oos=oos)
        if oos:
            m["oos_threshold"] = round(head.oos_threshold_ or 0.0, 4)
        rows.append(Row(name, "csdialog head, one part of the concat encoder"
                        + (" + OOS threshold" if oos else ""), part.name, m, round(secs, 1)))
    return rows


def _fine_tunable(enc: Any) -> bool:
    if hasattr(enc, "parts"):
        print("[finetune skipped: a concat encoder is not fine-tuned; fine-tune a part]",
              flush=True)
        return False
    return True


def _zero_shot(enc: Any, te: list[Any], te_y: list[str], classes: list[str]) -> Row:
    from csdialog.intent import IntentClassifier

    t0 = time.perf_counter()
    clf = IntentClassifier(enc, method="zero-shot", window=0,
                           label_descriptions={c: c.replace("_", " ") for c in classes}).fit()
    return Row("", "zero-shot (nearest label name)", enc.name, _scores(clf, te, te_y),
               round(time.perf_counter() - t0, 1))


def part_banking77(root: str, encoder: str, shots: int | None, args: Any) -> list[Row]:
    from csdialog.datasets import load_banking77
    from csdialog.intent import IntentClassifier
    from csdialog.training import FineTuneArgs

    full, test = load_banking77("train", root), load_banking77("test", root)
    name = "banking77" if shots is None else f"banking77-{shots}shot"
    train = full if shots is None else _draw(full, shots, SEED)
    enc = _cached(encoder, args.pretuned)
    tr_t, tr_y = [e.text for e in train], [e.label for e in train]
    te_t, te_y = [e.text for e in test], [e.label for e in test]
    rows: list[Row] = []
    row = _zero_shot(enc, te_t, te_y, sorted(set(tr_y)))
    rows.append(row)
    m, secs = _lr_anchor(enc, tr_t, tr_y, te_t, te_y)
    rows.append(Row(name, "anchor: LogisticRegression on frozen embeddings", enc.name, m,
                    round(secs, 1)))
    t0 = time.perf_counter()
    head = IntentClassifier(enc, window=0, random_state=SEED).fit(tr_t, tr_y)
    secs = time.perf_counter() - t0
    m = _scores(head, te_t, te_y)
    m["turns_per_s"] = _speed(head, te_t[:1000], encoder)
    rows.append(Row(name, "csdialog head", enc.name, m, round(secs, 1)))
    rows += _part_heads(enc, tr_t, tr_y, te_t, te_y, name)
    if shots is not None:  # the label names as one more example each
        t0 = time.perf_counter()
        named = IntentClassifier(enc, window=0, description_examples=True,
                                 random_state=SEED).fit(tr_t, tr_y)
        rows.append(Row(name, "csdialog head + label names as examples", enc.name,
                        _scores(named, te_t, te_y), round(time.perf_counter() - t0, 1)))
    if shots is not None and args.shot_draws > 1:  # one draw of k examples is a noisy estimate
        rows += _draws(enc, full, shots, args.shot_draws, te_t, te_y, name)
    enc.save()
    if "finetune" in args.methods and _fine_tunable(enc):
        if shots is None:
            ft_args = FineTuneArgs(loss="softmax", epochs=args.epochs, batch_size=32,
                                   learning_rate=args.lr, seed=SEED, show_progress=True)
            idx = list(range(len(tr_t)))
            random.Random(SEED).shuffle(idx)
            n_val = 0 if args.no_holdout else len(idx) // 10
            val_i, fit_i = sorted(idx[:n_val]), sorted(idx[n_val:])
            fit_args: dict[str, Any] = {
                "validation": [tr_t[i] for i in val_i],
                "validation_y": [tr_y[i] for i in val_i]} if val_i else {}
            X, Y = [tr_t[i] for i in fit_i], [tr_y[i] for i in fit_i]
        else:
            ft_args = FineTuneArgs(loss="contrastive", epochs=args.fewshot_epochs,
                                   batch_size=32, learning_rate=args.lr, seed=SEED,
                                   show_progress=True)
            fit_args, X, Y = {}, tr_t, tr_y
        base = enc.encoder  # the uncached e5 (fine-tuning copies its model)
        t0 = time.perf_counter()
        ft = IntentClassifier(base, method="finetune", window=0, finetune_args=ft_args,
                              random_state=SEED).fit(X, Y, **fit_args)
        secs = time.perf_counter() - t0
        m = _scores(ft, te_t, te_y)
        m["turns_per_s"] = _speed(ft, te_t[:1000], "")
        log = ft.finetune_log_
        rows.append(Row(name, f"csdialog finetune ({ft_args.loss})", ft.encoder_.name, m,
                        round(secs, 1), notes=f"epochs run {len(log.epochs)}, best "
                        f"{log.best_epoch}" if log else ""))
    if shots is not None and "setfit" in args.methods:
        models = args.setfit_models or ["e5-small"] + (
            ["minilm"] if "minilm" in enc.name.split(":")[-1].split("+") else [])
        for model in models:
            rows.append(_setfit(tr_t, tr_y, te_t, te_y, name, args, model=model))
    for r in rows:
        r.dataset = name
    return rows


def _setfit(tr_t: list[str], tr_y: list[str], te_t: list[str], te_y: list[str], name: str,
            args: Any, model: str = "e5-small") -> Row:
    """SetFit (its own trainer) from the e5-small folder, or from the MiniLM folder."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from csdialog.encoders import minilm_folder
    from csdialog.encoders.e5build import build_e5_folder
    from csdialog.evaluation import classification_scores

    folder = str(build_e5_folder() if model == "e5-small" else minilm_folder())
    prompt = "query: " if model == "e5-small" else ""
    t0 = time.perf_counter()
    setfit = SetFitModel.from_pretrained(folder, local_files_only=True)
    import tempfile

    scratch = tempfile.mkdtemp(prefix="setfit-")  # its checkpoints never land in the repo
    targs = TrainingArguments(output_dir=scratch, batch_size=16,
                              num_iterations=args.setfit_iterations, num_epochs=1, seed=SEED,
                              report_to="none", save_strategy="no")
    trainer = Trainer(model=setfit, args=targs, train_dataset=Dataset.from_dict(
        {"text": [prompt + t for t in tr_t], "label": tr_y}))
    trainer.train()
    secs = time.perf_counter() - t0
    t1 = time.perf_counter()
    pred = setfit.predict([prompt + t for t in te_t], batch_size=32)
    speed = len(te_t) / (time.perf_counter() - t1)
    m: dict[str, Any] = {k: round(v, 4) for k, v in classification_scores(
        te_y, [str(p) for p in pred]).items()}
    m["turns_per_s"] = round(speed, 1)
    return Row(name, f"anchor: SetFit ({args.setfit_iterations} iterations, 1 epoch)",
               model, m, round(secs, 1))


def part_clinc150(root: str, encoder: str, args: Any) -> list[Row]:
    from csdialog.datasets import load_clinc150
    from csdialog.intent import IntentClassifier
    from csdialog.training import FineTuneArgs

    train = load_clinc150("train", root)
    val = load_clinc150("val", root)
    test = load_clinc150("test", root)
    enc = _cached(encoder)
    tr_t, tr_y = [e.text for e in train], [e.label for e in train]
    va_t, va_y = [e.text for e in val], [e.label for e in val]
    te_t, te_y = [e.text for e in test], [e.label for e in test]
    rows: list[Row] = []
    m, secs = _lr_anchor(enc, tr_t, tr_y, te_t, te_y, oos="oos")
    rows.append(Row("clinc150", "anchor: LogisticRegression (no OOS handling)", enc.name, m,
                    round(secs, 1)))
    t0 = time.perf_counter()
    clf = IntentClassifier(enc, window=0, oos_label="oos", random_state=SEED).fit(
        tr_t, tr_y, validation=va_t, validation_y=va_y)
    secs = time.perf_counter() - t0
    m = _scores(clf, te_t, te_y, oos="oos")
    m["oos_threshold"] = round(clf.oos_threshold_ or 0.0, 4)
    rows.append(Row("clinc150", "csdialog head + OOS threshold", enc.name, m, round(secs, 1)))
    rows += _part_heads(enc, tr_t, tr_y, te_t, te_y, "clinc150", oos="oos", validation=va_t,
                        validation_y=va_y)
    enc.save()
    if "finetune" in args.methods and _fine_tunable(enc):
        ft_args = FineTuneArgs(loss="softmax", epochs=args.epochs, batch_size=32,
                               learning_rate=args.lr, seed=SEED, show_progress=True)
        t0 = time.perf_counter()
        ft = IntentClassifier(enc.encoder, method="finetune", window=0, oos_label="oos",
                              finetune_args=ft_args, random_state=SEED).fit(
            tr_t, tr_y, validation=va_t, validation_y=va_y)
        secs = time.perf_counter() - t0
        m = _scores(ft, te_t, te_y, oos="oos")
        m["oos_threshold"] = round(ft.oos_threshold_ or 0.0, 4)
        log = ft.finetune_log_
        rows.append(Row("clinc150", "csdialog finetune + OOS threshold", ft.encoder_.name, m,
                        round(secs, 1), notes=f"epochs run {len(log.epochs)}, best "
                        f"{log.best_epoch}" if log else ""))
        if args.save_model:
            ft.save_pretrained(args.save_model, card={"data": "clinc150 train (150 intents + "
                                                      "oos), OOS threshold on val"})
    return rows


def part_multidogo(root: str, encoder: str, args: Any) -> list[Row]:
    from csdialog.datasets import load_multidogo
    from csdialog.intent import IntentClassifier

    enc = _cached(encoder)
    rows: list[Row] = []
    rng = random.Random(SEED)
    for domain in ("airline", "fastfood", "finance", "insurance", "media", "software"):
        train = load_multidogo(domain, "train", root, context=3)
        test = load_multidogo(domain, "test", root, context=3)
        if args.cap and len(train) > args.cap:
            train = rng.sample(train, args.cap)
        if args.cap and len(test) > args.cap:
            test = rng.sample(test, args.cap)
        te_y = [e.label for e in test]
        for window, mode in ((0, "features"), (3, "features"), (3, "text")):
            t0 = time.perf_counter()
            clf = IntentClassifier(enc, window=window, context_mode=mode,
                                   random_state=SEED).fit(train)
            secs = time.perf_counter() - t0
            rows.append(Row(f"multidogo-{domain}", f"csdialog head, window {window}"
                            + (f" ({mode})" if window else ""), enc.name,
                            _scores(clf, test, te_y), round(secs, 1),
                            notes=f"train {len(train)}, test {len(test)}"))
        rows += _previous_intent_diagnostic(enc, domain, root, train, test)
        enc.save()
    # macro average over the domains, per method
    by: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by[r.method].append(float(r.metrics["macro_f1"]))  # type: ignore[arg-type]
    for method, vals in by.items():
        rows.append(Row("multidogo (mean of 6)", method, enc.name,
                        {"macro_f1": round(float(np.mean(vals)), 4)}))
    return rows


def _previous_intent_diagnostic(enc: Any, domain: str, root: str, train: list[Any],
                                test: list[Any]) -> list[Row]:
    """How much could context help at all? Logistic regression on the turn's vector, then
    on the turn's vector plus the *gold* intent of the previous customer turn (one-hot;
    an oracle no model has at run time)."""
    from sklearn.linear_model import LogisticRegression

    from csdialog.datasets import load_multidogo
    from csdialog.evaluation import classification_scores

    gold = {(e.dialogue_id, e.turn_index): e.label
            for split in ("train", "dev", "test")
            for e in load_multidogo(domain, split, root, context=0)}
    labels = [*sorted({e.label for e in train}), "<none>"]
    index = {lab: i for i, lab in enumerate(labels)}

    def feats(examples: list[Any], oracle: bool) -> np.ndarray:
        X = enc.encode([e.text for e in examples])
        if not oracle:
            return X
        P = np.zeros((len(examples), len(labels)), dtype=np.float32)
        for i, e in enumerate(examples):
            prev = gold.get((e.dialogue_id, e.context[-1].metadata.get("turn_number")),
                            "<none>") if e.context else "<none>"
            P[i, index.get(prev, index["<none>"])] = 1.0
        return np.hstack([X, P])

    rows = []
    for oracle in (False, True):
        lr = LogisticRegression(C=10.0, max_iter=2000).fit(feats(train, oracle),
                                                           [e.label for e in train])
        pred = lr.predict(feats(test, oracle))
        m = classification_scores([e.label for e in test], [str(p) for p in pred])
        rows.append(Row(f"multidogo-{domain}", "diagnostic: LR on the turn" + (
            " + the previous customer turn's gold intent (oracle)" if oracle else ""),
            enc.name, {k: round(float(v), 4) for k, v in m.items()}))
    return rows


def part_nlupp(root: str, encoder: str, args: Any) -> list[Row]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    from csdialog.datasets import load_nlupp
    from csdialog.evaluation import multilabel_scores
    from csdialog.intent import IntentClassifier

    enc = _cached(encoder)
    rows: list[Row] = []
    for domain in ("banking", "hotels"):
        folds = {f: load_nlupp(domain, folds=[f], root=root) for f in range(20)}
        ours, anchor = [], []
        t_ours = t_anchor = 0.0
        for f in range(args.nlupp_folds):
            train = folds[f]
            test = [e for g in range(20) if g != f for e in folds[g]]
            t_true = [e.label for e in test]
            t0 = time.perf_counter()
            clf = IntentClassifier(enc, window=0, random_state=SEED).fit(train)
            t_ours += time.perf_counter() - t0
            ours.append(multilabel_scores(t_true, list(clf.predict(test))))
            mlb = MultiLabelBinarizer().fit([e.label for e in train])
            t0 = time.perf_counter()
            ovr = OneVsRestClassifier(LogisticRegression(max_iter=2000)).fit(
                enc.encode([e.text for e in train]), mlb.transform([e.label for e in train]))
            t_anchor += time.perf_counter() - t0
            P = ovr.predict_proba(enc.encode([e.text for e in test])) >= 0.5
            anchor.append(multilabel_scores(t_true, [tuple(mlb.classes_[r]) for r in P]))
        for method, res, secs in (("anchor: one-vs-rest LogisticRegression", anchor, t_anchor),
                                  ("csdialog head (multi-label)", ours, t_ours)):
            m = {k: round(float(np.mean([r[k] for r in res])), 4) for k in res[0]}
            rows.append(Row(f"nlupp-{domain} (1 fold -> 19)", method, enc.name, m,
                            round(secs, 1), notes=f"mean of {len(res)} folds"))
    enc.save()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", nargs="+", default=["banking77-10shot", "clinc150", "multidogo",
                                                  "nlupp"],
                    choices=["banking77", "banking77-10shot", "clinc150", "multidogo", "nlupp"])
    ap.add_argument("--methods", nargs="+", default=["finetune", "setfit"],
                    help="optional slow methods to include: finetune, setfit")
    ap.add_argument("--encoder", default="e5-small")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--fewshot-epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--setfit-iterations", type=int, default=5)
    ap.add_argument("--setfit-models", nargs="+", default=None,
                    choices=["e5-small", "minilm"],
                    help="the SetFit anchor starts from these models, one row each (default: "
                         "e5-small, and minilm when the encoder has a minilm part)")
    ap.add_argument("--shot-draws", type=int, default=5,
                    help="banking77-10shot: also report the heads' mean accuracy over this "
                         "many draws of the k examples (1: the seed-0 draw only)")
    ap.add_argument("--cap", type=int, default=1500, help="multidogo turns per domain and split")
    ap.add_argument("--nlupp-folds", type=int, default=20)
    ap.add_argument("--no-holdout", action="store_true",
                    help="banking77 full data: fine-tune on all of train for --epochs epochs "
                         "(no 10%% held out, so no early stopping)")
    ap.add_argument("--save-model", default=None,
                    help="clinc150: save the fine-tuned classifier to this folder")
    ap.add_argument("--pretuned", default=None,
                    help="banking77 parts: start from the encoder of a classifier folder saved "
                         "with --save-model (e.g. tuned on clinc150) instead of --encoder")
    args = ap.parse_args()
    for part in args.part:
        t0 = time.perf_counter()
        if part.startswith("banking77"):
            rows = part_banking77(args.data_root, args.encoder,
                                  10 if part.endswith("10shot") else None, args)
        else:
            rows = globals()[f"part_{part}"](args.data_root, args.encoder, args)
        name = f"intent_{part.replace('-', '_')}_{args.encoder.replace(':', '-')}"
        if args.no_holdout and part == "banking77":
            name += "_no_holdout"
        if args.pretuned and part.startswith("banking77"):
            name += f"_pretuned_{Path(args.pretuned).name}"
        _, md = write_results(name, rows, args.out, seed=SEED, config=vars(args))
        print(Path(md).read_text(), flush=True)
        print(f"[{part}: {time.perf_counter() - t0:.0f}s]", flush=True)


if __name__ == "__main__":
    main()
