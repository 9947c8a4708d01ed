"""Keywords per cluster by class-based TF-IDF, with Chinese word segmentation (jieba).

c-TF-IDF (as in BERTopic): each cluster's documents are joined into one; a term's weight
in cluster ``c`` is ``tf(t, c) * log(1 + A / f(t))`` where ``A`` is the average number of
words per cluster and ``f(t)`` the term's frequency over all clusters. Terms frequent in
one cluster and rare elsewhere rank first.

Example:
    >>> docs = {0: ["面膜B为什么这么贵", "面膜B贵在哪里"], 1: ["快递什么时候到", "快递几天到"]}
    >>> ctfidf_keywords(docs, top_n=2)[0][0]
    '面膜'
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ctfidf_keywords", "tokenize"]

_LATIN = re.compile(r"[a-z0-9][a-z0-9'\-]*", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]+")

_EN_STOP = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more
most my no nor not now of off on once only or other our out over own same she should so some
such than that the their them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
please hi hello thanks thank ok okay yes get got im i'm it's don't can't much many really
""".split())
_ZH_STOP = frozenset("""
的 了 吗 呢 啊 吧 呀 哦 嘛 么 是 我 你 您 他 她 它 我们 你们 这 那 这个 那个 这么 那么 怎么 什么 为什么
为啥 啥 哪 哪里 在 有 和 与 就 都 也 还 又 很 太 不 没 没有 会 能 要 想 请问 一下 一个 可以 个 吗? 到底
吗 呢 嗎 麼 為什麼 什麼 這 這個 那麼 這麼 怎麼 們 還 沒 沒有 會 請問 一下 下 多 好 给 給 让 讓 被 把 对 對
""".split())


def _jieba() -> Any:
    from csdialog._optional import require

    jieba = require("jieba", "Chinese keywords")
    jieba.setLogLevel(60)  # silence its start-up banner without touching the root logger
    return jieba


def tokenize(text: str) -> list[str]:
    """Words of ``text``: jieba segmentation for Chinese runs, lower-cased words for
    Latin script; stop words and single characters of punctuation removed."""
    norm = unicodedata.normalize("NFKC", text).lower()
    words: list[str] = []
    for m in _LATIN.finditer(norm):
        w = m.group().strip("'-")
        if len(w) > 1 and w not in _EN_STOP and not w.isdigit():
            words.append(w)
    runs = _CJK.findall(norm)
    if runs:
        jieba = _jieba()
        for run in runs:
            words.extend(w for w in jieba.lcut(run) if w.strip() and w not in _ZH_STOP)
    return words


def ctfidf_keywords(
    docs_by_cluster: Mapping[int, Sequence[str]],
    *,
    top_n: int = 8,
    weights: Mapping[int, Sequence[float]] | None = None,
) -> dict[int, list[str]]:
    """Top ``top_n`` keywords of each cluster.

    Args:
        docs_by_cluster: cluster id -> its member texts.
        top_n: keywords per cluster.
        weights: optional per-text weights (e.g. how many times each distinct question
            was asked), aligned with ``docs_by_cluster``.
    """
    tf: dict[int, Counter[str]] = {}
    for cid, docs in docs_by_cluster.items():
        counts: Counter[str] = Counter()
        w = weights.get(cid) if weights is not None else None
        for i, doc in enumerate(docs):
            k = float(w[i]) if w is not None else 1.0
            for word in tokenize(doc):
                counts[word] += k  # type: ignore[assignment]
        tf[cid] = counts
    total: Counter[str] = Counter()
    for counts in tf.values():
        total.update(counts)
    n_words = sum(sum(c.values()) for c in tf.values())
    avg = n_words / max(1, len(tf))
    out: dict[int, list[str]] = {}
    for cid, counts in tf.items():
        size = sum(counts.values()) or 1.0
        scored = sorted(
            ((c / size) * math.log(1.0 + avg / total[t]), t) for t, c in counts.items()
        )
        scored.sort(key=lambda x: (-x[0], x[1]))
        out[cid] = [t for _, t in scored[:top_n]]
    return out
