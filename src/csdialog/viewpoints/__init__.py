"""Viewpoint clustering: merge paraphrased customer questions into named, stable viewpoints."""

from __future__ import annotations

from csdialog.viewpoints.clusterer import CALIBRATION, Viewpoint, ViewpointClusterer
from csdialog.viewpoints.keywords import ctfidf_keywords, tokenize
from csdialog.viewpoints.questions import (
    Question,
    extract_questions,
    is_question,
    normalize_question,
)

__all__ = [
    "CALIBRATION",
    "Question",
    "Viewpoint",
    "ViewpointClusterer",
    "ctfidf_keywords",
    "extract_questions",
    "is_question",
    "normalize_question",
    "tokenize",
]
