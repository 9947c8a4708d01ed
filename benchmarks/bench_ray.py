"""The pipeline in one process (``Pipeline.stream``) vs on a local Ray instance with 2 actors
(``csdialog.ray.analyze``), same file, same steps, each in a fresh process.

Input: the realistic chats of ``bench_memory.py`` (CrossWOZ and MultiWOZ 2.1 val + test
dialogues, Chinese and English, repeated with new ids, customers and timestamps until the
file holds ``N`` turns). Both runs write every output and the report.

Steps: viewpoints, answers, inspection and alerts with the deterministic hashing encoder
(``--encoder hashing``, for the large sizes), or everything including the shipped emotion
model on e5-small (``--encoder e5-small``; at ~200 turns/s per core a million turns would
take well over an hour on 2 cores, so use it for small sizes).

Measured: wall-clock seconds (``ray.init`` excluded and reported apart), peak resident memory
of the in-process run, of the Ray driver (sampling, fit, reduce, writing) and of each actor
(read with ``getrusage`` inside the actor after every batch).

    python benchmarks/bench_ray.py --turns 20000 1000000
    python benchmarks/bench_ray.py --turns 20000 --encoder e5-small
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _harness import Row, peak_rss_mb, run_isolated, write_results  # noqa: E402
from bench_memory import build_file  # noqa: E402

from csdialog.ray import DialogueAnnotator  # noqa: E402

HASHING_STEPS = ("viewpoints", "answers", "inspection", "alerts")
FULL_STEPS = ("emotion", "viewpoints", "answers", "inspection", "alerts")


class PeakMemoryAnnotator(DialogueAnnotator):
    """The annotator, writing its process's peak RSS to ``<stats>/<pid>.json`` after each batch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stats = Path(os.environ["CSDIALOG_BENCH_STATS"])
        self.batches = self.rows = 0
        super().__init__(*args, **kwargs)

    def __call__(self, batch: Any) -> Any:
        out = super().__call__(batch)
        self.batches += 1
        self.rows += out.num_rows
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        (self.stats / f"{os.getpid()}.json").write_text(json.dumps(
            {"pid": os.getpid(), "peak_rss_mb": round(rss, 1), "batches": self.batches, "rows": self.rows}))
        return out


def _steps(encoder: str) -> tuple[str, ...]:
    return HASHING_STEPS if encoder == "hashing" else FULL_STEPS


def _job_local(path: str, out: str, encoder: str, batch_size: int) -> dict[str, Any]:
    from csdialog.encoders import get_encoder
    from csdialog.pipeline import Pipeline

    t0 = time.perf_counter()
    enc = get_encoder(encoder, **({"dim": 256} if encoder == "hashing" else {}))
    pipe = Pipeline(_steps(encoder), encoder=enc, chunk_size=batch_size)
    summary = pipe.stream(path, out, resume=False)["summary"]
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "turns": summary["turns"], "dialogues": summary["dialogues"], "questions": summary["questions"],
            "viewpoints": summary["viewpoints"]}


