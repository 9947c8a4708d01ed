"""Peak memory of the pipeline as the input grows: in-memory ``Pipeline.run`` vs bounded
``Pipeline.stream``, same file, each in a fresh process.

Input: realistic chats built from the shared sets (CrossWOZ and MultiWOZ 2.1 val + test
dialogues, Chinese and English), repeated with new dialogue ids, customer ids (some
customers come back) and timestamps until the file holds ``N`` turns. Steps: viewpoints,
answers, inspection and alerts with the deterministic hashing encoder, so that the numbers
measure the pipeline's own memory rather than a model's (the per-turn emotion model adds a
fixed ~0.5 GB and ~200 turns/s on this CPU; see docs/emotion.md).

    python benchmarks/bench_memory.py --turns 20000 100000 400000
    python benchmarks/bench_memory.py --turns 1000000 --only stream
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _harness import Row, peak_rss_mb, run_isolated, write_results  # noqa: E402

STEPS = ("viewpoints", "answers", "inspection", "alerts")


def build_file(path: Path, n_turns: int) -> int:
    """Write ``n_turns`` turns (whole dialogues) to ``path``; return the dialogues written."""
    from csdialog.datasets import load_crosswoz, load_multiwoz21

    base = []
    for load in (load_crosswoz, load_multiwoz21):
        for split in ("val", "test"):
            base.extend(load(split))
    start = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    written = turns = 0
    with path.open("w", encoding="utf-8") as fh:
        while turns < n_turns:
            d = base[written % len(base)]
            t0 = start + timedelta(minutes=7 * written)
            rec = {"dialogue_id": f"{d.dialogue_id}-{written}", "customer_id": f"c-{written % 9973}",
                   "channel": "app", "shop": "demo", "category": "travel",
                   "turns": [{"role": t.role.value, "text": t.text,
                              "timestamp": (t0 + timedelta(seconds=40 * i)).isoformat(),
                              **({"speaker": f"agent-{written % 17:02d}"} if t.role.value == "agent" else {})}
                             for i, t in enumerate(d.turns)]}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            written += 1
            turns += len(d.turns)
    return written


def _job(mode: str, path: str, out: str) -> dict[str, Any]:
    from csdialog.encoders import HashingEncoder
    from csdialog.pipeline import Pipeline

    t0 = time.perf_counter()
    pipe = Pipeline(STEPS, encoder=HashingEncoder(dim=256), chunk_size=256)
    if mode == "run":
        result = pipe.run(path)
        result.save(out, report=True)
        summary = result.summary
    else:
        summary = pipe.stream(path, out, resume=False)["summary"]
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "turns": summary["turns"], "dialogues": summary["dialogues"], "questions": summary["questions"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, nargs="+", default=[20_000, 100_000, 400_000])
    ap.add_argument("--only", choices=["run", "stream"], default=None)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument("--name", default="memory", help="results file name (without extension)")
    args = ap.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.turns:
            path = Path(tmp) / f"chats-{n}.jsonl"
            n_dialogues = build_file(path, n)
            size_mb = path.stat().st_size / 2**20
            for mode in ("run", "stream"):
                if args.only and mode != args.only:
                    continue
                try:
                    res, _ = run_isolated(_job, mode, str(path), str(Path(tmp) / f"out-{mode}-{n}"))
                except RuntimeError as exc:
                    res = str(exc).strip().splitlines()[-1]
                print(n, mode, res, flush=True)
                if isinstance(res, dict):
                    rows.append(Row(f"{n:,} turns ({size_mb:.0f} MB, {n_dialogues:,} dialogues)",
                                    f"Pipeline.{mode}", "hashing-256", dict(res), seconds=res["seconds"]))
                else:
                    rows.append(Row(f"{n:,} turns", f"Pipeline.{mode}", "hashing-256",
                                    {"error": str(res)[:200]}))
    write_results(args.name, rows, args.out, seed=0,
                  config={"steps": list(STEPS), "chunk_size": 256, "question_sample": 20_000,
                          "report_sample": 2_000},
                  summary="Peak resident memory of one process running the pipeline on a chat file "
                          "of N turns (viewpoints, answers, inspection, alerts; hashing encoder).")


if __name__ == "__main__":
    main()
