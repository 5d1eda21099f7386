"""A stand-in for participants' webhook receivers in the demo (DEBUG only).

`make run` registers it as each demo organisation's endpoint, so pushes in the demo are
real HTTP requests that are really verified — and the portal shows them as delivered.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from operators.models import WebhookEndpoint
from operators.selectors import webhook_signing_keys
from operators.webhooks import WEBHOOK_ID_HEADER, verify_standard

logger = logging.getLogger("wattbit.demo.receiver")


@csrf_exempt
@require_POST
def demo_receiver(request, slug: str) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404
    # A participant's receiver knows its own secrets: here, every secret that signs for
    # the organisation's active endpoints (both of them during a rotation's overlap).
    now = datetime.now(UTC)  # the wall clock, as the signer's (not a simulated market clock)
    keys = []
    for endpoint in WebhookEndpoint.objects.filter(organisation__slug=slug, is_active=True):
        try:
            keys += [k.key for k in webhook_signing_keys(endpoint=endpoint, now=now)]
        except (ValueError, InvalidTag):
            continue
    if not verify_standard(keys, request.headers, request.body):
        logger.warning("demo receiver %s: bad signature", slug)
        return HttpResponse("bad signature", status=401)
    logger.info(
        "demo receiver %s: order %s accepted for processing",
        slug,
        request.headers.get(WEBHOOK_ID_HEADER, "?"),
    )
    return HttpResponse("ok")
