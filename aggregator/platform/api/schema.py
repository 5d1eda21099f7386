"""The OpenAPI document tells the truth about errors: every operation documents the problem
responses it can give (RFC 9457, application/problem+json), not only its success."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from aggregator.platform.api.problems import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {
            "type": "string",
            "description": "The X-Request-ID of this request: quote it when reporting a problem.",
        },
        "errors": {
            "type": "object",
            "description": "Messages per field (a list of strings), or for bulk requests "
            "per item (a list of {index, errors}).",
            "additionalProperties": True,
        },
    },
}

ANY_REQUEST = {
    400: "Invalid input or query: `errors` names each field.",
    401: "No or an invalid API key.",
    403: "Your organisation's roles or your key's scopes do not allow this.",
    404: "No such object (or it belongs to another organisation).",
    413: "The request body is too large.",
    429: "Too many requests: see Retry-After.",
}
WRITES = {
    409: "The object's state does not allow this now (e.g. past gate closure).",
    422: "This Idempotency-Key was used before with a different request.",
}


class ProblemAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if getattr(self.view, "documents_webhook_receiver", False):
            return responses  # a participant's receiver answers, not the API
        component = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        self.registry.register_on_missing(component)
        errors = dict(ANY_REQUEST)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors.update(WRITES)
        for code, description in sorted(errors.items()):
            responses.setdefault(
                str(code),
                {"description": description,
                 "content": {PROBLEM_CONTENT_TYPE: {"schema": component.ref}}},
            )  # fmt: skip
        return responses
