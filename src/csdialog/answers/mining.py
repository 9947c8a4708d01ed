"""Mine answer logics from historical dialogues.

For each viewpoint, take the agent replies that follow its questions and *resolve* them
(the reply carries the kind of answer asked for and the customer does not ask again or
protest), group the replies that say the same thing, and keep each group with enough
support as an :class:`~csdialog.answers.AnswerLogic`: its canonical answer is the most
typical reply, ``support`` the number of resolving replies that carried it.

Example:
    >>> from csdialog.encoders import HashingEncoder
    >>> groups = {"vp-price": [("为什么B贵?", "因为B含有依克多因,成本高"),
    ...                        ("B贵在哪?", "因为B含有依克多因,成本比较高"),
    ...                        ("B为啥贵?", "亲,以页面为准哦")]}
    >>> [(lg.viewpoint_id, lg.support) for lg in mine_from_pairs(groups, encoder=HashingEncoder(dim=256),
    ...                                                          similarity=0.5)]
    [('vp-price', 2)]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from csdialog.answers.logic import AnswerLogic
from csdialog.answers.types import type_agreement
from csdialog.dialogue import Dialogue, Role
from csdialog.encoders import Encoder, get_encoder
from csdialog.errors import ValidationError
from csdialog.viewpoints.questions import extract_questions, normalize_question

__all__ = ["mine_answer_logics", "mine_from_pairs", "resolves"]

# the customer says the reply missed the point
_PROTEST = re.compile(
    r"我问的是|我問的是|没问|沒問|不是问|不是問|答非所问|答非所問|白问|白問|等于没说|等於沒說|没回答|沒回答|"
    r"机器人|機器人|听不懂|聽不懂|还是没|還是沒|\bi asked\b|\bnot what i asked\b|\byou didn'?t answer\b|"
    r"\bthat doesn'?t answer\b|\bare you a bot\b|\bstill no\b|\bnot helpful\b|\buseless\b",
    re.IGNORECASE,
)


def resolves(question: str, reply: str, follow_up: str | None = None) -> bool:
    """Rule of thumb: does ``reply`` resolve ``question``? It must not contradict the
    question's type (see :func:`~csdialog.answers.type_agreement`) and the customer's
    ``follow_up`` must not protest or repeat the question."""
    if type_agreement(question, reply) is False:
        return False
    if follow_up:
        if _PROTEST.search(follow_up):
            return False
        if normalize_question(follow_up) == normalize_question(question):
            return False
    return True


def _group(vectors: np.ndarray, similarity: float) -> list[list[int]]:
    """Leader clustering in order of centrality: each reply joins the closest group whose
    centroid is at least ``similarity`` away in cosine, else starts one. Deterministic."""
    n = len(vectors)
    centrality = (vectors @ vectors.T).mean(axis=1)
    order = sorted(range(n), key=lambda i: (-centrality[i], i))
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i in order:
        best, best_sim = -1, similarity
        for g, s in enumerate(sums):
            c = s / (np.linalg.norm(s) + 1e-12)
            sim = float(vectors[i] @ c)
            if sim >= best_sim:
                best, best_sim = g, sim
        if best < 0:
            groups.append([i])
            sums.append(vectors[i].astype(np.float64).copy())
        else:
            groups[best].append(i)
            sums[best] += vectors[i]
    return groups


def mine_from_pairs(
    groups: Mapping[str, Sequence[tuple[str, str]]],
    *,
    encoder: str | Encoder | None = None,
    similarity: float = 0.85,
    min_support: int = 2,
    max_per_viewpoint: int = 3,
    n_examples: int = 3,
    filter_resolving: bool = True,
) -> list[AnswerLogic]:
    """Mine logics from ``{viewpoint_id: [(question, reply), ...]}``.

    Args:
        groups: the question/reply pairs of each viewpoint.
        encoder: encoder name or object (default: the offline default).
        similarity: cosine at which two replies count as the same logic.
        min_support: logics carried by fewer resolving replies are dropped.
        max_per_viewpoint: keep at most this many logics per viewpoint (by support).
        n_examples: example replies kept on each logic.
        filter_resolving: drop replies whose type contradicts the question first.

    Returns:
        Logics sorted by viewpoint id, then support (largest first); ids are
        ``"<viewpoint_id>/a<k>"``.
    """
    enc = get_encoder(encoder)
    out: list[AnswerLogic] = []
    for vid in sorted(groups):
        # sorted: the result does not depend on the order of the input
        pairs = sorted((q, r) for q, r in groups[vid] if not filter_resolving or resolves(q, r))
        if len(pairs) < min_support:
            continue
        replies = [r for _, r in pairs]
        distinct = list(dict.fromkeys(replies))
        vecs = enc.encode(distinct)
        counts = np.asarray([replies.count(r) for r in distinct])
        index = {r: i for i, r in enumerate(distinct)}
        found = []
        for members in _group(vecs, similarity):
            support = int(counts[members].sum())
            if support < min_support:
                continue
            c = vecs[members].mean(axis=0)
            ranked = sorted(members, key=lambda i: (-float(vecs[i] @ c), i))
            qs = list(dict.fromkeys(q for q, r in pairs if index[r] in set(members)))
            found.append((support, ranked, qs))
        found.sort(key=lambda t: (-t[0], distinct[t[1][0]]))
        for k, (support, ranked, qs) in enumerate(found[:max_per_viewpoint], start=1):
            out.append(AnswerLogic(
                logic_id=f"{vid}/a{k}", answer=distinct[ranked[0]], viewpoint_id=vid,
                questions=tuple(qs[:n_examples]), support=support,
                examples=tuple(distinct[i] for i in ranked[:n_examples]), source="mined",
            ))
    return out


def mine_answer_logics(
    dialogues: Iterable[Dialogue],
    clusterer: object,
    *,
    encoder: str | Encoder | None = None,
    similarity: float = 0.85,
    min_support: int = 2,
    max_per_viewpoint: int = 3,
    is_resolving: Callable[[str, str, str | None], bool] | None = None,
) -> list[AnswerLogic]:
    """Mine answer logics from dialogues, per viewpoint of a fitted clusterer.

    For each customer question: its viewpoint (``clusterer.assign``), the next agent
    turn, and the customer's next turn after it. Pairs where ``is_resolving(question,
    reply, follow_up)`` holds (default :func:`resolves`) are grouped as in
    :func:`mine_from_pairs`.
    """
    if not hasattr(clusterer, "assign"):
        raise ValidationError(
            f"clusterer must be a fitted ViewpointClusterer, got {type(clusterer).__name__}"
        )
    test = is_resolving or resolves
    dialogues = list(getattr(dialogues, "dialogues", dialogues))
    questions = extract_questions(dialogues)
    by_id = {d.dialogue_id: d for d in dialogues}
    vids = clusterer.assign(questions)
    groups: dict[str, list[tuple[str, str]]] = {}
    for q, vid in zip(questions, vids, strict=True):
        if vid is None or q.dialogue_id is None or q.turn_index is None:
            continue
        turns = by_id[q.dialogue_id].turns
        j = next((k for k in range(q.turn_index + 1, len(turns)) if turns[k].role is Role.AGENT), None)
        if j is None:
            continue
        nxt = next((turns[k].text for k in range(j + 1, len(turns)) if turns[k].role is Role.CUSTOMER), None)
        if test(q.text, turns[j].text, nxt):
            groups.setdefault(vid, []).append((q.text, turns[j].text))
    enc = encoder if encoder is not None else getattr(clusterer, "encoder_", None)
    return mine_from_pairs(groups, encoder=enc, similarity=similarity, min_support=min_support,
                           max_per_viewpoint=max_per_viewpoint, filter_resolving=False)
