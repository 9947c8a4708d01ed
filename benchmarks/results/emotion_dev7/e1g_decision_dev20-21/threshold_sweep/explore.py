"""One-off (disclosed): E1's arrays with the veto, threshold sweep on USED sets only."""
import sys, json, pickle
sys.path[:0] = ["/work/main/benchmarks", "/work/main/scripts"]
import numpy as np
import bench_emotion as B
from csdialog.emotion import EmotionClassifier
enc = B._encoder()
g1 = EmotionClassifier.from_pretrained("default", encoder=enc)
e1 = EmotionClassifier.from_pretrained("/tmp/s42/e1", encoder=enc)
e1.sarcasm_complaint_gate = True
names = ["dev set 3"] + [f"dev set {n}" for n in range(11, 20)] + ["dev set 2"]
out = {}
for name in names:
    rows = B.load_challenge(B.DEV_SETS[name])
    items = B.challenge_items(rows, 3)
    res = {}
    for tag, m in (("g1", g1), ("e1", e1)):
        thr = m.sarcasm_threshold_
        m.sarcasm_threshold_ = 0.0  # every gated turn passes: flags = gate
        preds = m.classify(items)
        m.sarcasm_threshold_ = thr
        res[tag] = ([p.sarcasm_score for p in preds], [p.sarcastic for p in preds], thr)
    out[name] = (rows, res)
    print(name, flush=True)
enc.save()
pickle.dump(out, open("/tmp/s43/explore.pkl", "wb"))
