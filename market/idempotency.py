"""`Idempotency-Key` on POST: the first successful response is stored and replayed on retries.

Rules (Stripe's, see OPERATIONS_NOTES): keys are per organisation, at most 255 characters,
kept 24 hours; the same key with a different body is an error (422); a request that fails
(validation or otherwise) is not stored, so it can be corrected and retried with the key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from aggregator.platform.access import request_actor
from aggregator.platform.canonical import canonical_json
from aggregator.platform.errors import DomainError, InvalidInput
from market.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEEP_FOR = timedelta(hours=24)


class KeyReused(DomainError):
    status = 422
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


def _fingerprint(request) -> str:
    # DRF's encoder first: form and multipart bodies (QueryDicts, uploaded file parts) become
    # plain JSON values as they always did, so stored fingerprints keep matching.
    plain = json.loads(json.dumps(request.data, cls=JSONEncoder))
    body = canonical_json(plain, ascii_only=True)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(stored: IdempotencyKey) -> Response:
    return Response(
        stored.response_body, status=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


def _find(organisation, key: str, fingerprint: str) -> Response | None:
    stored = IdempotencyKey.objects.filter(organisation=organisation, key=key).first()
    if stored is None:
        return None
    if stored.created_at < timezone.now() - KEEP_FOR:
        stored.delete()  # expired: the key is free again
        return None
    if stored.request_sha256 != fingerprint:
        raise KeyReused(
            _(
                "This Idempotency-Key was used for a different request in the last 24 hours; "
                "use a new key for a new request."
            )
        )
    return _replay(stored)


def idempotent(view_method):
    """Decorate a DRF view method that handles POST; works once per (organisation, key)."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        actor = request_actor(request)
        if key is None or actor is None:
            return view_method(self, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise InvalidInput.from_errors(
                {
                    HEADER: [
                        _("Give a key of 1 to %(n)d printable characters.") % {"n": MAX_KEY_LENGTH}
                    ]
                }
            )
        fingerprint = _fingerprint(request)
        replay = _find(actor.organisation, key, fingerprint)
        if replay is not None:
            return replay
        try:
            # The work and the stored response commit together: a concurrent duplicate
            # loses on the unique key, its work rolls back, and it replays the winner's.
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    body = json.loads(json.dumps(response.data, cls=JSONEncoder))
                    IdempotencyKey.objects.create(
                        organisation=actor.organisation,
                        key=key,
                        method=request.method,
                        path=request.path[:500],
                        request_sha256=fingerprint,
                        status_code=response.status_code,
                        response_body=body,
                    )
        except IntegrityError:
            replay = _find(actor.organisation, key, fingerprint)
            if replay is None:
                raise
            return replay
        return response

    return wrapper


def idempotency_purge(*, now=None) -> int:
    """Delete keys older than 24 h; returns how many (for a periodic task)."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
