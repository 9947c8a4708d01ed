import sys
from csdialog.emotion import EmotionClassifier
t = float(sys.argv[1]); out = sys.argv[2]
m = EmotionClassifier.from_pretrained("/tmp/s42/e1")
m.sarcasm_complaint_gate = True
m.sarcasm_threshold_ = t
m.save_pretrained(out)
m2 = EmotionClassifier.from_pretrained(out)
print(m2.sarcasm_complaint_gate, m2.sarcasm_threshold_, m2.sarcasm_cross_ is not None)
