"""Find the customer's questions in dialogues, and normalise question text.

A customer turn may hold several sentences ("你好,在吗?面膜B为什么这么贵?"); each
sentence that asks something becomes a :class:`Question`, and pure openers such as
"在吗?" or "hello?" are left out. A sentence asks something when it ends with a question
mark, or carries a Chinese interrogative (为什么, 怎么, 多少, 什么时候, 吗/呢 at the end...)
or starts like an English question (why/how/when/can/is/do...). Pass your own
``is_question`` callable to use a model instead.

Example:
    >>> from csdialog import Dialogue, Turn
    >>> d = Dialogue("d1", [Turn("customer", "你好,在吗?面膜B为什么这么贵"),
    ...                     Turn("agent", "您好,因为含有依克多因。"),
    ...                     Turn("customer", "ok thanks. How long does delivery take")])
    >>> [(q.text, q.turn_index) for q in extract_questions([d])]
    [('面膜B为什么这么贵', 0), ('How long does delivery take', 2)]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from csdialog.dialogue import Dialogue, Role
from csdialog.errors import ValidationError

__all__ = ["Question", "extract_questions", "is_question", "normalize_question"]

_SPLIT = re.compile(r"[^?？!！。;；\n]+[?？!！。;；]*")

_ZH_INTERROGATIVES = (
    "为什么", "為什麼", "为啥", "為啥", "怎么", "怎麼", "怎样", "怎樣", "如何", "多少", "多久", "几天",
    "幾天", "几时", "幾時", "什么", "什麼", "啥", "哪", "是否", "能不能", "可不可以", "可以吗", "会不会",
    "會不會", "有没有", "有沒有", "是不是", "要不要", "咋", "凭什么", "憑什麼", "难道", "難道", "请问",
    "請問", "何时", "何時", "多长时间", "多長時間", "区别", "區別",
)
_ZH_FINAL = ("吗", "嗎", "呢", "么", "麼")
_EN_STARTS = re.compile(
    r"^(?:please\s+)?(?:why|how|what|when|where|who|whom|whose|which|can|could|would|will|"
    r"shall|should|may|might|is|are|am|was|were|do|does|did|have|has|had|isn'?t|aren'?t|"
    r"don'?t|doesn'?t|didn'?t|won'?t|can'?t|any\s+idea|is\s+there|are\s+there)\b",
    re.IGNORECASE,
)
# openers that are questions in form but ask nothing about the service
_PHATIC = {
    "在吗", "在嗎", "在不在", "有人吗", "有人嗎", "你好", "您好", "hello", "hi", "hey", "anyone there",
    "are you there", "is anyone there", "是吗", "是嗎", "真的吗", "真的嗎", "好吗", "好嗎", "行吗",
    "对吗", "what", "really", "ok", "okay", "啊", "哦", "嗯", "hello anyone", "hi there",
}
_TRAILING_PARTICLES = "啊呀吧呢哦嘛啦哈呐么麼嗎吗喔诶欸"
_PHATIC_KEYS: frozenset[str] = frozenset()  # filled below, once normalize_question exists
_STRIP = re.compile(r"[\s\u3000]+")
_PUNCT_CATS = ("P", "S", "Z", "C")


def normalize_question(text: str) -> str:
    """The key used to merge near-exact duplicates: NFKC, lower case, no punctuation,
    symbols, emoji or spaces between CJK characters, trailing particles dropped.

    Example:
        >>> normalize_question("面膜B 为什么这么贵啊？？😡") == normalize_question("面膜b为什么这么贵")
        True
        >>> normalize_question("Why is  the PRO so expensive?!")
        'why is the pro so expensive'
    """
    if not isinstance(text, str):
        raise ValidationError(f"question text must be a string, got {type(text).__name__}")
    norm = unicodedata.normalize("NFKC", text).lower()
    chars = [" " if unicodedata.category(ch)[0] in _PUNCT_CATS else ch for ch in norm]
    words = _STRIP.split("".join(chars).strip())
    out = ""
    for w in words:
        if out and (out[-1].isascii() and w[:1].isascii()):
            out += " "
        out += w
    return out.rstrip(_TRAILING_PARTICLES).strip() or out


_PHATIC_KEYS = frozenset(normalize_question(p) for p in _PHATIC)


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def is_question(sentence: str) -> bool:
    """Rule-based test: does this sentence ask something (Chinese or English)?

    Example:
        >>> is_question("面膜B贵在哪里"), is_question("好的谢谢"), is_question("Can I return it")
        (True, False, True)
    """
    s = sentence.strip()
    if not s:
        return False
    core = normalize_question(s)
    if not core or core in _PHATIC_KEYS:
        return False
    if s.rstrip().endswith(("?", "？")):
        return True
    if _is_cjk(s):
        stripped = s.rstrip("。.!！~～ ")
        if stripped.endswith(_ZH_FINAL):
            return True
        return any(w in s for w in _ZH_INTERROGATIVES)
    return bool(_EN_STARTS.match(s.lstrip("\"'“‘( ")))


def _sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SPLIT.findall(text)]
    out: list[str] = []
    for p in parts:
        if not p:
            continue
        # "你好,在吗?" style openers separated by a comma from the real question
        pieces = [x.strip() for x in re.split(r"[,，]", p)]
        if len(pieces) > 1 and normalize_question(pieces[0]) in _PHATIC_KEYS:
            p = p[len(pieces[0]) + 1 :].strip()
        out.extend(s for s in re.split(r"(?<=[.])\s+(?=[A-Z])", p) if s.strip())
    return out


@dataclass(frozen=True)
class Question:
    """A customer question found in a dialogue.

    Attributes:
        text: the question sentence.
        dialogue_id: the dialogue it comes from (``None`` for free text).
        turn_index: index of its turn in the dialogue.
        product, category, shop: copied from the dialogue, for per-product reports.
        timestamp: ISO text of the turn's time, if known.
        context: the text of the turn before the question's turn (either side), if any.
            Short follow-ups ("那运费呢", "and the charger?") ask about what was said
            before; :class:`~csdialog.viewpoints.ViewpointClusterer` reads it with the
            question (``context_weight``).
    """

    text: str
    dialogue_id: str | None = None
    turn_index: int | None = None
    product: str | None = None
    category: str | None = None
    shop: str | None = None
    timestamp: str | None = None
    context: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValidationError(f"a question needs non-empty text, got {self.text!r:.60}")
        if self.context is not None and not isinstance(self.context, str):
            raise ValidationError(
                f"a question's context must be the previous turn's text (a string) or None, "
                f"got {type(self.context).__name__}")

    def to_dict(self, *, context: bool = True) -> dict[str, Any]:
        """The fields as a dict; ``context=False`` leaves the context out (output tables,
        where the previous turn is a row of its own).

        Example:
            >>> Question("那运费呢", context="面膜B 299元").to_dict(context=False)["text"]
            '那运费呢'
        """
        return {k: getattr(self, k) for k in self.__dataclass_fields__
                if context or k != "context"}


def extract_questions(
    dialogues: Iterable[Dialogue],
    *,
    roles: Iterable[Role | str] = (Role.CUSTOMER,),
    is_question: Callable[[str], bool] | None = None,
    min_chars: int = 2,
) -> list[Question]:
    """The questions asked in ``dialogues`` (by customers, by default), in order.

    Args:
        dialogues: dialogues (a :class:`~csdialog.io.ReadResult` works too).
        roles: whose turns to look at.
        is_question: sentence -> bool; default the rules of :func:`is_question`.
        min_chars: shorter sentences (after normalisation) are skipped.
    """
    from csdialog.dialogue import parse_role

    wanted = {parse_role(r) for r in roles}
    test = is_question if is_question is not None else globals()["is_question"]
    out: list[Question] = []
    for d in dialogues:
        if not isinstance(d, Dialogue):
            raise ValidationError(f"extract_questions takes Dialogue objects, got {type(d).__name__}")
        for i, turn in enumerate(d.turns):
            if turn.role not in wanted:
                continue
            for sentence in _sentences(turn.text):
                if len(normalize_question(sentence)) < min_chars or not test(sentence):
                    continue
                out.append(Question(
                    text=sentence, dialogue_id=d.dialogue_id, turn_index=i, product=d.product,
                    category=d.category, shop=d.shop,
                    timestamp=turn.timestamp.isoformat() if turn.timestamp else None,
                    context=(d.turns[i - 1].text.strip() or None) if i else None,
                ))
    return out
