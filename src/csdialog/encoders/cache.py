"""An embedding cache keyed by (encoder, text), shared by the steps of a pipeline."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from csdialog.encoders.base import Encoder, check_texts
from csdialog.errors import ValidationError

__all__ = ["CachedEncoder"]


class CachedEncoder:
    """Wrap an encoder so each distinct text is embedded once across calls.

    Keeps at most ``max_entries`` vectors (least recently used are evicted), so memory
    stays bounded on streams. It has the wrapped encoder's ``name`` and ``dim``, so
    calibrated thresholds and saved models see the same encoder.

    Example:
        >>> from csdialog.encoders import HashingEncoder
        >>> enc = CachedEncoder(HashingEncoder(dim=8))
        >>> _ = enc.encode(["a", "b"]); _ = enc.encode(["b", "c"])
        >>> enc.hits, enc.misses
        (1, 3)
    """

    def __init__(self, encoder: Encoder, *, max_entries: int = 1_000_000) -> None:
        if max_entries < 1:
            raise ValidationError(f"max_entries must be >= 1, got {max_entries}")
        self.encoder = encoder
        self.max_entries = max_entries
        self.name = encoder.name
        self.dim = encoder.dim
        self.hits = 0
        self.misses = 0
        self._store: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        items = check_texts(texts)
        missing = list(dict.fromkeys(t for t in items if t not in self._store))
        self.misses += len(missing)
        self.hits += len(set(items)) - len(missing)
        fresh = self.encoder.encode(missing) if missing else np.zeros((0, self.dim), np.float32)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        new = dict(zip(missing, fresh, strict=True))
        for i, t in enumerate(items):
            vec = new.get(t)
            if vec is None:
                vec = self._store[t]
                self._store.move_to_end(t)
            out[i] = vec
        for t, vec in new.items():
            self._store[t] = vec
        while len(self._store) > self.max_entries:
            self._store.popitem(last=False)
        return out

    def __len__(self) -> int:
        return len(self._store)
