"""ONNX Runtime for Hugging Face encoders: export once, cache next to the model, run fast.

:func:`export_onnx` turns a Hugging Face encoder folder into an ONNX graph that takes
``input_ids`` and ``attention_mask`` and returns the mean-pooled sentence vector (pooling
inside the graph, so one call per batch and nothing per token in Python). With
``quantize="int8"`` every weight MatMul becomes an int8 MatMul (weights per output
channel; activations per token, scaled inside the graph at run time, see
:func:`_quantize_int8`), so a text's vector never depends on the other texts in its
batch. Before that, each Linear's input is smoothed (SmoothQuant: the few outlier channels
of the activations, measured on calibration texts, are divided out and multiplied into the
weights, which is exact in float32, see :func:`_smooth`). With all 72 of e5-small's weight
MatMuls in int8 the vectors stay at cosine ~0.9997 to float32. The embedding table, the
LayerNorms and attention stay float32.

The graph is written to ``<folder>/onnx/`` (or, when that folder is read-only, to
``$CSDIALOG_HOME/onnx/<name>-<hash>/``) through a temporary file renamed into place, with a
JSON sidecar recording the source weights' sizes and modification times, the export format
and the library versions: a changed model is exported again, an unchanged one is loaded.

int8 and the CPU: the weights are quantised to 7 bits (within +-63) on every machine.
ONNX Runtime's int8 kernel on CPUs without VNNI (AVX512-VNNI / AVX-VNNI; most x86 CPUs
before 2019, and some AMD EPYC generations) multiplies with an instruction that can
saturate with full 8-bit weights; with 7-bit weights no sum can, so the integer products
are exact on every CPU and the graph and its vectors should be the same wherever they
are exported, up to float rounding (by construction; checked on one machine type only,
where a second export reproduced cached vectors within 3e-8). Heads trained on these
vectors (the shipped emotion model, calibrated thresholds) then read the same vectors on
a user's machine as on the one they were trained on. Choosing the bits per CPU, as before
format 4, moved borderline readings between machines (a bare "谢谢你" read satisfied on one
and neutral on the other). The cost: mean 1 - cosine to float32 0.00086 instead of
0.00061 (e5-small, the first 1,000 banking77 test texts and 1,000 CrossWOZ test turns; a
one-off measurement, both widths on a CPU without VNNI); ``benchmarks/bench_inference.py``
reproduces the 7-bit side: 0.000995 to the float32 anchor on its mixed turns.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from csdialog._optional import require
from csdialog.errors import EncoderError, ValidationError

__all__ = ["calibration_texts", "export_onnx", "onnx_session"]

_FORMAT_VERSION = 4  # 3: every weight MatMul int8, inputs smoothed (SmoothQuant);
#                       4: 7-bit weights on every CPU (the same graph everywhere)
# The export formats whose graphs are still current, per kind: every format change so far
# was to the int8 graph, and the float32 graph is the same as in format 1.
_CURRENT_FORMATS = {"int8": frozenset({_FORMAT_VERSION}),
                    "fp32": frozenset(range(1, _FORMAT_VERSION + 1))}
_WEIGHT_BITS = 7  # exact on int8 kernels with or without VNNI (see the module docstring)
_WEIGHT_MAX = float(2 ** (_WEIGHT_BITS - 1) - 1)  # 63
_OPSET = 17
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")


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


def _sidecar_ok(sidecar: Path, model: Path, expected: dict[str, Any],
                formats: frozenset[int]) -> bool:
    if not (sidecar.is_file() and model.is_file()):
        return False
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if meta.get("size") != model.stat().st_size:
        return False
    if meta.get("format_version") not in formats:
        return False
    return all(meta.get(k) == v for k, v in expected.items())


def _export_fp32(folder: Path, out: Path, *, allow_pickle: bool,
                 calibration: list[str] | None = None) -> None:
    """Export the mean-pooled float32 graph; with ``calibration`` texts, of the smoothed
    model (the same function, laid out for int8, see :func:`_smooth`)."""
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
    if calibration is not None:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True,
                                                               use_fast=True)
        _smooth(model, tokenizer, calibration)
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


_SMOOTH_ALPHA = 0.75


def calibration_texts() -> list[str]:
    """The built-in texts used to calibrate int8 smoothing: the 418 distinct turns of the
    sample chats (Chinese, traditional Chinese, English and mixed service dialogues).

    Example:
        >>> texts = calibration_texts()
        >>> len(texts), texts[0]
        (418, '为什么面膜B比面膜A贵了一百多块钱?')
    """
    from importlib.resources import files

    text = files("csdialog.encoders").joinpath("calibration.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _smoothed_linear(linear: Any, inv: Any) -> Any:
    """A module computing ``linear(x * inv, W / inv)``: the same function as ``linear``,
    with the input's outlier channels moved into the weights (SmoothQuant)."""
    torch = require("torch", "int8 quantisation")

    class SmoothedLinear(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("inv", inv.clone())
            self.linear = torch.nn.Linear(linear.in_features, linear.out_features,
                                          bias=linear.bias is not None)
            with torch.no_grad():
                self.linear.weight.copy_(linear.weight / inv[None, :])
                if linear.bias is not None:
                    self.linear.bias.copy_(linear.bias)

        def forward(self, x: Any) -> Any:
            return self.linear(x * self.inv)

    return SmoothedLinear()


def _smooth(model: Any, tokenizer: Any, texts: list[str], alpha: float = _SMOOTH_ALPHA) -> int:
    """Rescale every Linear of ``model`` in place so that its input quantises well.

    int8 gives each token's activation row one scale (see :func:`_quantize_int8`), and a
    few channels of a transformer's activations are 10-100x larger than the rest: they set
    the scale and the other channels lose their precision. With the per-channel maxima ``a``
    of a Linear's input over ``texts`` and the column maxima ``w`` of its weight, the
    input is divided by ``s = a**alpha / w**(1 - alpha)`` and the weight multiplied by
    it (Xiao et al. 2023, SmoothQuant): exact in float32, and the difficulty is shared
    between activations and (per-channel quantised) weights. Linears fed by the same
    tensor (query, key, value) share one ``s``, so the graph divides and quantises their
    input once. Measured on 3,000 real turns with e5-small and per-token int8: mean
    1 - cosine to float32 0.0008 without smoothing, 0.0003 with it (alpha 0.5: 0.0004,
    0.9: 0.0008).

    Returns the number of Linears rescaled."""
    torch = require("torch", "int8 quantisation")
    linears = {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    maxima: dict[str, Any] = {}
    calls: list[tuple[str, int]] = []  # (Linear, input tensor) in call order, first batch
    first_batch = True

    def hook(name: str) -> Any:
        def record(_module: Any, args: tuple[Any, ...], _out: Any) -> None:
            x = args[0].detach()
            peak = x.abs().reshape(-1, x.shape[-1]).amax(0)
            maxima[name] = peak if name not in maxima else torch.maximum(maxima[name], peak)
            if first_batch:
                calls.append((name, x.data_ptr()))
        return record

    limit = int(getattr(model.config, "max_position_embeddings", 130)) - 2  # RoBERTa's offset
    handles = [m.register_forward_hook(hook(n)) for n, m in linears.items()]
    try:
        with torch.inference_mode():
            for i in range(0, len(texts), 32):
                batch = tokenizer(texts[i: i + 32], padding=True, truncation=True,
                                  max_length=min(128, limit), return_tensors="pt")
                model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
                first_batch = False
    finally:
        for h in handles:
            h.remove()
    groups: list[list[str]] = []  # consecutive calls on the same input tensor: one group
    for k, (name, ptr) in enumerate(calls):
        if groups and ptr == calls[k - 1][1] and name not in groups[-1]:
            groups[-1].append(name)
        else:
            groups.append([name])
    from collections import Counter

    calls_per_linear = Counter(name for group in groups for name in group)
    done = 0
    for group in groups:
        if any(calls_per_linear[n] > 1 for n in group):
            continue  # a Linear called on several inputs: leave it as it is
        a = maxima[group[0]].clamp(min=1e-5)
        w = torch.stack([linears[n].weight.detach().abs().amax(0) for n in group]).amax(0)
        inv = 1.0 / (a ** alpha / w.clamp(min=1e-5) ** (1 - alpha)).clamp(min=1e-5)
        for name in group:
            parent_name, _, attr = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attr, _smoothed_linear(linears[name], inv))
            done += 1
    return done


def _merge_duplicates(graph: Any) -> None:
    """Merge identical initializers and then identical nodes (same op, inputs and
    attributes), in place. The smoothed query, key and value each divide the same input by
    the same scales; merged, their input is quantised once."""
    from onnx import numpy_helper

    rename: dict[str, str] = {}
    seen: dict[tuple[Any, ...], str] = {}
    kept_inits = []
    for init in graph.initializer:
        value = numpy_helper.to_array(init)
        key = (init.data_type, value.shape, hashlib.sha1(value.tobytes()).hexdigest())
        if key in seen:
            rename[init.name] = seen[key]
        else:
            seen[key] = init.name
            kept_inits.append(init)
    outputs = {o.name for o in graph.output}
    signatures: dict[tuple[Any, ...], list[str]] = {}
    kept_nodes = []
    for node in graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = rename.get(name, name)
        if node.op_type == "Identity" and node.output[0] not in outputs:
            rename[node.output[0]] = node.input[0]  # the exporter's aliases of shared tensors
            continue
        sig = (node.domain, node.op_type, tuple(node.input),
               tuple(a.SerializeToString(deterministic=True) for a in node.attribute))
        if sig in signatures and not outputs.intersection(node.output) and not any(
                a.type in (5, 10) for a in node.attribute):  # no subgraph attributes
            rename.update(zip(node.output, signatures[sig], strict=True))
            continue
        signatures.setdefault(sig, list(node.output))
        kept_nodes.append(node)
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)
    del graph.node[:]
    graph.node.extend(kept_nodes)


