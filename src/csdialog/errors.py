"""Every exception csdialog raises, in one place.

Each error subclasses the builtin that fits, so existing ``except ValueError`` /
``except ImportError`` clauses keep working, and says what was received, what was
expected and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ColumnMappingError",
    "CsdialogError",
    "DataFormatError",
    "EncoderError",
    "MissingDependencyError",
    "ModelFolderError",
    "NotFittedError",
    "UnknownEncoderError",
    "ValidationError",
]


class CsdialogError(Exception):
    """Base class of all csdialog errors."""


class ValidationError(CsdialogError, ValueError):
    """A value given to csdialog is not valid (wrong type, empty text, unknown role...)."""


class DataFormatError(CsdialogError, ValueError):
    """A file or table cannot be read as chats at all (not just one bad row)."""


class ColumnMappingError(DataFormatError, KeyError):
    """A column named in the column mapping is not in the input.

    Subclasses ``KeyError`` too, so code that catches a missing column keeps working.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(CsdialogError, ImportError):
    """An optional dependency is needed; the message names the ``pip install`` command."""


class EncoderError(CsdialogError, RuntimeError):
    """An encoder could not be built, loaded or run."""


class UnknownEncoderError(CsdialogError, KeyError):
    """An encoder name is not in the registry; the message lists the valid names."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ModelFolderError(CsdialogError, OSError):
    """A saved model folder is missing, incomplete, corrupted or unsafe to load."""


class NotFittedError(CsdialogError, ValueError, AttributeError):
    """An estimator was used before ``fit``; as in scikit-learn it is both a
    ``ValueError`` and an ``AttributeError``."""
