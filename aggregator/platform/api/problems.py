"""Every API error as RFC 9457 problem details: a clear message, nothing internal leaked."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from aggregator.platform.errors import DomainError
from aggregator.platform.request_id import current_request_id

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://wattbit.jp/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(
    *,
    status_code: int,
    kind: str,
    title: str,
    detail: str,
    instance: str = "",
    errors: dict | list | None = None,
) -> dict:
    body = {
        "type": PROBLEM_BASE + kind,
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    # The id under which the logs hold what happened (also the X-Request-ID header).
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return body


def _flatten(detail) -> dict | list | str:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


_DRF_KINDS = {
    exceptions.ValidationError: ("validation", "Invalid input"),
    exceptions.ParseError: ("malformed", "Malformed request"),
    exceptions.AuthenticationFailed: ("unauthenticated", "Authentication failed"),
    exceptions.NotAuthenticated: ("unauthenticated", "Authentication required"),
    exceptions.PermissionDenied: ("forbidden", "Not allowed"),
    exceptions.NotFound: ("not-found", "Not found"),
    exceptions.MethodNotAllowed: ("method-not-allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not-acceptable", "Not acceptable"),
    exceptions.UnsupportedMediaType: ("unsupported-media-type", "Unsupported media type"),
    exceptions.Throttled: ("throttled", "Too many requests"),
}


def _response(body: dict, headers: dict | None = None) -> Response:
    response = Response(body, status=body["status"], headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, DomainError):
        return _response(
            problem(
                status_code=exc.status,
                kind=exc.problem,
                title=exc.title,
                detail=exc.detail,
                instance=instance,
                errors=exc.errors,
            )
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's 500 handler answers without details
    kind, title = next(
        ((k, t) for cls, (k, t) in _DRF_KINDS.items() if isinstance(exc, cls)),
        ("error", "Error"),
    )
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if isinstance(errors, dict):
            fields = ", ".join(sorted(errors))
            detail = f"Please correct: {fields}."
        else:
            detail = "; ".join(map(str, errors)) if isinstance(errors, list) else str(errors)
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
    else:
        errors = None
        detail = str(exc.detail) if hasattr(exc, "detail") else title
    headers = {
        k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")
    }
    return _response(
        problem(
            status_code=response.status_code,
            kind=kind,
            title=title,
            detail=detail,
            instance=instance,
            errors=errors,
        ),
        headers,
    )


def api_not_found(request, exception=None) -> JsonResponse:
    body = problem(
        status_code=404,
        kind="not-found",
        title=_("Not found"),
        detail=_("There is nothing at this address."),
        instance=request.path,
    )
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def api_server_error(request) -> JsonResponse:
    body = problem(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        kind="server-error",
        title=_("Server error"),
        detail=_("Something went wrong on our side; it has been logged. Please retry later."),
        instance=request.path,
    )
    return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
