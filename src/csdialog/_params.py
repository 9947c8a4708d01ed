"""scikit-learn style ``get_params`` / ``set_params`` from a class's ``_PARAMS`` tuple."""

from __future__ import annotations

from typing import Any, ClassVar

from csdialog.errors import ValidationError

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """Gives an estimator ``get_params`` / ``set_params`` (``clone`` support) over the
    constructor arguments named in ``_PARAMS``."""

    _PARAMS: ClassVar[tuple[str, ...]] = ()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor arguments (scikit-learn ``clone`` support)."""
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params: Any) -> Any:
        """Set constructor arguments; unknown names are refused with the valid ones."""
        for k, v in params.items():
            if k not in self._PARAMS:
                raise ValidationError(f"unknown parameter {k!r}; valid: {sorted(self._PARAMS)}")
            setattr(self, k, v)
        return self
