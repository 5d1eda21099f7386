"""Errors the engine raises on bad input (the CLI maps them to exit status 2)."""


class SnapshotError(ValueError):
    """A snapshot field is missing or impossible; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class EventError(ValueError):
    """A re-dispatch event does not fit the solved snapshot."""
