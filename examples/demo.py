"""The main job from Python: the same Pipeline that `csdialog analyze` runs.

    python examples/demo.py examples/data/sample_chats.jsonl --out results/demo-py

Reads the chats (reporting every row), annotates every turn's emotion and sarcasm in
context, clusters the customers' questions into viewpoints, checks each answer against
the expected answer logic, inspects every dialogue, raises alerts, and writes the outputs
and report.html. Everything offline with the shipped default models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from csdialog.pipeline import Pipeline

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("chats", nargs="?", default=str(HERE / "data" / "sample_chats.jsonl"))
    ap.add_argument("--out", default="results/demo-py")
    ap.add_argument("--logics", default=str(HERE / "answer_logic.yaml"))
    args = ap.parse_args()

    result = Pipeline(answer_logics=args.logics).run(args.chats)
    print(result.read_report.summary() if result.read_report else "")
    result.save(args.out)

    for v in result.clusterer.top(5):
        print(f"{v.viewpoint_id} {v.size:3d}x  {v.label}   ({', '.join(v.keywords[:4])})")
    checks = result.to_frame("answers")
    missed = checks[~checks.answered]
    print(f"\n{len(missed)} of {len(checks)} questions not answered, e.g.:")
    for _, c in missed.head(3).iterrows():
        print(f"  [{c.dialogue_id}] {c.question} -> {c.reply}\n      ({c.reason})")
    turns = result.to_frame("turns")
    sarcastic = turns[(turns.role == "customer") & turns.sarcastic]
    print(f"\n{len(sarcastic)} sarcastic customer turns, e.g. "
          + "; ".join(f"[{r.dialogue_id}] {r.text}" for _, r in sarcastic.head(3).iterrows()))
    for a in result.alerts[:5]:
        print(f"alert {a.kind} {a.severity} {a.score:.2f} {', '.join(a.dialogue_ids)}: {a.reasons[0]}")
    print(f"\noutputs and report.html in {args.out}/")


if __name__ == "__main__":
    main()
