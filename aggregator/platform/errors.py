"""Domain errors raised by services; the API and portal map each to one response."""

from __future__ import annotations

from django.utils.translation import gettext as _


class DomainError(Exception):
    status = 400
    problem = "domain-error"
    title = "The request cannot be carried out"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class InvalidInput(DomainError):
    """Bad input: nothing was written."""

    status = 400
    problem = "validation"
    title = "Invalid input"

    @classmethod
    def from_errors(cls, errors: dict[str, list[str]]) -> InvalidInput:
        fields = ", ".join(sorted(errors))
        return cls(_("Please correct: %(fields)s.") % {"fields": fields}, errors=errors)


class Forbidden(DomainError):
    status = 403
    problem = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    problem = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The action clashes with the object's current state (e.g. behind gate closure)."""

    status = 409
    problem = "conflict"
    title = "Conflict with the current state"
