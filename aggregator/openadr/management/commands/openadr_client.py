"""`manage.py openadr_client --org SLUG`: OAuth2 client credentials for an organisation's
VENs; the secret is printed once (only its hash is kept)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aggregator.openadr.services.clients import openadr_client_create, openadr_client_revoke
from aggregator.platform.errors import DomainError
from operators.models import Organisation


class Command(BaseCommand):
    help = "Create OpenADR 3 client credentials for an organisation; prints the secret once."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="the organisation's slug")
        parser.add_argument("--revoke", metavar="CLIENT_ID", help="revoke a client instead")
        parser.add_argument("--name", default="", help="a name for the client")
        parser.add_argument(
            "--read-only", action="store_true", help="read scopes only (no reports, no writes)"
        )

    def handle(self, *args, org: str, name: str, read_only: bool, revoke: str, **options):
        if revoke:
            try:
                openadr_client_revoke(client_id=revoke, actor_label="command:openadr_client")
            except DomainError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"revoked {revoke}: its tokens are gone and its secret works no more")
            return
        if not org:
            raise CommandError("give --org SLUG (or --revoke CLIENT_ID)")
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"no organisation {org!r}")
        try:
            client, secret = openadr_client_create(
                organisation=organisation,
                name=name,
                read_only=read_only,
                actor_label="command:openadr_client",
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"client_id     {client.application.client_id}")
        self.stdout.write(f"client_secret {secret}")
        self.stdout.write(f"scopes        {' '.join(client.scopes)}")
        self.stdout.write("The secret is shown once; only its hash is kept.")
