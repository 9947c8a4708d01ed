"""Find and redact personal data in chat text: phones, e-mails, ID numbers, payment cards.

Each span found is replaced by a typed placeholder (``[PHONE]``, ``[EMAIL]``, ``[ID]``,
``[CARD]``); every other character is kept exactly. The finders are tuned for
customer-service chats, where the numbers an agent needs to follow up must survive:

- **phone**: Chinese mobiles (``13800138000``, ``138-0013-8000``, ``138 0013 8000``,
  ``+86 138 0013 8000``), Taiwan mobiles (``0900-000-123``, ``0912345678``), landlines with
  an area code (``010-12345678``, ``(0755) 8888 6666``, ``02-2345-6789``), North American
  numbers (``(555) 010-0199``, ``555-010-0199``, ``+1 555 010 0199``) and international
  numbers written with a ``+`` country code (``+44 20 7946 0958``);
- **email**: ordinary addresses (``zhang.san@example.com``);
- **id**: 18-character Chinese resident ID numbers whose birth date is a plausible date and
  whose check character (ISO 7064 MOD 11-2, trailing ``X`` allowed) is right. Old 15-digit
  IDs carry no check digit and look like order numbers, so they are not redacted;
- **card**: payment card numbers that start with 3, 4, 5 or 6, pass the Luhn check and either
  have 15, 16 or 19 digits or are written in groups of four (``4111 1111 1111 1111``).

Kept on purpose: order numbers (``20261102123456``, ``EX-20261103-0042``), prices
(``¥1299``), times (``10:30``), dates (``2026-11-02``), hotline numbers (``12315``) and
quantities. A number counts only as a whole: digits glued to more digits are never a match.
Full-width digits and ``＠`` are read like their ASCII forms (``１３８００１３８０００``).

Example:
    >>> redact("手机138-0013-8000, 邮箱 zhang.san@example.com, 订单号20261102123456")
    '手机[PHONE], 邮箱 [EMAIL], 订单号20261102123456'
    >>> redact("call (555) 010-0199 or mail me", kinds=["email"])
    'call (555) 010-0199 or mail me'
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from csdialog.errors import ValidationError

__all__ = [
    "PLACEHOLDERS",
    "REDACTION_KINDS",
    "PersonalDataSpan",
    "find_personal_data",
    "redact",
]

#: The kinds of personal data :func:`redact` knows, in the order they are reported.
REDACTION_KINDS: tuple[str, ...] = ("phone", "email", "id", "card")

#: The placeholder each kind is replaced with.
PLACEHOLDERS: MappingProxyType[str, str] = MappingProxyType(
    {"phone": "[PHONE]", "email": "[EMAIL]", "id": "[ID]", "card": "[CARD]"}
)

# When two candidates of the same length overlap, the earlier kind here wins.
_PRIORITY = {"email": 0, "id": 1, "card": 2, "phone": 3}

# Full-width forms read as ASCII. Every mapping is one character to one character, so the
# offsets found in the normalised text are the offsets in the original text.
_NORMALISE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "\uff20": "@",  # ＠
        "\uff0b": "+",  # ＋
        "\uff0d": "-",  # －
        "\uff08": "(",  # （
        "\uff09": ")",  # ）
        "\uff0e": ".",  # ．
        "\u3000": " ",  # ideographic space
    }
)

_NO_DIGIT_BEFORE = r"(?<![0-9])"
_NO_DIGIT_AFTER = r"(?![0-9])"

# --- phones -------------------------------------------------------------------------------
_CN_MOBILE = re.compile(
    _NO_DIGIT_BEFORE
    + r"(?:(?:\+|00)86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}"
    + _NO_DIGIT_AFTER
)
_TW_MOBILE = re.compile(
    _NO_DIGIT_BEFORE
    + r"(?:(?:\+|00)886[ -]?9[0-9]{2}|09[0-9]{2})[ -]?[0-9]{3}[ -]?[0-9]{3}"
    + _NO_DIGIT_AFTER
)
# An area code (0 + 1-3 digits, bare with a separator or in brackets) then 7-8 digits.
_LANDLINE = re.compile(
    _NO_DIGIT_BEFORE
    + r"(?:\(0[0-9]{1,3}\)[ -]?|0[0-9]{1,3}[ -])[0-9]{3,4}[ -]?[0-9]{4}"
    + _NO_DIGIT_AFTER
)
# North American: (555) 010-0199, 555-010-0199, 555.010.0199, +1 555 010 0199, 1-555-010-0199.
# Groups separated only by spaces need the brackets or the +1: "250 300 1000" is a list of
# quantities far more often than a phone number.
_NANP = re.compile(
    _NO_DIGIT_BEFORE
    + r"(?:"
    + r"(?:\+?1[ .-]?)?\([2-9][0-9]{2}\)[ .-]?[0-9]{3}[ .-][0-9]{4}"
    + r"|\+1[ .-]?[2-9][0-9]{2}[ .-]?[0-9]{3}[ .-]?[0-9]{4}"
    + r"|(?:1-)?[2-9][0-9]{2}-[0-9]{3}-[0-9]{4}"
    + r"|(?:1\.)?[2-9][0-9]{2}\.[0-9]{3}\.[0-9]{4}"
    + r")"
    + _NO_DIGIT_AFTER
)
# Any number written with a + country code: +44 20 7946 0958, +4915112345678, +44 (0)20 ...
_INTERNATIONAL = re.compile(
    _NO_DIGIT_BEFORE
    + r"\+[1-9][0-9]{0,3}"
    + r"(?:[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]{1,6}|[ .-][0-9]{1,6}|[0-9]{4,14})"
    + r"(?:[ .-][0-9]{2,6}){0,5}"
    + _NO_DIGIT_AFTER
)

# --- e-mail -------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_%+-])(?<![A-Za-z0-9_%+-]\.)"  # start where the address starts
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9-])"
)

# --- resident ID --------------------------------------------------------------------------
_ID18 = re.compile(_NO_DIGIT_BEFORE + r"[1-9][0-9]{16}(?:[0-9](?![0-9])|[Xx](?![0-9A-Za-z]))")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# --- payment cards ------------------------------------------------------------------------
_CARD_RUN = re.compile(_NO_DIGIT_BEFORE + r"[3-6][0-9]{12,18}" + _NO_DIGIT_AFTER)
_CARD_GROUPED = re.compile(
    _NO_DIGIT_BEFORE
    + r"(?:[3-6][0-9]{3}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?"
    + r"|3[47][0-9]{2}[ -][0-9]{6}[ -][0-9]{5})"
    + _NO_DIGIT_AFTER
)
_CARD_LENGTHS = frozenset({15, 16, 19})


@dataclass(frozen=True)
class PersonalDataSpan:
    """One piece of personal data found in a text.

    Attributes:
        kind: one of :data:`REDACTION_KINDS`.
        start, end: character offsets, ``text[start:end]`` is the span.
        text: the characters found.

    Example:
        >>> find_personal_data("mail a@example.com")[0]
        PersonalDataSpan(kind='email', start=5, end=18, text='a@example.com')
    """

    kind: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "text": self.text}


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _resident_id_ok(candidate: str) -> bool:
    year, month, day = int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14])
    if not 1900 <= year <= 2099 or not 1 <= month <= 12:
        return False
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    total = sum(int(c) * w for c, w in zip(candidate[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == candidate[17].upper()


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    for pattern in (_CN_MOBILE, _TW_MOBILE, _LANDLINE, _NANP):
        for m in pattern.finditer(text):
            yield m.start(), m.end()
    for m in _INTERNATIONAL.finditer(text):
        if 8 <= len(_digits(m.group())) <= 15:
            yield m.start(), m.end()


def _email_spans(text: str) -> Iterator[tuple[int, int]]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end()


def _id_spans(text: str) -> Iterator[tuple[int, int]]:
    for m in _ID18.finditer(text):
        if _resident_id_ok(m.group()):
            yield m.start(), m.end()


def _card_spans(text: str) -> Iterator[tuple[int, int]]:
    for m in _CARD_RUN.finditer(text):
        digits = m.group()
        if len(digits) in _CARD_LENGTHS and _luhn_ok(digits):
            yield m.start(), m.end()
    for m in _CARD_GROUPED.finditer(text):
        # "4111 1111 1111 1111 2" may be a card followed by a quantity: try the longest run
        # of whole groups first, then drop groups from the end.
        groups = list(re.finditer(r"[0-9]+", m.group()))
        for n in range(len(groups), 0, -1):
            end = groups[n - 1].end()
            digits = _digits(m.group()[:end])
            if 13 <= len(digits) <= 19 and _luhn_ok(digits):
                yield m.start(), m.start() + end
                break


_FINDERS: dict[str, Callable[[str], Iterator[tuple[int, int]]]] = {
    "phone": _phone_spans,
    "email": _email_spans,
    "id": _id_spans,
    "card": _card_spans,
}


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return REDACTION_KINDS
    if isinstance(kinds, str):
        raise ValidationError(
            f"kinds must be a list of kinds, got the string {kinds!r}; "
            f"write kinds=[{kinds!r}]. Valid kinds: {list(REDACTION_KINDS)}"
        )
    chosen = list(kinds)
    unknown = [k for k in chosen if k not in _FINDERS]
    if unknown:
        raise ValidationError(
            f"unknown redaction kind(s) {unknown}; valid kinds: {list(REDACTION_KINDS)}"
        )
    return tuple(k for k in REDACTION_KINDS if k in chosen)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValidationError(
            f"text to redact must be a str, got {type(text).__name__} {text!r:.80}; "
            "convert it first (missing values: skip them or use '')"
        )
    return text


Patterns = Mapping[str, "str | re.Pattern[str]"]


def _check_patterns(patterns: Patterns | None) -> dict[str, re.Pattern[str]]:
    """Validate extra named patterns: ``{"order": r"EX-\\d{8}-\\d{4}"}``."""
    if not patterns:
        return {}
    if not isinstance(patterns, Mapping):
        raise ValidationError(
            f"patterns must be a mapping {{name: regex}}, e.g. {{'order': r'EX-\\d{{8}}-\\d{{4}}'}}; "
            f"got {type(patterns).__name__}"
        )
    out: dict[str, re.Pattern[str]] = {}
    for name, pat in patterns.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in _FINDERS:
            raise ValidationError(
                f"a pattern name must be lower-case letters, digits or _ and not one of "
                f"{list(REDACTION_KINDS)}; got {name!r}"
            )
        try:
            compiled = pat if isinstance(pat, re.Pattern) else re.compile(str(pat))
        except re.error as exc:
            raise ValidationError(f"pattern {name!r} is not a valid regular expression: {exc}") from None
        if compiled.search(f"[{name.upper()}]") or compiled.search(""):
            raise ValidationError(
                f"pattern {name!r} matches its own placeholder [{name.upper()}] or the empty "
                "string; make it more specific"
            )
        out[name] = compiled
    return out


def find_personal_data(
    text: str, *, kinds: Iterable[str] | None = None, patterns: Patterns | None = None,
) -> list[PersonalDataSpan]:
    """Find the phones, e-mails, ID numbers and card numbers in ``text``.

    Where candidates overlap, the longest wins (on a tie: email, id, card, phone), so the
    spans returned never overlap. See the module docstring for what each kind matches.

    Args:
        text: any text.
        kinds: the kinds to look for, a subset of :data:`REDACTION_KINDS`; ``None`` for all.
        patterns: extra kinds by regular expression, ``{name: regex}`` (e.g. your order
            numbers, ``{"order": r"EX-\\d{8}-\\d{4}"}``); their spans have kind ``name``.

    Returns:
        The spans found, in order of position.

    Raises:
        ValidationError: ``text`` is not a str, or ``kinds`` names an unknown kind.

    Example:
        >>> [(s.kind, s.text) for s in find_personal_data("电话0900-000-123，订单EX-20261103-0042")]
        [('phone', '0900-000-123')]
    """
    text = _check_text(text)
    chosen = _check_kinds(kinds)
    extra = _check_patterns(patterns)
    norm = text.translate(_NORMALISE)
    candidates: list[tuple[int, int, str]] = []
    for kind in chosen:
        candidates.extend((start, end, kind) for start, end in _FINDERS[kind](norm))
    for name, pattern in extra.items():
        candidates.extend((m.start(), m.end(), name) for m in pattern.finditer(text) if m.end() > m.start())
    candidates.sort(key=lambda c: (-(c[1] - c[0]), _PRIORITY.get(c[2], 9), c[0]))
    taken: list[tuple[int, int, str]] = []  # kept sorted by start; never overlapping
    for cand in candidates:
        i = bisect.bisect_left(taken, cand)
        if (i == 0 or taken[i - 1][1] <= cand[0]) and (i == len(taken) or cand[1] <= taken[i][0]):
            taken.insert(i, cand)
    return [PersonalDataSpan(kind, s, e, text[s:e]) for s, e, kind in taken]


def redact(text: str, *, kinds: Iterable[str] | None = None, patterns: Patterns | None = None) -> str:
    """Replace personal data in ``text`` with typed placeholders.

    Every span :func:`find_personal_data` reports becomes ``[PHONE]``, ``[EMAIL]``, ``[ID]``
    or ``[CARD]``; all other characters are kept as they are. A candidate that lost to a
    longer overlapping one can leave a remainder that is personal data on its own, so the
    search is repeated on the result until nothing more is found: redacting twice gives the
    same text as redacting once, and the result holds nothing the finders match.

    Args:
        text: any text.
        kinds: the kinds to redact, a subset of :data:`REDACTION_KINDS`; ``None`` for all.
        patterns: extra kinds by regular expression, ``{name: regex}``; a match becomes
            ``[NAME]`` (e.g. ``{"order": r"EX-\\d{8}-\\d{4}"}`` gives ``[ORDER]``).

    Returns:
        The redacted text.

    Raises:
        ValidationError: ``text`` is not a str, or ``kinds`` names an unknown kind.

    Example:
        >>> redact("My email is john.doe@example.com, card 4111 1111 1111 1111, ¥1299 at 10:30")
        'My email is [EMAIL], card [CARD], ¥1299 at 10:30'
        >>> redact("order EX-20261103-0042", patterns={"order": r"EX-\\d{8}-\\d{4}"})
        'order [ORDER]'
    """
    text = _check_text(text)
    chosen = _check_kinds(kinds)
    extra = _check_patterns(patterns)
    while True:
        spans = find_personal_data(text, kinds=chosen, patterns=extra)
        if not spans:
            return text
        # Each pass removes at least one digit or '@' and adds none, so this ends.
        parts: list[str] = []
        pos = 0
        for span in spans:
            parts.append(text[pos:span.start])
            parts.append(PLACEHOLDERS.get(span.kind, f"[{span.kind.upper()}]"))
            pos = span.end
        parts.append(text[pos:])
        text = "".join(parts)
