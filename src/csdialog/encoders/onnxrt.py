"""ONNX Runtime for Hugging Face encoders: export once, cache next to the model, run fast.

:func:`export_onnx` turns a Hugging Face encoder folder into an ONNX graph that takes
``input_ids`` and ``attention_mask`` and returns the mean-pooled sentence vector (pooling
inside the graph, so one call per batch and nothing per token in Python). With
``quantize="int8"`` the MatMul weights are quantised per output channel to int8 and the
activations dynamically at run time (``onnxruntime.quantization.quantize_dynamic``); the
embedding table, the LayerNorms, attention and the MatMuls fed by GELU (the FFN
down-projections, whose long-tailed inputs quantise worst) stay float32, which keeps the
vectors at cosine ~0.999 to float32.

The graph is written to ``<folder>/onnx/`` (or, when that folder is read-only, to
``$CSDIALOG_HOME/onnx/<name>-<hash>/``) through a temporary file renamed into place, with a
JSON sidecar recording the source weights' sizes and modification times, the export format
and the library versions: a changed model is exported again, an unchanged one is loaded.

int8 and the CPU: on CPUs with VNNI (AVX512-VNNI or AVX-VNNI, most x86 server CPUs since
2019) int8 products are exact. Older AVX2 CPUs compute them with an instruction that can
saturate, so there the weights are quantised to 7 bits (``reduce_range``), as ONNX Runtime
advises. The choice is made on the machine that exports and recorded in the sidecar.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from csdialog._optional import require
from csdialog.errors import EncoderError, ValidationError

__all__ = ["cpu_has_vnni", "export_onnx", "onnx_session"]

_FORMAT_VERSION = 2  # 2: MatMuls after an activation stay float32
_OPSET = 17
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")


def cpu_has_vnni() -> bool:
    """True when this CPU has int8 dot-product instructions (AVX512-VNNI / AVX-VNNI) or is
    not x86 (ARM's int8 kernels don't saturate)."""
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return True
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False  # unknown: choose the safe 7-bit weights
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return bool(flags & {"avx512_vnni", "avx_vnni"})
    return False


def _source_identity(folder: Path) -> dict[str, list[int]]:
    ident = {}
    for name in _WEIGHT_FILES:
        p = folder / name
        if p.is_file():
            st = p.stat()
            ident[name] = [st.st_size, st.st_mtime_ns]
    return ident


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("torch", "onnxruntime", "onnx", "transformers"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[dist] = importlib.metadata.version(dist)
    return out


def _cache_folder(folder: Path) -> Path:
    """``<folder>/onnx`` when we may write there, else a folder in the csdialog cache."""
    own = folder / "onnx"
    try:
        own.mkdir(exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=own, prefix=".probe-", delete=True)
        probe.close()
        return own
    except OSError:
        from csdialog.encoders.e5build import cache_dir

        key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
        alt = cache_dir() / "onnx" / f"{folder.name}-{key}"
        alt.mkdir(parents=True, exist_ok=True)
        return alt


def _sidecar_ok(sidecar: Path, model: Path, expected: dict[str, Any]) -> bool:
    if not (sidecar.is_file() and model.is_file()):
        return False
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if meta.get("size") != model.stat().st_size:
        return False
    return all(meta.get(k) == v for k, v in expected.items())


def _export_fp32(folder: Path, out: Path, *, allow_pickle: bool) -> None:
    torch = require("torch", "exporting an encoder to ONNX")
    transformers = require("transformers", "exporting an encoder to ONNX")
    from csdialog.encoders.backends import load_hf_model, mean_pool

    class _MeanPooled(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return mean_pool(hidden, attention_mask)

    config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True)
    model = load_hf_model(str(folder), config, allow_pickle=allow_pickle,
                          attn_implementation="eager",  # traceable, no SDPA shortcuts
                          torch_dtype=torch.float32).eval()
    ids = torch.tensor([[config.pad_token_id or 0] * 6, [config.pad_token_id or 0] * 6])
    ids[:, 1:5] = 5
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _MeanPooled(model), (ids, mask), str(out),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "embedding": {0: "batch"}},
            opset_version=_OPSET, dynamo=False,
        )


_ACTIVATIONS = {"Erf", "Gelu", "FastGelu", "BiasGelu", "Tanh", "Sigmoid", "Relu"}
_BARRIERS = {"MatMul", "Gemm", "LayerNormalization", "SkipLayerNormalization", "Softmax"}


def _after_activation(model: Any) -> list[str]:
    """Names of the MatMuls fed by an activation function (the FFN down-projections).

    Their inputs (GELU outputs) are long-tailed, and one int8 scale per batch for them
    costs most of int8's error: measured on 3,000 turns, keeping these 12 of e5-small's 72
    weight MatMuls in float32 cut the mean 1 - cosine to float32 from 0.0029 to 0.0009 for
    ~10% of the speed."""
    producer = {out: node for node in model.graph.node for out in node.output}
    names = []
    for node in model.graph.node:
        if node.op_type != "MatMul":
            continue
        frontier, found = [node.input[0]], False
        for _ in range(6):  # GELU ends in Mul(Mul(x, Add(Erf(.), 1)), 0.5): a few hops back
            nxt = []
            for tensor in frontier:
                prev = producer.get(tensor)
                if prev is None or prev.op_type in _BARRIERS:  # don't walk into another layer
                    continue
                if prev.op_type in _ACTIVATIONS:
                    found = True
                    break
                nxt.extend(prev.input)
            if found or not nxt:
                break
            frontier = nxt
        if found:
            names.append(node.name)
    return names


def _quantize_int8(src: Path, dst: Path, *, reduce_range: bool) -> None:
    onnx = require("onnx", "int8 quantisation")
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic logs advice at WARNING
    try:
        keep_fp32 = _after_activation(onnx.load(str(src), load_external_data=False))
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=reduce_range, op_types_to_quantize=["MatMul"],
                         nodes_to_exclude=keep_fp32)
    finally:
        logging.getLogger().setLevel(quiet)


def export_onnx(
    folder: str | os.PathLike[str],
    *,
    quantize: str | None = None,
    force: bool = False,
    allow_pickle: bool = False,
) -> Path:
    """Return the ONNX graph of a Hugging Face encoder folder, exporting it if needed.

    Args:
        folder: a local Hugging Face encoder folder (``config.json`` and weights).
        quantize: ``None`` for float32, ``"int8"`` for dynamic int8 quantisation.
        force: export again even when a valid cached graph exists.
        allow_pickle: accept weights stored as pickles (see
            :class:`~csdialog.encoders.HuggingFaceEncoder`).

    Returns:
        Path of the ``.onnx`` file (``model-fp32.onnx`` or ``model-int8.onnx``).

    Raises:
        EncoderError: the folder is missing or the model could not be exported.

    Example:
        >>> from csdialog.encoders import build_e5_folder
        >>> path = export_onnx(build_e5_folder(), quantize="int8")  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'model-int8.onnx'
    """
    if quantize not in (None, "int8"):
        raise ValidationError(f"quantize is None or 'int8', got {quantize!r}")
    src = Path(folder)
    if not (src / "config.json").is_file():
        raise EncoderError(
            f"{str(src)!r} is not a Hugging Face model folder (no config.json); pass the folder "
            "holding config.json, the weights and the tokenizer files"
        )
    require("onnxruntime", "the ONNX backend")
    cache = _cache_folder(src)
    kind = "int8" if quantize else "fp32"
    reduce_range = bool(quantize) and not cpu_has_vnni()
    expected: dict[str, Any] = {
        "format_version": _FORMAT_VERSION, "source": _source_identity(src), "kind": kind,
        "opset": _OPSET, "reduce_range": reduce_range,
    }
    model = cache / f"model-{kind}.onnx"
    sidecar = cache / f"model-{kind}.json"
    if not force and _sidecar_ok(sidecar, model, expected):
        return model
    print(f"csdialog: exporting {src.name} to ONNX ({kind}) in {cache}; once per model",
          file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache))
    try:
        fp32 = tmp / "model-fp32.onnx"
        try:
            _export_fp32(src, fp32, allow_pickle=allow_pickle)
            if quantize:
                _quantize_int8(fp32, tmp / "model-int8.onnx", reduce_range=reduce_range)
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise EncoderError(
                f"could not export {str(src)!r} to ONNX: {exc!r}. Use backend='torch' for this "
                "model"
            ) from exc
        built = tmp / f"model-{kind}.onnx"
        meta = dict(expected, size=built.stat().st_size, versions=_versions())
        (tmp / sidecar.name).write_text(json.dumps(meta, indent=2))
        os.replace(built, model)  # the graph first, then the sidecar that vouches for it
        os.replace(tmp / sidecar.name, sidecar)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return model


def onnx_session(path: str | os.PathLike[str], *, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads and one inter-op
    thread. The default is ``$OMP_NUM_THREADS`` when set (Ray sets it to each worker's
    CPUs, so actors don't oversubscribe the machine), else the cores this process may use."""
    ort = require("onnxruntime", "the ONNX backend")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or _usable_cores()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise EncoderError(
            f"could not load the ONNX graph {str(path)!r}: {exc}. Export it again with "
            "export_onnx(folder, force=True)"
        ) from exc


def _usable_cores() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
