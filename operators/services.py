"""Writes for participants: the only place that changes organisations, members, keys, sites, webhooks.

Every function is atomic and records an audit event in the same transaction; bad input
raises InvalidInput before anything is written.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.audit import audit_record
from aggregator.errors import Forbidden, InvalidInput, NotFound
from operators.actors import Actor
from operators.choices import (
    PREFECTURES,
    Accelerator,
    MemberRole,
    OrganisationRole,
    ResidencyTag,
    Scope,
)
from operators.crypto import (
    api_key_matches,
    encrypt_secret,
    hash_api_key,
    new_api_key,
    new_webhook_secret,
    split_api_key,
)
from operators.models import (
    ApiKey,
    DemandZone,
    GridArea,
    Membership,
    Organisation,
    Site,
    WebhookEndpoint,
)
from operators.validators import invoice_number_problem, webhook_url_problem

LAST_USED_RESOLUTION = timedelta(minutes=1)


def _require(actor: Actor, scope: str) -> None:
    if not actor.can(scope):
        raise Forbidden(_("This action needs the '%(scope)s' permission.") % {"scope": scope})


def _audit(actor: Actor | None, code: str, obj: Any, payload: dict, organisation=None) -> None:
    audit_record(
        code=code,
        actor_label=actor.label if actor else "system",
        actor_user=actor.user if actor else None,
        organisation=organisation or (actor.organisation if actor else None),
        obj=obj,
        payload=payload,
    )


# --- Organisations -----------------------------------------------------------------------


def _clean_organisation(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "roles" in data:
        roles = data["roles"]
        valid = set(OrganisationRole.values)
        if not isinstance(roles, list) or not roles:
            errors.setdefault("roles", []).append("Give at least one role.")
        elif unknown := sorted(set(map(str, roles)) - valid):
            errors.setdefault("roles", []).append(
                _("Unknown role(s): %(roles)s. Choose from %(valid)s.")
                % {"roles": ", ".join(unknown), "valid": ", ".join(sorted(valid))}
            )
        else:
            data["roles"] = sorted(set(roles))
    number = data.get("invoice_registration_number")
    if number and (problem := invoice_number_problem(number)):
        errors.setdefault("invoice_registration_number", []).append(problem)
    email = data.get("contact_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.setdefault("contact_email", []).append("Enter a valid e-mail address.")
    for field in ("legal_name_ja", "legal_name_en"):
        if field in data and not str(data[field]).strip():
            errors.setdefault(field, []).append("This field may not be blank.")


ORGANISATION_EDITABLE = (
    "legal_name_ja",
    "legal_name_en",
    "invoice_registration_number",
    "contact_email",
    "contact_phone",
)


@transaction.atomic
def organisation_create(
    *,
    actor: Actor | None,
    slug: str,
    legal_name_ja: str,
    legal_name_en: str,
    roles: list[str],
    invoice_registration_number: str = "",
    contact_email: str = "",
    contact_phone: str = "",
) -> Organisation:
    """Onboard a participant (market operator or the demo loader)."""
    if actor is not None and not actor.organisation.is_market_operator:
        raise Forbidden("Only the market operator onboards participants.")
    data = {
        "legal_name_ja": legal_name_ja,
        "legal_name_en": legal_name_en,
        "roles": roles,
        "invoice_registration_number": invoice_registration_number,
        "contact_email": contact_email,
    }
    errors: dict[str, list[str]] = {}
    _clean_organisation(data, errors)
    if Organisation.objects.filter(slug=slug).exists():
        errors.setdefault("slug", []).append(
            _("An organisation '%(slug)s' already exists.") % {"slug": slug}
        )
    if errors:
        raise InvalidInput.from_errors(errors)
    org = Organisation.objects.create(slug=slug, contact_phone=contact_phone, **data)
    _audit(actor, "operators.organisation.created", org, {"new": _org_snapshot(org)}, org)
    return org


def _org_snapshot(org: Organisation) -> dict[str, Any]:
    return {f: getattr(org, f) for f in ("slug", "roles", *ORGANISATION_EDITABLE)}


@transaction.atomic
def organisation_update(
    *, actor: Actor, organisation: Organisation, **changes: Any
) -> Organisation:
    _require(actor, Scope.ADMIN)
    if organisation.pk != actor.organisation.pk:
        raise NotFound("No such organisation.")
    unknown = set(changes) - set(ORGANISATION_EDITABLE)
    if unknown:
        raise InvalidInput.from_errors({f: [_("This field cannot be changed.")] for f in unknown})
    errors: dict[str, list[str]] = {}
    _clean_organisation(changes, errors)
    if errors:
        raise InvalidInput.from_errors(errors)
    before = _org_snapshot(organisation)
    for field, value in changes.items():
        setattr(organisation, field, value)
    organisation.save()
    _audit(
        actor,
        "operators.organisation.updated",
        organisation,
        {"old": before, "new": _org_snapshot(organisation)},
    )
    return organisation


# --- Members -----------------------------------------------------------------------------


@transaction.atomic
def member_add(
    *,
    actor: Actor | None,
    organisation: Organisation,
    username: str,
    email: str,
    role: str,
    password: str,
) -> Membership:
    if actor is not None:
        _require(actor, Scope.ADMIN)
        if organisation.pk != actor.organisation.pk and not actor.organisation.is_market_operator:
            raise NotFound("No such organisation.")
    user_model = get_user_model()
    errors: dict[str, list[str]] = {}
    if role not in MemberRole.values:
        errors["role"] = [_("Choose one of: %(roles)s.") % {"roles": ", ".join(MemberRole.values)}]
    if not username or user_model.objects.filter(username=username).exists():
        errors["username"] = [_("This user name is taken.") if username else _("Required.")]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid e-mail address.")]
    try:
        validate_password(password, user_model(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput.from_errors(errors)
    user = user_model.objects.create_user(username=username, email=email, password=password)
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    _audit(
        actor,
        "operators.member.added",
        membership,
        {"new": {"username": username, "role": role}},
        organisation,
    )
    return membership


@transaction.atomic
def member_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    _require(actor, Scope.ADMIN)
    if membership.organisation_id != actor.organisation.pk:
        raise NotFound("No such member.")
    if role not in MemberRole.values:
        raise InvalidInput.from_errors(
            {"role": [_("Choose one of: %(roles)s.") % {"roles": ", ".join(MemberRole.values)}]}
        )
    if membership.role == MemberRole.ADMIN and role != MemberRole.ADMIN:
        admins = Membership.objects.filter(
            organisation=membership.organisation, role=MemberRole.ADMIN, user__is_active=True
        ).count()
        if admins <= 1:
            raise InvalidInput.from_errors(
                {"role": [_("An organisation keeps at least one admin.")]}
            )
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _audit(actor, "operators.member.role_changed", membership, {"old": old, "new": role})
    return membership


# --- API keys ----------------------------------------------------------------------------


@transaction.atomic
def api_key_create(*, actor: Actor, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    _require(actor, Scope.ADMIN)
    errors: dict[str, list[str]] = {}
    if not name or not name.strip():
        errors["name"] = [_("Give the key a name so you can recognise it later.")]
    if not scopes:
        errors["scopes"] = [_("Give at least one scope.")]
    elif unknown := sorted(set(scopes) - set(Scope.values)):
        errors["scopes"] = [_("Unknown scope(s): %(scopes)s.") % {"scopes": ", ".join(unknown)}]
    if errors:
        raise InvalidInput.from_errors(errors)
    prefix, key = new_api_key()
    api_key = ApiKey.objects.create(
        organisation=actor.organisation,
        name=name.strip(),
        prefix=prefix,
        secret_sha256=hash_api_key(key),
        scopes=sorted(set(scopes)),
        created_by=actor.user,
    )
    _audit(
        actor,
        "operators.api_key.created",
        api_key,
        {"new": {"prefix": prefix, "name": api_key.name, "scopes": api_key.scopes}},
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    _require(actor, Scope.ADMIN)
    if api_key.organisation_id != actor.organisation.pk:
        raise NotFound("No such API key.")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        _audit(actor, "operators.api_key.revoked", api_key, {"prefix": api_key.prefix})
    return api_key


def api_key_authenticate(key: str) -> ApiKey | None:
    """The active key matching `key`, or None. Records last use at most once a minute."""
    parts = split_api_key(key)
    if parts is None:
        return None
    prefix = parts[0]
    api_key = (
        ApiKey.objects.select_related("organisation")
        .filter(prefix=prefix, revoked_at__isnull=True, organisation__is_active=True)
        .first()
    )
    if api_key is None or not api_key_matches(key, api_key.secret_sha256):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- Sites -------------------------------------------------------------------------------

SITE_FIELDS = (
    "code",
    "name",
    "area",
    "prefecture",
    "accelerator",
    "capacity_cu",
    "cu_description",
    "kw_per_cu",
    "pue",
    "residency_tags",
    "latency_ms",
    "grid_connection_cap_kw",
    "is_active",
)


def _decimal(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _clean_site(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    clean: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, value in data.items():
        if field not in SITE_FIELDS:
            err(field, _("Unknown field."))
        elif field in ("code", "name") and not str(value or "").strip():
            err(field, _("This field may not be blank."))
        elif field == "area":
            area = (
                value if isinstance(value, GridArea) else GridArea.objects.filter(pk=value).first()
            )
            if area is None:
                err(field, _("Unknown grid area '%(area)s'.") % {"area": value})
            clean[field] = area
            continue
        elif field == "prefecture" and value not in PREFECTURES:
            err(
                field,
                _("Unknown prefecture '%(value)s'; use the romanised name, e.g. 'chiba'.")
                % {"value": value},
            )
        elif field == "accelerator" and value not in Accelerator.values:
            err(field, _("Unknown accelerator class '%(value)s'.") % {"value": value})
        elif field == "capacity_cu" and (not isinstance(value, int) or value < 1):
            err(field, _("Capacity must be a whole number of compute units, at least 1."))
        elif field == "kw_per_cu":
            number = _decimal(value)
            if number is None or number <= 0:
                err(field, _("kW per compute unit must be greater than 0."))
            elif number > 100:
                err(field, _("kW per compute unit above 100 is not plausible; check the unit."))
            clean[field] = number
            continue
        elif field == "pue":
            number = _decimal(value)
            if number is None or number < 1:
                err(field, _("PUE must be at least 1.0 (facility energy ≥ IT energy)."))
            elif number > 3:
                err(field, _("PUE above 3.0 is not plausible; check the value."))
            clean[field] = number
            continue
        elif field == "grid_connection_cap_kw" and value is not None:
            number = _decimal(value)
            if number is None or number <= 0:
                err(field, _("The grid-connection cap must be greater than 0 kW, or empty."))
            clean[field] = number
            continue
        elif field == "residency_tags":
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                err(field, _("Give a list of tags."))
            elif unknown := sorted(set(value) - set(ResidencyTag.values)):
                err(field, _("Unknown residency tag(s): %(tags)s.") % {"tags": ", ".join(unknown)})
            else:
                value = sorted(set(value))
        elif field == "latency_ms":
            value = _clean_latency(value, err)
        clean[field] = value
    return clean


def _clean_latency(value: Any, err) -> dict[str, int]:
    if not isinstance(value, dict):
        err("latency_ms", _("Give latencies as {zone: milliseconds}."))
        return {}
    known = set(DemandZone.objects.values_list("code", flat=True))
    clean: dict[str, int] = {}
    for zone, ms in sorted(value.items()):
        if zone not in known:
            err(
                "latency_ms",
                _("Unknown demand zone '%(zone)s'. Known: %(known)s.")
                % {"zone": zone, "known": ", ".join(sorted(known))},
            )
        elif isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= 1000:
            err(
                "latency_ms",
                _("Latency to '%(zone)s' must be a number of milliseconds, 0–1000.")
                % {"zone": zone},
            )
        else:
            clean[zone] = round(ms)
    return clean


def _site_snapshot(site: Site) -> dict[str, Any]:
    snap = {f: getattr(site, f) for f in SITE_FIELDS if f != "area"}
    snap["area"] = site.area_id
    return snap


def _require_provider(actor: Actor) -> None:
    _require(actor, Scope.TRADE)
    if not actor.organisation.has_role(OrganisationRole.COMPUTE_PROVIDER):
        raise Forbidden("Only compute providers register sites.")


@transaction.atomic
def site_register(*, actor: Actor, **fields: Any) -> Site:
    _require_provider(actor)
    errors: dict[str, list[str]] = {}
    required = (
        "code",
        "name",
        "area",
        "prefecture",
        "accelerator",
        "capacity_cu",
        "kw_per_cu",
        "pue",
    )
    for field in required:
        if fields.get(field) in (None, ""):
            errors.setdefault(field, []).append("This field is required.")
    clean = _clean_site({k: v for k, v in fields.items() if v is not None}, errors)
    if fields.get("code") and Site.objects.filter(code=fields["code"]).exists():
        errors.setdefault("code", []).append(
            _("A site with code '%(code)s' already exists.") % {"code": fields["code"]}
        )
    if errors:
        raise InvalidInput.from_errors(errors)
    site = Site.objects.create(organisation=actor.organisation, **clean)
    _audit(actor, "operators.site.created", site, {"new": _site_snapshot(site)})
    return site


@transaction.atomic
def site_update(*, actor: Actor, site: Site, **changes: Any) -> Site:
    _require_provider(actor)
    if site.organisation_id != actor.organisation.pk:
        raise NotFound("No such site.")
    errors: dict[str, list[str]] = {}
    if "code" in changes and changes["code"] != site.code:
        errors["code"] = [_("A site's code cannot change: bids and results refer to it.")]
    clean = _clean_site(changes, errors)
    if errors:
        raise InvalidInput.from_errors(errors)
    site = Site.objects.select_for_update().get(pk=site.pk)
    before = _site_snapshot(site)
    for field, value in clean.items():
        setattr(site, field, value)
    site.save()
    _audit(actor, "operators.site.updated", site, {"old": before, "new": _site_snapshot(site)})
    return site


# --- Webhook endpoints -------------------------------------------------------------------


def _check_webhook_url(url: str) -> None:
    problem = webhook_url_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    if problem:
        raise InvalidInput.from_errors({"url": [problem]})


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Actor, url: str, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register a push target; the signing secret is returned once."""
    _require(actor, Scope.ADMIN)
    _check_webhook_url(url)
    secret = new_webhook_secret()
    endpoint = WebhookEndpoint.objects.create(
        organisation=actor.organisation,
        url=url,
        description=description,
        secret_encrypted=encrypt_secret(secret),
        secret_prefix=secret[:12],
    )
    _audit(actor, "operators.webhook.created", endpoint, {"new": {"url": url}})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *, actor: Actor, endpoint: WebhookEndpoint, **changes: Any
) -> WebhookEndpoint:
    _require(actor, Scope.ADMIN)
    if endpoint.organisation_id != actor.organisation.pk:
        raise NotFound("No such webhook endpoint.")
    unknown = set(changes) - {"url", "description", "is_active"}
    if unknown:
        raise InvalidInput.from_errors({f: [_("This field cannot be changed.")] for f in unknown})
    if "url" in changes:
        _check_webhook_url(changes["url"])
    before = {
        "url": endpoint.url,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.save()
    _audit(
        actor,
        "operators.webhook.updated",
        endpoint,
        {"old": before, "new": {k: getattr(endpoint, k) for k in before}},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint) -> str:
    _require(actor, Scope.ADMIN)
    if endpoint.organisation_id != actor.organisation.pk:
        raise NotFound("No such webhook endpoint.")
    secret = new_webhook_secret()
    endpoint.secret_encrypted = encrypt_secret(secret)
    endpoint.secret_prefix = secret[:12]
    endpoint.save(update_fields=["secret_encrypted", "secret_prefix"])
    _audit(actor, "operators.webhook.secret_rotated", endpoint, {"prefix": endpoint.secret_prefix})
    return secret
