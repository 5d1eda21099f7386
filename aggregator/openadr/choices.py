"""Enumerations of the OpenADR façade: the spec's scopes, objects and operations, our codes."""

from enum import StrEnum

from django.db import models


class OadrScope(models.TextChoices):
    """The OAuth2 scopes of the OpenADR 3.1.1 OpenAPI document (securitySchemes)."""

    READ_ALL = "read_all"
    READ_TARGETS = "read_targets"
    READ_VEN_OBJECTS = "read_ven_objects"
    WRITE_REPORTS = "write_reports"
    WRITE_SUBSCRIPTIONS = "write_subscriptions"
    WRITE_VENS = "write_vens"
    WRITE_PROGRAMS = "write_programs"
    WRITE_EVENTS = "write_events"


# What a VEN client of a participant may ask for. Programs and events are the exchange's
# own (the clearing writes them), so write_programs and write_events are never granted.
PARTICIPANT_SCOPES = (
    OadrScope.READ_ALL,
    OadrScope.READ_TARGETS,
    OadrScope.READ_VEN_OBJECTS,
    OadrScope.WRITE_REPORTS,
    OadrScope.WRITE_SUBSCRIPTIONS,
    OadrScope.WRITE_VENS,
)
# A read-only client (and every regulator's): it reads, and writes nothing in the market.
READ_ONLY_SCOPES = (OadrScope.READ_ALL, OadrScope.READ_TARGETS, OadrScope.READ_VEN_OBJECTS)


class ObjectType(models.TextChoices):
    PROGRAM = "PROGRAM"
    EVENT = "EVENT"
    REPORT = "REPORT"
    SUBSCRIPTION = "SUBSCRIPTION"
    VEN = "VEN"
    RESOURCE = "RESOURCE"


class Operation(models.TextChoices):
    READ = "READ"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


# OpenADR 3.0 named a subscription's operations by HTTP verb; 3.1 names them CRUD (spec
# issue 209). openadr3-client 2.4 still sends the verbs for 3.1, so the VTN accepts both,
# stores what the client sent (and so answers in its own words) and matches on CRUD.
HTTP_VERB_OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}


def crud(operation: str) -> str:
    return HTTP_VERB_OPERATIONS.get(operation, operation)


class NotificationState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    EXPIRED = "expired"


# Report payload types: OpenADR leaves room for private strings. An acknowledgement of a
# dispatch order is one value, ACCEPT or REJECT (a second value is the reason).
ACK_PAYLOAD = "X_WATTBIT_ORDER_ACK"
ACK_ACCEPT = "ACCEPT"
ACK_REJECT = "REJECT"


# Meter data in a report (settlement.services.meter): the spec's USAGE in KWH for a site's
# energy (hosting orders) or an offer's delivery (delivery orders), and a private type for
# CU delivered to one workload (resourceName: the workload's id, wl-7).
USAGE_PAYLOAD = "USAGE"
CU_PAYLOAD = "X_WATTBIT_CU_DELIVERED"


class OpenAdrAudit(StrEnum):
    """Audit event codes of the OpenADR façade (stored and hashed: values never change)."""

    CLIENT_CREATED = "openadr.client.created"
    CLIENT_REVOKED = "openadr.client.revoked"
    SUBSCRIPTION_CREATED = "openadr.subscription.created"
    SUBSCRIPTION_UPDATED = "openadr.subscription.updated"
    SUBSCRIPTION_DELETED = "openadr.subscription.deleted"
    VEN_CREATED = "openadr.ven.created"
    REPORT_CREATED = "openadr.report.created"
