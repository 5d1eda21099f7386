"""Request-level policies that are not a single view's business."""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class ApiLanguageMiddleware:
    """API clients get English unless they ask for another language.

    The portal defaults to Japanese (its users are Japanese utilities and operators), but a
    machine client that sends no Accept-Language should get the API's reference language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" not in request.META:
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)


def _api(request) -> bool:
    return request.path.startswith("/api/")


class RequestBodyLimitMiddleware:
    """A body over settings.MAX_REQUEST_BODY_BYTES is refused with 413 before anything reads it.

    DRF's parsers ignore DATA_UPLOAD_MAX_MEMORY_SIZE, so a 20 MB JSON body used to be read
    and parsed in full (a 25 MB bulk held a server thread for 4 minutes). Django reads at
    most CONTENT_LENGTH bytes of a body, so the header decides; it runs first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > limit:
            status = 413 if length > limit else 400
            detail = (
                _("The request body is larger than %(mb)s MB; split it into smaller requests.")
                % {"mb": f"{limit / 1_048_576:g}"}
                if status == 413
                else _("The Content-Length header is not a number of bytes.")
            )
            return problem_response(request, status, "too-large" if status == 413 else "malformed",
                                    _("Request too large") if status == 413 else _("Malformed request"),
                                    detail)  # fmt: skip
        return self.get_response(request)


class ApiErrorMiddleware:
    """Every API error is problem+json — an unexpected exception too, in debug as well.

    The details go to the log, never to the client (the handler500 of aggregator/urls.py
    does the same when DEBUG is off; in debug Django would answer with its HTML page).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not _api(request):
            return None
        logger.exception("unexpected error in %s %s", request.method, request.path)
        return problem_response(
            request, 500, "server-error", _("Server error"),
            _("Something went wrong on our side; nothing was changed. Please try again later."),
        )  # fmt: skip


def problem_response(request, status: int, kind: str, title: str, detail: str) -> JsonResponse:
    from aggregator.platform.api.problems import PROBLEM_CONTENT_TYPE, problem

    body = problem(status_code=status, kind=kind, title=str(title), detail=str(detail),
                   instance=request.path)  # fmt: skip
    if _api(request):
        return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    return HttpResponse(
        f"{title}: {detail}", status=status, content_type="text/plain; charset=utf-8"
    )
