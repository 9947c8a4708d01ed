"""A deterministic, dependency-free encoder for tests and quick baselines."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from csdialog.encoders.base import BatchedEncoder

__all__ = ["HashingEncoder"]

_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]", re.IGNORECASE)


class HashingEncoder(BatchedEncoder):
    """Signed feature hashing of word unigrams and character n-grams.

    Same text -> same vector on every machine and run (no randomness, no model files).
    Latin text contributes lower-cased words and their character trigrams; CJK text
    contributes character unigrams and bigrams, so paraphrases sharing characters land
    close together. Useful as the test encoder and as a lexical baseline.

    Args:
        dim: output dimension.
        ngram_range: character n-gram sizes used for CJK and within words.

    Example:
        >>> enc = HashingEncoder(dim=64)
        >>> enc.encode(["面膜B为什么贵", "面膜B贵在哪里"]).shape
        (2, 64)
    """

    def __init__(
        self,
        dim: int = 256,
        ngram_range: tuple[int, int] = (1, 3),
        *,
        batch_size: int = 256,
        normalize: bool = True,
        show_progress: bool = False,
    ) -> None:
        super().__init__(batch_size=batch_size, normalize=normalize, show_progress=show_progress)
        self.dim = dim
        self.ngram_range = ngram_range
        self.name = f"hashing-{dim}"

    def _features(self, text: str) -> list[str]:
        norm = unicodedata.normalize("NFKC", text).lower()
        feats: list[str] = []
        tokens = _WORD.findall(norm)
        feats.extend("w:" + t for t in tokens if len(t) > 1 or t.isalnum())
        lo, hi = self.ngram_range
        compact = "".join(t for t in tokens if not t.isspace())
        for n in range(max(lo, 2), hi + 1):
            feats.extend("c:" + compact[i : i + n] for i in range(len(compact) - n + 1))
        if lo <= 1:
            feats.extend("c:" + ch for ch in compact if not ch.isascii())
        return feats

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for f in self._features(text):
                h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return out
