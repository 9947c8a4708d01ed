"""Saved-model folders: ``config.json`` plus ``arrays.safetensors``, with checksums.

Every csdialog model saves through :func:`write_folder` and loads through
:func:`read_folder`, so each gets the same guarantees: no pickle, a format name and version
that are checked, and a SHA-256 of the arrays file recorded in the config so that a
truncated or tampered file is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from csdialog.errors import ModelFolderError

__all__ = ["read_folder", "sha256_file", "write_folder"]

CONFIG = "config.json"
ARRAYS = "arrays.safetensors"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 4 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def write_folder(
    folder: str | os.PathLike[str],
    *,
    fmt: str,
    version: int,
    config: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
) -> Path:
    """Write ``arrays`` (safetensors) and ``config`` (JSON, with format, versions and the
    arrays' checksum) into ``folder``, creating it."""
    from safetensors.numpy import save_file

    from csdialog import __version__

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path / ARRAYS))
    full = {"format": fmt, "format_version": version, "csdialog_version": __version__,
            "arrays_sha256": sha256_file(path / ARRAYS), **config}
    (path / CONFIG).write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def read_folder(
    folder: str | os.PathLike[str], *, fmt: str, version: int | tuple[int, ...]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a folder written by :func:`write_folder`, checking format, version (one, or
    any of several a reader still understands) and checksum.

    Raises:
        ModelFolderError: a file is missing, not valid JSON, of another format or version,
            or the arrays file does not match its recorded checksum.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(folder)
    if not path.is_dir():
        raise ModelFolderError(f"{path} is not a folder; expected a folder saved by "
                               f"save_pretrained ({fmt})")
    cfg_path, arr_path = path / CONFIG, path / ARRAYS
    for p in (cfg_path, arr_path):
        if not p.is_file():
            raise ModelFolderError(f"{p} is missing; is {path} a saved {fmt}?")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFolderError(f"{cfg_path} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelFolderError(f"{cfg_path} holds {type(config).__name__}, expected an object")
    versions = (version,) if isinstance(version, int) else tuple(version)
    if config.get("format") != fmt or config.get("format_version") not in versions:
        raise ModelFolderError(
            f"{path} holds {config.get('format')!r} v{config.get('format_version')}, "
            f"expected {fmt!r} v{' or v'.join(str(v) for v in versions)}"
        )
    expected = config.get("arrays_sha256")
    if expected is not None and sha256_file(arr_path) != expected:
        raise ModelFolderError(
            f"{arr_path} does not match the checksum in {cfg_path}: the file is truncated or "
            f"was changed after saving. Save the model again"
        )
    try:
        arrays = load_file(str(arr_path))
    except (SafetensorError, OSError) as exc:
        raise ModelFolderError(f"{arr_path} is corrupted: {exc}") from exc
    return config, arrays
