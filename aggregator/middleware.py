"""Request-level policies that are not a single view's business."""

from django.utils import translation


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
