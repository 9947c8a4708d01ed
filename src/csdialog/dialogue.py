"""The dialogue model: :class:`Turn` and :class:`Dialogue`, frozen and validated.

Example:
    >>> from csdialog import Dialogue, Turn
    >>> d = Dialogue("d1", [Turn("customer", "快递什么时候到?"), Turn("agent", "明天送达。")])
    >>> d.turns[0].role.value, len(d)
    ('customer', 2)
    >>> Dialogue.from_dict(d.to_dict()) == d
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from types import MappingProxyType
from typing import Any

from csdialog.errors import ValidationError

__all__ = ["ROLE_SYNONYMS", "Dialogue", "Role", "Turn", "parse_role", "parse_timestamp"]


class Role(str, Enum):
    """Who speaks a turn."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"

    def __str__(self) -> str:
        return self.value


#: Accepted spellings of each role (matched case-insensitively after stripping).
ROLE_SYNONYMS: Mapping[str, Role] = MappingProxyType(
    {
        **{k: Role.CUSTOMER for k in (
            "customer", "user", "client", "buyer", "guest", "consumer", "usr", "c",
            "顾客", "客户", "用户", "买家", "消费者", "客人", "用戶", "顧客", "買家",
        )},
        **{k: Role.AGENT for k in (
            "agent", "staff", "seller", "service", "support", "operator", "human_agent",
            "sys_agent", "a", "客服", "人工", "人工客服", "卖家", "商家", "店家", "賣家", "客服人员",
        )},
        **{k: Role.BOT for k in (
            "bot", "robot", "chatbot", "assistant", "auto", "机器人", "智能客服", "機器人",
        )},
        **{k: Role.SYSTEM for k in ("system", "sys", "系统", "系統", "notice", "通知")},
    }
)


def parse_role(value: object, role_map: Mapping[str, str | Role] | None = None) -> Role:
    """Turn a role given as text (any accepted spelling) or :class:`Role` into a :class:`Role`.

    Args:
        value: the role as found in the data.
        role_map: extra spellings for this data set, e.g. ``{"SELLER": "agent"}``.

    Raises:
        ValidationError: the value is not a known role; the message lists the accepted ones.
    """
    if isinstance(value, Role):
        return value
    if not isinstance(value, str):
        raise ValidationError(
            f"role must be a string such as 'customer' or 'agent', got {type(value).__name__} "
            f"{value!r}"
        )
    key = value.strip()
    if role_map:
        lowered = {str(k).strip().lower(): v for k, v in role_map.items()}
        if key.lower() in lowered:
            return parse_role(lowered[key.lower()])
    role = ROLE_SYNONYMS.get(key.lower())
    if role is None:
        raise ValidationError(
            f"unknown role {value!r}; expected one of {[r.value for r in Role]} or a synonym "
            f"such as 'user', 'staff', '客服', '顾客'. Map your own spelling with "
            f"role_map={{{value!r}: 'customer'}}"
        )
    return role