def _job_ray(path: str, out: str, encoder: str, batch_size: int, actors: int) -> dict[str, Any]:
    import ray

    from csdialog.ray import PipelineSpec, analyze

    stats = Path(out + "-actors")
    stats.mkdir(parents=True, exist_ok=True)
    os.environ["CSDIALOG_BENCH_STATS"] = str(stats)
    t0 = time.perf_counter()
    ray.init(num_cpus=actors, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"CSDIALOG_BENCH_STATS": str(stats)}})
    ray.data.DataContext.get_current().enable_progress_bars = False
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    init = time.perf_counter() - t0
    spec = PipelineSpec(steps=_steps(encoder), encoder=encoder,
                        encoder_kwargs={"dim": 256} if encoder == "hashing" else {})
    t0 = time.perf_counter()
    # each actor holds half a CPU of the 2: reading and the small tasks run beside them
    result = analyze(path, spec, num_actors=actors, num_cpus=(actors - 1) / actors if actors > 1 else 0.5,
                     batch_size=batch_size, annotator=PeakMemoryAnnotator)
    t_analyze = time.perf_counter() - t0
    result.save(out)
    seconds = time.perf_counter() - t0
    s = result.summary
    workers = [json.loads(p.read_text()) for p in sorted(stats.glob("*.json"))]
    ray.shutdown()
    return {"seconds": round(seconds, 1), "analyze_seconds": round(t_analyze, 1),
            "ray_init_seconds": round(init, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "actor_peak_rss_mb": [w["peak_rss_mb"] for w in workers],
            "actor_rows": [w["rows"] for w in workers], "timings": s["timings"],
            "turns": s["turns"], "dialogues": s["dialogues"], "questions": s["questions"],
            "viewpoints": s["viewpoints"], "candidates": s["candidate_viewpoints"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, nargs="+", default=[20_000, 1_000_000])
    ap.add_argument("--encoder", choices=["hashing", "e5-small"], default="hashing")
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--only", choices=["local", "ray"], default=None)
    ap.add_argument("--name", default=None, help="results name (default: ray_<encoder>)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args()
    rows: list[Row] = []
    enc_name = "hashing-256" if args.encoder == "hashing" else "e5-small"
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.turns:
            path = Path(tmp) / f"chats-{n}.jsonl"
            n_dialogues = build_file(path, n)
            size_mb = path.stat().st_size / 2**20
            label = f"{n:,} turns ({size_mb:.0f} MB, {n_dialogues:,} dialogues)"
            for mode in ("local", "ray"):
                if args.only and mode != args.only:
                    continue
                out = str(Path(tmp) / f"out-{mode}-{n}")
                try:
                    if mode == "local":
                        res, _ = run_isolated(_job_local, str(path), out, args.encoder, args.batch_size)
                    else:
                        res, _ = run_isolated(_job_ray, str(path), out, args.encoder, args.batch_size,
                                              args.actors)
                except RuntimeError as exc:
                    res = str(exc).strip().splitlines()[-1]
                print(n, mode, res, flush=True)
                method = "Pipeline.stream (1 process)" if mode == "local" else (
                    f"csdialog.ray.analyze ({args.actors} actors)")
                if not isinstance(res, dict):
                    rows.append(Row(label, method, enc_name, {"error": str(res)[:200]}))
                    continue
                metrics: dict[str, Any] = {
                    "turns/s": round(res["turns"] / res["seconds"]),
                    "peak RSS MB (process / driver)": res["peak_rss_mb"],
                    "peak RSS MB per actor": " / ".join(f"{x:.0f}" for x in res.get("actor_peak_rss_mb", []))
                    or None,
                    "viewpoints": res["viewpoints"],
                }
                notes = ""
                if mode == "ray":
                    t = res["timings"]
                    notes = (f"ray.init {res['ray_init_seconds']}s not counted; fit {t['sample_fit']}s, "
                             f"annotate {t['annotate']}s, reduce {t['reduce']}s, "
                             f"writing {round(res['seconds'] - res['analyze_seconds'], 1)}s; "
                             f"dialogues per actor {' / '.join(map(str, res['actor_rows']))}")
                rows.append(Row(label, method, enc_name, metrics, seconds=res["seconds"], notes=notes))
    write_results(args.name or f"ray_{args.encoder.replace('-', '_')}", rows, args.out, seed=0,
                  config={"steps": list(_steps(args.encoder)), "batch_size": args.batch_size,
                          "actors": args.actors, "question_sample": 20_000, "report_sample": 2_000},
                  summary="Seconds and peak resident memory of the whole job (read, fit the viewpoints on a "
                          "sample, annotate, reduce, write every output and the report) on a chat file of "
                          "N turns: one process vs a local Ray instance on the same 2 cores.")


if __name__ == "__main__":
    main()
