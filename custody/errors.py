"""The custody part's error vocabulary.

Every refusal the custody core can raise carries a stable contract code (API.md: the error
body is ``{"error": {"code", "message", "fields"}}``), so the one exception handler in the
API layer can render it without knowing which rule fired. The shape follows Django REST
framework's exceptions: a class-level default code, a human message, optional field errors.
"""

from typing import ClassVar


class CustodyError(Exception):
    """Base for every custody refusal; ``code`` is the upper-case contract code."""

    code: ClassVar[str] = "VALIDATION_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def fields(self) -> dict[str, list[str]]:
        """Field-level messages for the error body (empty when no single field is at fault)."""
        return {self.field: [self.message]} if self.field else {}


class InvalidAmount(CustodyError):
    """An amount string that is not a plain decimal representable in the asset's scale."""

    code = "VALIDATION_ERROR"


class UnknownAsset(CustodyError):
    """An asset code outside the fixed table in :mod:`custody.money`."""

    code = "VALIDATION_ERROR"


class SegregationViolation(CustodyError):
    """A transfer that would move value across the segregation wall without an allowed code."""

    code = "SEGREGATION_VIOLATION"