def parse_timestamp(value: object) -> datetime | None:
    """Parse a timestamp: ``datetime``, ISO-8601 text, or epoch seconds / milliseconds.

    Naive values are kept naive (no time zone is invented). ``None`` and empty text give
    ``None``.

    Raises:
        ValidationError: the value is not a recognisable time.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        raise ValidationError(f"timestamp must be a time, got bool {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError(f"timestamp must be a finite number, got {value!r}")
        seconds = value / 1000.0 if abs(value) > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValidationError(f"timestamp {value!r} is out of range: {exc}") from exc
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        try:
            return parse_timestamp(float(text))
        except ValueError:
            pass
        raise ValidationError(
            f"timestamp {value!r} is not ISO-8601 (e.g. '2026-11-24 12:30:00') or epoch seconds"
        )
    # pandas.Timestamp and numpy datetime64 expose to_pydatetime / item
    to_py = getattr(value, "to_pydatetime", None)
    if callable(to_py):
        result = to_py()
        if isinstance(result, datetime):
            return result
    raise ValidationError(
        f"timestamp must be a datetime, ISO-8601 text or epoch number, got "
        f"{type(value).__name__} {value!r}"
    )


def _freeze(mapping: Mapping[str, Any] | None, what: str) -> Mapping[str, Any]:
    if mapping is None:
        return MappingProxyType({})
    if not isinstance(mapping, Mapping):
        raise ValidationError(f"{what} must be a mapping (dict), got {type(mapping).__name__}")
    return MappingProxyType(dict(mapping))


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValidationError(
            f"turn text must be a string, got {type(text).__name__} {text!r:.80}"
        )
    if not text.strip():
        raise ValidationError(
            f"turn text is empty or whitespace only ({text!r}); drop the turn or give it text"
        )
    return text


@dataclass(frozen=True)
class Turn:
    """One message in a dialogue.

    Args:
        role: who speaks; a :class:`Role` or any spelling :func:`parse_role` accepts.
        text: the message, a non-empty string.
        timestamp: when it was sent (``datetime``, ISO text or epoch), optional.
        speaker: who exactly (agent name or id), optional.
        metadata: any other fields, kept read-only.

    Example:
        >>> Turn("用户", "谢谢你").role
        <Role.CUSTOMER: 'customer'>
    """

    role: Role
    text: str
    timestamp: datetime | None = None
    speaker: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", parse_role(self.role))
        object.__setattr__(self, "text", _check_text(self.text))
        object.__setattr__(self, "timestamp", parse_timestamp(self.timestamp))
        if self.speaker is not None and not isinstance(self.speaker, str):
            object.__setattr__(self, "speaker", str(self.speaker))
        object.__setattr__(self, "metadata", _freeze(self.metadata, "turn metadata"))

    def __hash__(self) -> int:
        return hash((self.role, self.text, self.timestamp, self.speaker))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Turn):
            return NotImplemented
        return (
            self.role == other.role
            and self.text == other.text
            and self.timestamp == other.timestamp
            and self.speaker == other.speaker
            and dict(self.metadata) == dict(other.metadata)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the inverse of :meth:`from_dict`."""
        out: dict[str, Any] = {"role": self.role.value, "text": self.text}
        if self.timestamp is not None:
            out["timestamp"] = self.timestamp.isoformat()
        if self.speaker is not None:
            out["speaker"] = self.speaker
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Turn:
        """Build a turn from a dict with ``role``, ``text`` and optional fields."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"a turn must be a dict, got {type(data).__name__} {data!r:.80}")
        missing = [k for k in ("role", "text") if k not in data]
        if missing:
            raise ValidationError(
                f"turn is missing {missing}; it has keys {sorted(map(str, data))}"
            )
        return cls(
            role=data["role"],
            text=data["text"],
            timestamp=data.get("timestamp"),
            speaker=data.get("speaker"),
            metadata=data.get("metadata") or {},
        )


_DIALOGUE_FIELDS = ("customer_id", "channel", "shop", "product", "category")


@dataclass(frozen=True)
class Dialogue:
    """A conversation: an id, its turns in order, and what it is about.

    Args:
        dialogue_id: unique id of the conversation (text; numbers are converted).
        turns: at least one :class:`Turn` (dicts are accepted and converted).
        customer_id, channel, shop, product, category: optional descriptors used by
            repeat-contact alerts and per-product reports.
        metadata: any other fields, kept read-only.

    Example:
        >>> d = Dialogue("d1", [{"role": "customer", "text": "hi"}], product="面膜B")
        >>> d.customer_turns()[0].text
        'hi'
    """

    dialogue_id: str
    turns: tuple[Turn, ...]
    customer_id: str | None = None
    channel: str | None = None
    shop: str | None = None
    product: str | None = None
    category: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        did = self.dialogue_id
        if isinstance(did, int) and not isinstance(did, bool):
            did = str(did)
        if not isinstance(did, str) or not did.strip():
            raise ValidationError(
                f"dialogue_id must be a non-empty string, got {type(did).__name__} {did!r}"
            )
        object.__setattr__(self, "dialogue_id", did)
        if isinstance(self.turns, str | bytes) or not isinstance(self.turns, Iterable):
            raise ValidationError(
                f"turns of dialogue {did!r} must be a list of Turn, got "
                f"{type(self.turns).__name__}"
            )
        turns = tuple(t if isinstance(t, Turn) else Turn.from_dict(t) for t in self.turns)
        if not turns:
            raise ValidationError(f"dialogue {did!r} has no turns; a dialogue needs at least one")
        object.__setattr__(self, "turns", turns)
        for name in _DIALOGUE_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, name, str(value))
        object.__setattr__(self, "metadata", _freeze(self.metadata, "dialogue metadata"))

    def __len__(self) -> int:
        return len(self.turns)

    def __iter__(self) -> Iterator[Turn]:
        return iter(self.turns)

    def __hash__(self) -> int:
        return hash((self.dialogue_id, self.turns))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dialogue):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def turns_by_role(self, role: Role | str) -> list[Turn]:
        """The turns spoken by ``role``, in order."""
        wanted = parse_role(role)
        return [t for t in self.turns if t.role is wanted]

    def customer_turns(self) -> list[Turn]:
        """The customer's turns, in order."""
        return self.turns_by_role(Role.CUSTOMER)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (one row of the one-row-per-dialogue layout)."""
        out: dict[str, Any] = {"dialogue_id": self.dialogue_id}
        for name in _DIALOGUE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        out["turns"] = [t.to_dict() for t in self.turns]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dialogue:
        """Build a dialogue from :meth:`to_dict` output (or any dict of that shape)."""
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"a dialogue must be a dict, got {type(data).__name__} {data!r:.80}"
            )
        if "dialogue_id" not in data or "turns" not in data:
            raise ValidationError(
                f"a dialogue dict needs 'dialogue_id' and 'turns'; it has keys "
                f"{sorted(map(str, data))}"
            )
        return cls(
            dialogue_id=data["dialogue_id"],
            turns=data["turns"],
            metadata=data.get("metadata") or {},
            **{k: data.get(k) for k in _DIALOGUE_FIELDS},
        )
