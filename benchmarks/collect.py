"""Gather the markdown tables in benchmarks/results/ into docs/benchmarks.md.

    python benchmarks/collect.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["encoders", "viewpoints_quality_e5-small", "viewpoints_scale", "viewpoint_calibration"]
INTRO = """# Benchmarks

Every table below is written by a script in `benchmarks/` (JSON next to it in
`benchmarks/results/`, with versions, seed, hardware and the command). Anchors run in the
same script, on the same data and the same embeddings, in the same run. Timings come from a
shared 2-core machine and are noisy: compare ratios within one table, not across tables.

| table | script | reproduce |
|---|---|---|
| encoders | `benchmarks/bench_encoders.py` | `make bench` (runs `bench_encoders.py --data-root ...`) |
| viewpoints quality | `benchmarks/bench_viewpoints.py` | `... --part quality --encoder e5-small` |
| viewpoints scale | `benchmarks/bench_viewpoints.py` | `... --part scale` |
| viewpoints context weight | `benchmarks/bench_viewpoints.py` | `... --part context_sweep` |
| viewpoint thresholds | `benchmarks/calibrate_viewpoints.py` | `python benchmarks/calibrate_viewpoints.py` |

"""


def main() -> None:
    results = ROOT / "benchmarks" / "results"
    parts = [INTRO]
    names = [n for n in ORDER if (results / f"{n}.md").exists()]
    names += sorted(p.stem for p in results.glob("*.md") if p.stem not in names)
    for name in names:
        text = (results / f"{name}.md").read_text(encoding="utf-8")
        parts.append(text.replace(f"# {name}\n", f"## {name}\n", 1))
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"docs/benchmarks.md: {len(names)} tables")


if __name__ == "__main__":
    main()
