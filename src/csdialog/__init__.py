"""csdialog: customer-service dialogue analytics, offline and CPU-first.

Example:
    >>> import csdialog
    >>> d = csdialog.Dialogue("d1", [csdialog.Turn("customer", "谢谢你")])
    >>> d.turns[0].role
    <Role.CUSTOMER: 'customer'>

Importing csdialog is cheap and has no side effects: torch, transformers and the other
heavy libraries load only when a model is first used.
"""

from __future__ import annotations

from csdialog.context import ContextualText
from csdialog.dialogue import Dialogue, Role, Turn
from csdialog.emotion import EmotionClassifier, EmotionPrediction
from csdialog.encoders import (
    DEFAULT_ENCODER,
    Encoder,
    available_encoders,
    get_encoder,
    register_encoder,
)
from csdialog.errors import (
    ColumnMappingError,
    CsdialogError,
    DataFormatError,
    EncoderError,
    MissingDependencyError,
    ModelFolderError,
    NotFittedError,
    UnknownEncoderError,
    ValidationError,
)
from csdialog.intent import IntentClassifier, IntentPrediction
from csdialog.io import (
    ChatReader,
    ColumnMapping,
    ReadReport,
    ReadResult,
    RejectedRow,
    from_hf_dataset,
    from_pandas,
    read_chats,
    to_hf_dataset,
    to_pandas,
    write_csv,
    write_jsonl,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ENCODER",
    "ChatReader",
    "ColumnMapping",
    "ColumnMappingError",
    "ContextualText",
    "CsdialogError",
    "DataFormatError",
    "Dialogue",
    "EmotionClassifier",
    "EmotionPrediction",
    "Encoder",
    "EncoderError",
    "IntentClassifier",
    "IntentPrediction",
    "MissingDependencyError",
    "ModelFolderError",
    "NotFittedError",
    "ReadReport",
    "ReadResult",
    "RejectedRow",
    "Role",
    "Turn",
    "UnknownEncoderError",
    "ValidationError",
    "__version__",
    "available_encoders",
    "from_hf_dataset",
    "from_pandas",
    "get_encoder",
    "read_chats",
    "register_encoder",
    "to_hf_dataset",
    "to_pandas",
    "write_csv",
    "write_jsonl",
]
