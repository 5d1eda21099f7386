"""The request id: on every response, in problem details, in log lines, carried into tasks."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re

import pytest
from celery import shared_task
from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from aggregator.platform.request_id import (
    HEADER,
    RequestIdMiddleware,
    current_request_id,
)

logger = logging.getLogger("tests.request_id")


@pytest.fixture
def json_log():
    """A handler with the formatter and filter settings give LOG_FORMAT=json, on a buffer."""
    configurator = logging.config.DictConfigurator(settings.LOGGING)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(
        configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"]))
    )
    handler.addFilter(
        configurator.configure_filter(dict(settings.LOGGING["filters"]["request_id"]))
    )
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.django_db
def test_every_response_has_an_id_and_a_problem_names_it():
    response = Client().get("/api/v1/no-such-thing/")
    request_id = response[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["request_id"] == request_id
    # Another request, another id.
    assert Client().get("/healthz")[HEADER] != request_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("lb-7f3a9c:req-0001", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("has space", False),
        ("new\nline", False),
        ("", False),
    ],
)
def test_a_clients_id_is_kept_only_if_well_formed(offered, kept):
    response = Client().get("/api/v1/sites/", headers={HEADER: offered})
    assert response.status_code == 401
    assert (response[HEADER] == offered) is kept
    assert response.json()["request_id"] == response[HEADER]


@shared_task(name="tests.request_id.log_something")
def log_something() -> str | None:
    logger.info("inside the task")
    return current_request_id()


def test_log_lines_of_a_request_and_of_its_tasks_carry_its_id(json_log, rf):
    def view(request):
        logger.info("inside the view")
        # In-process here; tests/e2e carries the id to a real worker in a message header.
        carried = log_something.apply().get()
        return HttpResponse(carried)

    request = rf.get("/anything", headers={HEADER: "req-42"})
    response = RequestIdMiddleware(view)(request)
    assert response.content == b"req-42" and response[HEADER] == "req-42"
    lines = {line["message"]: line for line in json_log()}
    assert lines["inside the view"]["request_id"] == "req-42"
    assert lines["inside the view"]["task_id"] == "-"
    assert lines["inside the task"]["request_id"] == "req-42"
    assert lines["inside the task"]["task_name"] == "tests.request_id.log_something"
    assert {"time", "level", "logger"} <= set(lines["inside the view"])
    # Outside any request the id is unset again.
    assert current_request_id() is None
