"""The encoder protocol and the shared batching machinery every adapter uses."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from csdialog.errors import ValidationError

__all__ = ["BatchedEncoder", "Encoder", "check_texts", "iter_encode"]


@runtime_checkable
class Encoder(Protocol):
    """What csdialog needs from a backbone.

    Any object with a ``name``, a ``dim`` and an ``encode`` method that maps a list of
    ``n`` strings to a float32 array of shape ``(n, dim)`` is an encoder. Rows are
    L2-normalised by the built-in adapters (so a dot product is a cosine).

    Example:
        >>> import numpy as np
        >>> class Ones:
        ...     name, dim = "ones", 2
        ...     def encode(self, texts):
        ...         return np.ones((len(texts), 2), dtype=np.float32)
        >>> isinstance(Ones(), Encoder)
        True
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def check_texts(texts: object) -> list[str]:
    """Validate the input of ``encode``: a sequence of strings (empty strings allowed).

    Raises:
        ValidationError: a bare string, a non-sequence, or a non-string item (with its index).
    """
    if isinstance(texts, str | bytes):
        raise ValidationError(
            f"encode() takes a list of texts, got a single {type(texts).__name__} "
            f"{texts[:40]!r}; wrap it: encode([text])"
        )
    if not isinstance(texts, Iterable):
        raise ValidationError(f"encode() takes a list of strings, got {type(texts).__name__}")
    out: list[object] = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise ValidationError(
                f"encode() takes strings; item {i} is {type(t).__name__} {t!r:.60}. "
                "Convert or drop non-text items first"
            )
    return [str(t) for t in out]


class BatchedEncoder:
    """Base class of the built-in adapters: validation, de-duplication, length-sorted
    batches, an optional progress bar, and a float32 ``(n, dim)`` result.

    Subclasses set ``name`` and ``dim`` and implement :meth:`_encode_batch`, which gets
    distinct texts of similar length and returns their (not yet normalised) vectors.

    Args:
        batch_size: texts per forward pass.
        normalize: L2-normalise rows (default) so dot products are cosines.
        show_progress: show a tqdm bar on stderr for calls with more than one batch.
    """

    name: str = "batched"
    dim: int = 0

    def __init__(
        self, *, batch_size: int = 64, normalize: bool = True, show_progress: bool = False
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = batch_size
        self.normalize = normalize
        self.show_progress = show_progress

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _length(self, text: str) -> int:
        """Sort key for batching (characters); see :meth:`_lengths`."""
        return len(text)

    def _lengths(self, texts: list[str]) -> list[int]:
        """Sort keys of a chunk of distinct texts. Subclasses with a tokenizer override
        this to tokenize the chunk once, sort by token count, and keep the ids for
        :meth:`_encode_batch`."""
        return [self._length(t) for t in texts]

    def _release(self) -> None:
        """Called when a call ends: drop whatever :meth:`_lengths` kept (each chunk's
        :meth:`_lengths` replaces the previous chunk's)."""

    #: distinct texts tokenized and sorted together; bounds the working memory of a call
    chunk_size: int = 8192

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; repeated texts are embedded once.

        Distinct texts are taken in chunks of :attr:`chunk_size`; each chunk is sorted by
        length and cut into batches of ``batch_size``, so padding stays small and the
        working memory does not grow with the input (only the result does; for inputs
        that don't fit in memory use :func:`iter_encode`).

        Returns:
            float32 array of shape ``(len(texts), dim)``.
        """
        items = check_texts(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        index: dict[str, int] = {}
        inverse = np.empty(len(items), dtype=np.int64)
        for i, t in enumerate(items):
            inverse[i] = index.setdefault(t, len(index))
        unique = list(index)
        del index
        out = np.empty((len(unique), self.dim), dtype=np.float32)
        bar = None
        if self.show_progress and len(unique) > self.batch_size:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(unique), desc=f"embedding ({self.name})", unit="text",
                       file=sys.stderr)
        try:
            for c in range(0, len(unique), self.chunk_size):
                chunk = unique[c : c + self.chunk_size]
                lengths = self._lengths(chunk)
                order = sorted(range(len(chunk)), key=lengths.__getitem__)
                for s in range(0, len(order), self.batch_size):
                    idx = order[s : s + self.batch_size]
                    vecs = np.asarray(self._encode_batch([chunk[i] for i in idx]),
                                      dtype=np.float32)
                    if vecs.shape != (len(idx), self.dim):
                        raise ValueError(
                            f"{type(self).__name__}._encode_batch returned shape {vecs.shape}, "
                            f"expected {(len(idx), self.dim)}"
                        )
                    out[[c + i for i in idx]] = vecs
                    if bar is not None:
                        bar.update(len(idx))
        finally:
            self._release()
            if bar is not None:
                bar.close()
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
        return out[inverse]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def iter_encode(encoder: Encoder, texts: Iterable[str], *, chunk_size: int = 8192) -> Iterator[np.ndarray]:
    """Embed a stream of texts chunk by chunk, for inputs larger than memory.

    Reads ``chunk_size`` texts from ``texts`` (any iterable: a generator over a file, a
    database cursor...), yields their ``(n, dim)`` vectors, and reads on; memory holds one
    chunk, whatever the input size.

    Example:
        >>> from csdialog.encoders import HashingEncoder
        >>> lines = (f"turn {i}" for i in range(10))
        >>> [block.shape for block in iter_encode(HashingEncoder(dim=8), lines, chunk_size=4)]
        [(4, 8), (4, 8), (2, 8)]
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValidationError(f"chunk_size must be a positive int, got {chunk_size!r}")
    if isinstance(texts, str | bytes):
        raise ValidationError("iter_encode() takes an iterable of texts, not a single string")
    def block(chunk: list[str], start: int) -> np.ndarray:
        try:
            return encoder.encode(chunk)
        except ValidationError as exc:  # say where in the stream, not only in the chunk
            raise ValidationError(f"in the chunk of texts {start}..{start + len(chunk) - 1} "
                                  f"of the stream: {exc}") from exc

    chunk: list[str] = []
    start = 0
    for text in texts:
        chunk.append(text)
        if len(chunk) == chunk_size:
            yield block(chunk, start)
            start += len(chunk)
            chunk = []
    if chunk:
        yield block(chunk, start)
