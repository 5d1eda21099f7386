"""One id per request that follows the work: the response, problem details, logs and tasks.

A request keeps a well-formed `X-Request-ID` from its client or proxy, or gets a new one; the
response echoes it, problem details carry it as `request_id`, and every log line written
while the request runs has it. A task published meanwhile carries it in a message header,
so the worker's log lines for that task (and for the tasks it publishes in turn) have it
too — an operator finds everything an API call caused with one search. Work that no request
started (beat's triggers) is correlated by the id of its first task, `task-<id>`.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from celery import current_task
from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
TASK_HEADER = "wattbit_request_id"
# A client's id is kept only if it is short and plain (it ends up in logs and headers).
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")

_current: ContextVar[str | None] = ContextVar("wattbit_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get(HEADER, "")
        request_id = offered if _WELL_FORMED.match(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (and, inside a task, `task_id` and `task_name`) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        task = current_task
        request = getattr(task, "request", None) if task else None
        record.task_id = getattr(request, "id", None) or "-"
        record.task_name = getattr(task, "name", None) if record.task_id != "-" else "-"
        return True


@before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **_kwargs) -> None:
    request_id = _current.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_tokens: dict[str, object] = {}


@task_prerun.connect
def _bind_request_id(task_id: str | None = None, task=None, **_kwargs) -> None:
    request = getattr(task, "request", None)
    carried = getattr(request, TASK_HEADER, None)
    if getattr(request, "is_eager", False):
        # Run in-process: the caller's id (if any) is already bound.
        carried = carried or _current.get()
    if task_id:
        _tokens[task_id] = _current.set(carried or f"task-{task_id}")


@task_postrun.connect
def _unbind_request_id(task_id: str | None = None, **_kwargs) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (a thread pool's other thread)
            _current.set(None)