def _quantize_int8(src: Path, dst: Path) -> int:
    """Rewrite every weight MatMul of the float32 graph ``src`` as an int8 MatMul with
    per-token activation scales; returns how many were rewritten.

    Weights: 7 bits (within +-63, see the module docstring) per output channel,
    symmetric. Activations: each row (token) of the
    input is scaled by its own absolute maximum and rounded to int8 (stored as uint8 with
    zero point 128) inside the graph, then ``MatMulIntegerToFloat`` (ONNX Runtime's fused
    int8 kernel) multiplies, and the row's scale is applied to the result. Unlike ONNX
    Runtime's ``quantize_dynamic``, which uses one scale for the whole batch, a text's
    vector then does not depend on the other texts in its batch, and short or quiet
    tokens keep their precision next to loud ones (measured with 8-bit weights, mean
    1 - cosine to float32 on e5-small 0.0003, against 0.0007 with one scale per batch, for
    ~10% of the speed)."""
    onnx = require("onnx", "int8 quantisation")
    import numpy as np
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    _merge_duplicates(graph)
    weights = {i.name: i for i in graph.initializer if len(i.dims) == 2}
    nodes: list[Any] = []
    added: list[Any] = []
    quantized: dict[str, tuple[str, str, str]] = {}  # input -> (int8 input, row scales, shape)
    wmax = _WEIGHT_MAX

    def const(name: str, value: Any) -> str:
        added.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    one, zp_a, zp_b = (const("q8_one", np.float32(1.0)), const("q8_zp_a", np.uint8(128)),
                       const("q8_zp_b", np.int8(0)))
    inv127, tiny = const("q8_inv127", np.float32(1 / 127)), const("q8_tiny", np.float32(1e-30))
    flat, start, stop = (const("q8_flat", np.array([-1], np.int64)),
                         const("q8_start", np.array([0], np.int64)),
                         const("q8_stop", np.array([-1], np.int64)))
    count = 0
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        k = f"q8_{count}"
        count += 1
        w_scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / wmax
        const(k + "_w", np.clip(np.round(w / w_scale), -wmax, wmax).astype(np.int8))
        const(k + "_ws", w_scale.astype(np.float32))
        const(k + "_n", np.array([w.shape[1]], np.int64))
        x = node.input[0]
        if x not in quantized:  # query, key and value share one quantised input
            p = f"q8_x{len(quantized)}"
            const(p + "_2d", np.array([-1, w.shape[0]], np.int64))
            nodes += [
                helper.make_node("Shape", [x], [p + "_shape"]),
                helper.make_node("Reshape", [x, p + "_2d"], [p + "_rows"]),
                helper.make_node("Abs", [p + "_rows"], [p + "_abs"]),
                helper.make_node("ReduceMax", [p + "_abs"], [p + "_max"], axes=[-1], keepdims=1),
                helper.make_node("Mul", [p + "_max", inv127], [p + "_s0"]),
                helper.make_node("Add", [p + "_s0", tiny], [p + "_s"]),  # all-zero rows
                helper.make_node("Reshape", [p + "_s", flat], [p + "_s1"]),
                helper.make_node("Shape", [p + "_s1"], [p + "_m"]),
                helper.make_node("Expand", [zp_a, p + "_m"], [p + "_zp"]),
                helper.make_node("QuantizeLinear", [p + "_rows", p + "_s1", p + "_zp"], [p + "_q"],
                                 axis=0),
            ]
            quantized[x] = (p + "_q", p + "_s", p + "_shape")
        xq, row_scale, shape = quantized[x]
        nodes += [
            helper.make_node("MatMulIntegerToFloat", [xq, k + "_w", one, k + "_ws", zp_a, zp_b],
                             [k + "_y0"], domain="com.microsoft"),
            helper.make_node("Mul", [k + "_y0", row_scale], [k + "_y1"]),
            helper.make_node("Slice", [shape, start, stop], [k + "_lead"]),
            helper.make_node("Concat", [k + "_lead", k + "_n"], [k + "_shape"], axis=0),
            helper.make_node("Reshape", [k + "_y1", k + "_shape"], [node.output[0]]),
        ]
    used = {name for n in nodes for name in n.input}
    kept = [i for i in graph.initializer if i.name in used] + [i for i in added if i.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(dst))
    return count


