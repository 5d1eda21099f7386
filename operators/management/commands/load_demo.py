"""Load the demo market: participants, logins, API keys and sites. Safe to run again."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from market.demo import load_market_demo
from operators import demo, services
from operators.actors import Actor
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole, Scope
from operators.models import Membership, Organisation, Site


class Command(BaseCommand):
    help = "Create the demo participants, logins, API keys and sites (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load demo data even with DEBUG off (never on a real exchange).",
        )

    def handle(self, *args, allow_production: bool = False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("load_demo refuses to run with DEBUG off; pass --allow-production.")
        keys_file = settings.VAR_DIR / "demo-api-keys.txt"
        known_keys = _read_keys(keys_file)
        with transaction.atomic():
            created = self._load_participants()
            keys = self._ensure_keys(known_keys)
            created += self._load_sites()
            load_market_demo(self.stdout)
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
                if "market_operator" in roles:
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
            admin = (
                Membership.objects.select_related("organisation", "user")
                .filter(organisation__slug=slug, role=MemberRole.ADMIN)
                .first()
            )
            actor = Actor(admin.organisation, MEMBER_ROLE_SCOPES[MemberRole.ADMIN], user=admin.user)
            # Regulators only ever read.
            scopes = [Scope.READ] if admin.organisation.is_regulator else [Scope.READ, Scope.TRADE]
            _api_key, keys[slug] = services.api_key_create(
                actor=actor, name="demo key", scopes=scopes
            )
        return keys

    def _load_sites(self) -> int:
        created = 0
        for org_slug, code, name, area, pref, accel, cu, kw, pue, residency, latency in demo.SITES:
            if Site.objects.filter(code=code).exists():
                continue
            admin = (
                Membership.objects.select_related("organisation", "user")
                .filter(organisation__slug=org_slug, role=MemberRole.ADMIN)
                .first()
            )
            actor = Actor(admin.organisation, MEMBER_ROLE_SCOPES[MemberRole.ADMIN], user=admin.user)
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
