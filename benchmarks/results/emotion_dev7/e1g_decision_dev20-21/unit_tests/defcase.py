from csdialog import Dialogue, Turn
from csdialog.emotion import EmotionClassifier
cases = [("快递一个星期了还没到", "物流的事我们也没办法,请您耐心等待", "帮您查到了,包裹今天下午送达", "谢谢你"),
         ("My refund still hasn't arrived after two weeks", "Refunds take time, there's nothing I can do",
          "I've processed it now, the money is back on your card", "thanks a lot")]
for folder in ("/tmp/s43/g1_shipped", "/tmp/s43/e1g59"):
    m = EmotionClassifier.from_pretrained(folder)
    for c, f, s, t in cases:
        bad = Dialogue("bad", [Turn("customer", c), Turn("agent", f), Turn("customer", t)])
        good = Dialogue("good", [Turn("customer", c), Turn("agent", s), Turn("customer", t)])
        pb, pg = m.classify([(bad, 2), (good, 2)])
        items = m._inputs([(bad, 2), (good, 2)])
        S, _, _ = m._sarcasm_features(items)
        head = m.sarcasm_head_.proba(S)[:, 1]
        cross = m.sarcasm_cross_.proba(items) if m.sarcasm_cross_ is not None else None
        print(folder.split('/')[-1], t, "bad", round(pb.sarcasm_score, 3), pb.sarcastic, "good", round(pg.sarcasm_score, 3), pg.sarcastic,
              "head", head.round(3), "cross", None if cross is None else cross.round(3), "thr", m.sarcasm_threshold_)