def export_onnx(
    folder: str | os.PathLike[str],
    *,
    quantize: str | None = None,
    force: bool = False,
    allow_pickle: bool = False,
    prefix: str = "",
    calibration: Sequence[str] | None = None,
) -> Path:
    """Return the ONNX graph of a Hugging Face encoder folder, exporting it if needed.

    Args:
        folder: a local Hugging Face encoder folder (``config.json`` and weights).
        quantize: ``None`` for float32, ``"int8"`` for dynamic int8 quantisation.
        force: export again even when a valid cached graph exists.
        allow_pickle: accept weights stored as pickles (see
            :class:`~csdialog.encoders.HuggingFaceEncoder`).
        prefix: the text the encoder puts before every input (``"query: "`` for e5); int8
            calibration sees the texts as the model will.
        calibration: texts whose activations set the int8 smoothing scales (default:
            :func:`calibration_texts`, 418 service-chat turns); a few hundred turns like
            yours are enough. Ignored for float32.

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
    expected: dict[str, Any] = {
        "source": _source_identity(src), "kind": kind,
        "opset": _OPSET,
    }
    texts: list[str] | None = None
    if quantize:
        given = calibration_texts() if calibration is None else calibration
        if isinstance(given, str) or not given or not all(isinstance(t, str) for t in given):
            raise ValidationError(
                f"calibration must be a non-empty list of strings, got {calibration!r:.80}; "
                "pass a few hundred texts like yours, or None for the built-in set")
        texts = [prefix + t for t in given]
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        expected["smoothing"] = {"alpha": _SMOOTH_ALPHA, "calibration": digest}
        expected["weight_bits"] = _WEIGHT_BITS
    model = cache / f"model-{kind}.onnx"
    sidecar = cache / f"model-{kind}.json"
    if not force and _sidecar_ok(sidecar, model, expected, _CURRENT_FORMATS[kind]):
        return model
    print(f"csdialog: exporting {src.name} to ONNX ({kind}) in {cache}; once per model",
          file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache))
    try:
        fp32 = tmp / "model-fp32.onnx"
        try:
            _export_fp32(src, fp32, allow_pickle=allow_pickle, calibration=texts)
            if quantize:
                _quantize_int8(fp32, tmp / "model-int8.onnx")
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise EncoderError(
                f"could not export {str(src)!r} to ONNX: {exc!r}. Use backend='torch' for this "
                "model"
            ) from exc
        built = tmp / f"model-{kind}.onnx"
        meta = dict(expected, format_version=_FORMAT_VERSION, size=built.stat().st_size,
                    versions=_versions())
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
