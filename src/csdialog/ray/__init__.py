"""The csdialog pipeline on a Ray cluster: the same annotators and clustering, scaled out.

Needs the ``ray`` extra (``pip install 'csdialog[ray]'``); Ray is imported only when a
function here runs, so importing this module is cheap.

- :func:`read_chats`: chat files (JSON lines, Parquet; local or ``s3://``...) as a Ray
  Dataset, one dialogue per row; bad rows are reported with their line, never dropped.
- :func:`fit_viewpoints` / :func:`sample_questions`: fit the viewpoints on a deterministic
  sample of the distinct questions, on the driver.
- :func:`annotate`: the per-turn models, viewpoint assignment, answer checks, inspection
  and complaint risk on a pool of actors that load the models once (from names and saved
  folders, never pickles); one record per input row, in order.
- :func:`analyze`: all of it plus the reduce (counts, repeat contacts, candidate new
  viewpoints from the unassigned questions, the report's sample) -> :class:`RayResult`,
  whose :meth:`~RayResult.save` writes the outputs of the local engine.
- :class:`PipelineSpec`, :class:`DialogueAnnotator`: the plain settings and the per-batch
  class, also usable from Spark (``mapInArrow``) or a plain loop.

Example:
    >>> from csdialog.ray import PipelineSpec, analyze
    >>> spec = PipelineSpec(encoder="hashing", encoder_kwargs={"dim": 256},
    ...                     steps=("viewpoints", "answers", "inspection", "alerts"))
    >>> result = analyze("chats.jsonl", spec, num_actors=2)          # doctest: +SKIP
    >>> result.save("results/")                                      # doctest: +SKIP

See docs/ray.md for running it on a cluster.
"""

from __future__ import annotations

from csdialog.ray._spec import PackedFolder, PipelineSpec
from csdialog.ray.annotator import TABLES, DialogueAnnotator, RowReader, explode
from csdialog.ray.engine import RayResult, analyze, annotate, fit_viewpoints, read_chats, sample_questions

__all__ = [
    "TABLES",
    "DialogueAnnotator",
    "PackedFolder",
    "PipelineSpec",
    "RayResult",
    "RowReader",
    "analyze",
    "annotate",
    "explode",
    "fit_viewpoints",
    "read_chats",
    "sample_questions",
]
