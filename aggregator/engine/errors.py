"""Errors the engine raises on bad input (the CLI maps them to exit status 2)."""


class SnapshotError(ValueError):
    """A snapshot field is missing or impossible; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class EventError(ValueError):
    """A re-dispatch event does not fit the solved snapshot."""


class PublishError(RuntimeError):
    """The solution cannot be published exactly feasible at the published precision (a row
    whose gang or pinned allocations alone exceed its limit after rounding, or a re-check
    that fails). The run must fail: a clearing that oversells is never dispatched."""

    def __init__(self, row: str, problem: str) -> None:
        self.row = row
        self.problem = problem
        super().__init__(f"cannot publish a feasible clearing: {row}: {problem}")
