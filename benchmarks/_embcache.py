"""A disk-backed embedding cache for benchmark and training scripts (not for the library).

Vectors are stored per encoder in ``<dir>/<encoder name>.npz`` (texts + float32 vectors) so
that a re-run, or another script on the same data, does not embed the same texts again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DIR = Path(os.environ.get("CSDIALOG_HOME", Path.home() / ".cache" / "csdialog")) / "emb"


class DiskCachedEncoder:
    """Wraps an encoder; same ``name`` and ``dim``; call :meth:`save` to persist."""

    def __init__(self, encoder: Any, directory: str | os.PathLike[str] = DEFAULT_DIR) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dim = int(encoder.dim)
        # the backend is part of the file name: int8 and float32 vectors of one model differ
        backend = getattr(encoder, "backend", "")
        if backend == "auto" and hasattr(encoder, "_load"):
            encoder._load()  # resolve "auto" to what will actually run
            backend = encoder.backend
        if backend in ("", "torch"):
            stem = self.name
        else:  # the graph's export format too: a new quantisation recipe gives new vectors
            from csdialog.encoders.onnxrt import _FORMAT_VERSION

            stem = f"{self.name}@{backend}-v{_FORMAT_VERSION}"
        self.path = Path(directory) / f"{stem}.npz"
        self._store: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.is_file():
            data = np.load(self.path, allow_pickle=False)
            for t, v in zip(data["texts"].tolist(), data["vectors"], strict=True):
                self._store[t] = v

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._store))
        if missing:
            for t, v in zip(missing, self.encoder.encode(missing), strict=True):
                self._store[t] = v
            self._dirty = True
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._store[t] for t in texts]).astype(np.float32)

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():  # merge what another process saved meanwhile
            data = np.load(self.path, allow_pickle=False)
            for t, v in zip(data["texts"].tolist(), data["vectors"], strict=True):
                self._store.setdefault(t, v)
        texts = list(self._store)
        tmp = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, texts=np.array(texts, dtype=str),
                 vectors=np.stack([self._store[t] for t in texts]).astype(np.float32))
        os.replace(tmp, self.path)
        self._dirty = False


def cached_encoder(spec: str, directory: str | os.PathLike[str] = DEFAULT_DIR, **kwargs: Any) -> Any:
    """``DiskCachedEncoder(get_encoder(spec, **kwargs))``; a ``"concat:a+b"`` spec gets one
    cache per part (so e5's vectors are shared with plain e5 runs), and ``.save()`` saves
    them all. ``kwargs`` go to every part (e.g. ``batch_size``)."""
    from csdialog.encoders import CONCAT_PREFIX, get_encoder

    if not spec.startswith(CONCAT_PREFIX):
        return DiskCachedEncoder(get_encoder(spec, **kwargs), directory)
    parts = [DiskCachedEncoder(get_encoder(p, **kwargs), directory)
             for p in spec[len(CONCAT_PREFIX):].split("+")]
    return _cached_concat(parts)


def _cached_concat(parts: list[DiskCachedEncoder]) -> Any:
    from csdialog.encoders import ConcatEncoder

    class CachedConcat(ConcatEncoder):
        """A ConcatEncoder over disk-cached parts, with ``save()``."""

        def save(self) -> None:
            for p in self.parts:
                p.save()  # type: ignore[attr-defined]

    return CachedConcat(parts)
