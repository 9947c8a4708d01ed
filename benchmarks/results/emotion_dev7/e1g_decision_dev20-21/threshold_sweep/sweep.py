import pickle, numpy as np
out = pickle.load(open("/tmp/s43/explore.pkl", "rb"))
def st(rows, s, gate, t):
    f = np.array(gate) & (np.array(s) >= t)
    y = np.array([bool(r["sarcastic"]) for r in rows])
    cat = np.array([r["category"] for r in rows])
    th = np.array([c.endswith("_thanks") for c in cat])
    return np.array([(f == y)[th].sum(), (~f)[~y].sum(), f[y].sum(), f[cat=="plain_complaint"].sum()])
g = sum(st(r, *res["g1"][:2], res["g1"][2]) for r, res in out.values())
print("G1 pooled thanks/sinc/sarc/pc", g, "dev3 flags", 140 - st(*[out["dev set 3"][0]], *out["dev set 3"][1]["g1"][:2], out["dev set 3"][1]["g1"][2])[1])
for t in np.arange(0.49, 0.76, 0.01):
    e = sum(st(r, *res["e1"][:2], t) for r, res in out.values())
    d3 = 140 - st(out["dev set 3"][0], *out["dev set 3"][1]["e1"][:2], t)[1]
    print(f"{t:.2f}", e, e - g, "sum", (e-g)[:3].sum(), "dev3 flags", d3)
