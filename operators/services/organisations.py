"""Onboarding organisations and managing their members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from aggregator.platform.access import Scope
from aggregator.platform.errors import Forbidden, InvalidInput, NotFound
from operators.actors import Actor
from operators.choices import MemberRole, OperatorsAudit, OrganisationRole
from operators.models import (
    Membership,
    Organisation,
)
from operators.services.common import record_change, require_scope
from operators.validators import invoice_number_problem

# --- Organisations -----------------------------------------------------------------------


def _clean_organisation(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "roles" in data:
        roles = data["roles"]
        valid = set(OrganisationRole.values)
        if not isinstance(roles, list) or not roles:
            errors.setdefault("roles", []).append(_("Give at least one role."))
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
            errors.setdefault("contact_email", []).append(_("Enter a valid e-mail address."))
    for field in ("legal_name_ja", "legal_name_en"):
        if field in data and not str(data[field]).strip():
            errors.setdefault(field, []).append(_("This field may not be blank."))


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
        raise Forbidden(_("Only the market operator onboards participants."))
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
    record_change(actor, OperatorsAudit.ORGANISATION_CREATED, org, {"new": _org_snapshot(org)}, org)
    return org


def _org_snapshot(org: Organisation) -> dict[str, Any]:
    return {f: getattr(org, f) for f in ("slug", "roles", *ORGANISATION_EDITABLE)}


@transaction.atomic
def organisation_update(
    *, actor: Actor, organisation: Organisation, **changes: Any
) -> Organisation:
    require_scope(actor, Scope.ADMIN)
    if organisation.pk != actor.organisation.pk:
        raise NotFound(_("No such organisation."))
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
    record_change(
        actor,
        OperatorsAudit.ORGANISATION_UPDATED,
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
        require_scope(actor, Scope.ADMIN)
        if organisation.pk != actor.organisation.pk and not actor.organisation.is_market_operator:
            raise NotFound(_("No such organisation."))
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
    record_change(
        actor,
        OperatorsAudit.MEMBER_ADDED,
        membership,
        {"new": {"username": username, "role": role}},
        organisation,
    )
    return membership


def _locked_for_admin_change(membership: Membership) -> Membership:
    """The membership as it is now, with its organisation's row locked until commit.

    Checking "is another admin left?" and then acting is a check-then-act on the
    organisation's admins: two admins demoting each other at once could both see the other
    and leave none. Every admin change locks the organisation row first (one fixed order:
    organisation, then membership), so the second waits and counts after the first commits.
    """
    Organisation.objects.select_for_update().filter(pk=membership.organisation_id).first()
    return Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)


def _keep_one_admin(membership: Membership) -> None:
    """Refuse to demote or remove an organisation's last active admin (call it locked)."""
    if membership.role != MemberRole.ADMIN:
        return
    admins = Membership.objects.filter(
        organisation=membership.organisation_id, role=MemberRole.ADMIN, user__is_active=True
    ).count()
    if admins <= 1:
        raise InvalidInput.from_errors({"role": [_("An organisation keeps at least one admin.")]})


@transaction.atomic
def member_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    require_scope(actor, Scope.ADMIN)
    if membership.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such member."))
    if role not in MemberRole.values:
        raise InvalidInput.from_errors(
            {"role": [_("Choose one of: %(roles)s.") % {"roles": ", ".join(MemberRole.values)}]}
        )
    locked = _locked_for_admin_change(membership)
    if role != MemberRole.ADMIN:
        _keep_one_admin(locked)
    old = locked.role
    membership.role = role
    membership.save(update_fields=["role"])
    record_change(actor, OperatorsAudit.MEMBER_ROLE_CHANGED, membership, {"old": old, "new": role})
    return membership


@transaction.atomic
def member_deactivate(*, actor: Actor, membership: Membership) -> Membership:
    """Remove a member's access; the user row stays so audit references keep their meaning."""
    require_scope(actor, Scope.ADMIN)
    if membership.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such member."))
    locked = _locked_for_admin_change(membership)
    _keep_one_admin(locked)
    user = membership.user
    if locked.user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        record_change(
            actor, OperatorsAudit.MEMBER_DEACTIVATED, membership, {"username": user.username}
        )
    return membership
