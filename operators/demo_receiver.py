"""A stand-in for participants' webhook receivers in the demo (DEBUG only).

`make run` registers it as each demo organisation's endpoint, so pushes in the demo are
real HTTP requests that are really verified — and the portal shows them as delivered.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from operators.crypto import decrypt_secret
from operators.models import WebhookEndpoint
from operators.webhooks import SIGNATURE_HEADER, verify_signature

logger = logging.getLogger("wattbit.demo.receiver")


@csrf_exempt
@require_POST
def demo_receiver(request, slug: str) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404
    header = request.headers.get(SIGNATURE_HEADER, "")
    secrets = [
        decrypt_secret(e.secret_encrypted)
        for e in WebhookEndpoint.objects.filter(organisation__slug=slug, is_active=True)
    ]
    if not any(verify_signature(secret, header, request.body) for secret in secrets):
        logger.warning("demo receiver %s: bad signature", slug)
        return HttpResponse("bad signature", status=401)
    logger.info(
        "demo receiver %s: order %s accepted for processing",
        slug,
        request.headers.get("Idempotency-Key", "?"),
    )
    return HttpResponse("ok")
