"""VENs and their resources, as a client registers them. A resource named like one of the
organisation's sites (its code) stands for that site."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.openadr.choices import OpenAdrAudit
from aggregator.openadr.models import Ven, VenClient, VenResource
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import Conflict, InvalidInput
from operators.actors import Actor
from operators.models import Site


def ven_create(*, actor: Actor, client: VenClient, data: dict[str, Any]) -> Ven:
    now = timezone.now()
    try:
        with transaction.atomic():
            ven = Ven.objects.create(
                client=client,
                organisation=actor.organisation,
                ven_name=data["venName"],
                attributes=data.get("attributes"),
                created_at=now,
                modified_at=now,
            )
            audit_record(
                code=OpenAdrAudit.VEN_CREATED,
                actor_label=actor.label,
                organisation=actor.organisation,
                obj=ven,
                payload={"ven": ven.ven_name},
            )
    except IntegrityError:
        # 400: the document's POST /vens answers no 409.
        raise InvalidInput.from_errors({"venName": [_("A VEN of that name exists.")]}) from None
    return ven


def ven_update(*, actor: Actor, ven: Ven, data: dict[str, Any]) -> Ven:
    try:
        with transaction.atomic():
            ven.ven_name = data["venName"]
            ven.attributes = data.get("attributes")
            ven.modified_at = timezone.now()
            ven.save()
    except IntegrityError:
        raise Conflict(_("A VEN of that name exists.")) from None
    return ven


@transaction.atomic
def ven_delete(*, actor: Actor, ven: Ven) -> None:
    ven.delete()


def _site(actor: Actor, name: str) -> Site | None:
    return Site.objects.filter(organisation=actor.organisation, code=name).first()


def resource_create(*, actor: Actor, ven: Ven, data: dict[str, Any]) -> VenResource:
    now = timezone.now()
    try:
        with transaction.atomic():
            return VenResource.objects.create(
                ven=ven,
                resource_name=data["resourceName"],
                site=_site(actor, data["resourceName"]),
                attributes=data.get("attributes"),
                created_at=now,
                modified_at=now,
            )
    except IntegrityError:
        raise Conflict(_("The VEN has a resource of that name.")) from None


def resource_update(*, actor: Actor, resource: VenResource, data: dict[str, Any]) -> VenResource:
    try:
        with transaction.atomic():
            resource.resource_name = data["resourceName"]
            resource.site = _site(actor, data["resourceName"])
            resource.attributes = data.get("attributes")
            resource.modified_at = timezone.now()
            resource.save()
    except IntegrityError:
        raise Conflict(_("The VEN has a resource of that name.")) from None
    return resource


@transaction.atomic
def resource_delete(*, actor: Actor, resource: VenResource) -> None:
    resource.delete()
