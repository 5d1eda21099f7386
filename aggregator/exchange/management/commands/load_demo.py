"""Load the demo market: participants, logins, API keys and sites. Safe to run again."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from aggregator.exchange.demo import participants as demo
from aggregator.exchange.demo.market import load_market_demo
from aggregator.platform.access import Scope
from operators import services
from operators.actors import Actor
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole, OrganisationRole
from operators.models import Membership, Organisation, Site, WebhookEndpoint

DEMO_HEAD_START = timedelta(minutes=90)

TRADING_ROLES = {
    OrganisationRole.COMPUTE_PROVIDER,
    OrganisationRole.WORKLOAD_OWNER,
    OrganisationRole.POWER_SUPPLIER,
}


class Command(BaseCommand):
    help = "Create the demo participants, logins, API keys and sites (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--webhook-base",
            help="register demo webhook endpoints at BASE/demo/receiver/<org>/ (e.g. the "
            "URL `make run` serves on), so dispatch pushes in the demo are real",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load demo data even with DEBUG off (never on a real exchange).",
        )

    def handle(
        self, *args, allow_production: bool = False, webhook_base: str | None = None, **options
    ):
        if not settings.DEBUG and not allow_production:
            raise CommandError("load_demo refuses to run with DEBUG off; pass --allow-production.")
        keys_file = settings.VAR_DIR / "demo-api-keys.txt"
        known_keys = _read_keys(keys_file)
        with transaction.atomic():
            created = self._load_participants()
            keys = self._ensure_keys(known_keys)
            created += self._load_sites()
            if webhook_base:
                self._point_webhooks(webhook_base.rstrip("/"))
            # Bids as if submitted 90 minutes ago: the first intervals are then already
            # past gate closure, so the in-process beat clears them within seconds of
            # `make run` instead of after the first real gate closure.
            load_market_demo(self.stdout, now=timezone.now() - DEMO_HEAD_START)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        keys_file.write_text("".join(f"{slug} {key}\n" for slug, key in sorted(keys.items())))
        keys_file.chmod(0o600)
        self.stdout.write(f"demo data: {created} object(s) created (0 means it was already loaded)")
        self.stdout.write(f"demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for slug, _ja, _en, roles, _inv, username in demo.ORGANISATIONS:
            self.stdout.write(f"  {username:<16} {slug:<20} {', '.join(roles)}")
        self.stdout.write("demo API keys (header  Authorization: Api-Key <key>):")
        for slug, key in sorted(keys.items()):
            self.stdout.write(f"  {slug:<20} {key}")

    def _load_participants(self) -> int:
        created = 0
        user_model = get_user_model()
        for slug, ja, en, roles, invoice, username in demo.ORGANISATIONS:
            org = Organisation.objects.filter(slug=slug).first()
            if org is None:
                org = services.organisation_create(
                    actor=None,
                    slug=slug,
                    legal_name_ja=ja,
                    legal_name_en=en,
                    roles=roles,
                    invoice_registration_number=invoice,
                    contact_email=f"market-desk@{slug}.example.jp",
                )
                created += 1
            if not user_model.objects.filter(username=username).exists():
                membership = services.member_add(
                    actor=None,
                    organisation=org,
                    username=username,
                    email=f"{username}@{slug}.example.jp",
                    role=MemberRole.ADMIN,
                    password=demo.DEMO_PASSWORD,
                )
                if OrganisationRole.MARKET_OPERATOR in roles:
                    # The operator's staff use the Django admin.
                    membership.user.is_staff = True
                    membership.user.is_superuser = True
                    membership.user.save(update_fields=["is_staff", "is_superuser"])
                created += 1
        return created

    def _ensure_keys(self, known: dict[str, str]) -> dict[str, str]:
        """One read+trade demo key per organisation; keys from an earlier run are reused."""
        from operators.services import api_key_authenticate

        keys: dict[str, str] = {}
        for slug, *_rest in demo.ORGANISATIONS:
            key = known.get(slug)
            if key and api_key_authenticate(key) is not None:
                keys[slug] = key
                continue
            actor = self._admin_actor(slug)
            # Regulators only ever read.
            scopes = [Scope.READ] if actor.organisation.is_regulator else [Scope.READ, Scope.TRADE]
            _api_key, keys[slug] = services.api_key_create(
                actor=actor, name="demo key", scopes=scopes
            )
        return keys

    def _point_webhooks(self, base: str) -> None:
        """One demo endpoint per trading organisation, moved if the port changed."""
        for slug, _ja, _en, roles, _inv, _user in demo.ORGANISATIONS:
            if not TRADING_ROLES & set(roles):
                continue
            url = f"{base}/demo/receiver/{slug}/"
            actor = self._admin_actor(slug)
            endpoints = list(WebhookEndpoint.objects.filter(organisation=actor.organisation))
            if any(e.url == url and e.is_active for e in endpoints):
                continue
            for endpoint in endpoints:
                if endpoint.is_active and "/demo/receiver/" in endpoint.url:
                    services.webhook_endpoint_update(actor=actor, endpoint=endpoint, url=url)
                    break
            else:
                services.webhook_endpoint_create(
                    actor=actor, url=url, description="demo receiver (make run)"
                )

    @staticmethod
    def _admin_actor(slug: str) -> Actor:
        admin = (
            Membership.objects.select_related("organisation", "user")
            .filter(organisation__slug=slug, role=MemberRole.ADMIN)
            .first()
        )
        return Actor(admin.organisation, MEMBER_ROLE_SCOPES[MemberRole.ADMIN], user=admin.user)

    def _load_sites(self) -> int:
        created = 0
        for org_slug, code, name, area, pref, accel, cu, kw, pue, residency, latency in demo.SITES:
            if Site.objects.filter(code=code).exists():
                continue
            actor = self._admin_actor(org_slug)
            services.site_register(
                actor=actor,
                code=code,
                name=name,
                area=area,
                prefecture=pref,
                accelerator=accel,
                capacity_cu=cu,
                kw_per_cu=kw,
                pue=pue,
                residency_tags=residency,
                latency_ms=latency,
                cu_description="one accelerator at full load",
            )
            created += 1
        return created


def _read_keys(path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
    return {slug: key.strip() for slug, key in pairs}
