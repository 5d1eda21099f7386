"""Webhook secrets from before Standard Webhooks, re-encoded with the same key.

Until now a secret was `whsec_` + URL-safe base64 and the HMAC key was the whole string's
UTF-8 bytes. Standard Webhooks decodes the part after `whsec_` as standard base64 instead,
so no old secret verified with a Standard Webhooks library (about 73 % are not even
standard base64). Writing the old key bytes as `whsec_` + standard base64 gives a standard
secret with the *same* key: the signing side changes no key, old receivers keep verifying
(the Wattbit-Signature header still comes, signed with that key, for this release), and a
receiver moving to a library re-encodes its secret the same way (docs/webhooks.md).

A secret that cannot be decrypted (written under another SECRET_KEY) is left as it is: its
pushes already fail, now as "cannot sign", until the endpoint's secret is rotated.
"""

from cryptography.exceptions import InvalidTag
from django.db import migrations

from operators.crypto import (
    decrypt_secret,
    encrypt_secret,
    legacy_secret_as_standard,
    standard_secret_as_legacy,
)


def to_standard(apps, schema_editor):
    endpoint_model = apps.get_model("operators", "WebhookEndpoint")
    unreadable = []
    for endpoint in endpoint_model.objects.filter(secret_legacy=False).order_by("id"):
        try:
            legacy = decrypt_secret(endpoint.secret_encrypted)
        except InvalidTag:
            unreadable.append(endpoint.pk)
            continue
        endpoint.secret_encrypted = encrypt_secret(legacy_secret_as_standard(legacy))
        endpoint.secret_legacy = True  # secret_prefix stays: it is what the participant holds
        endpoint.save(update_fields=["secret_encrypted", "secret_legacy"])
    if unreadable:
        print(
            f"\n  webhook endpoints {unreadable}: secret not readable with this SECRET_KEY, "
            "left as it was; rotate it to push to these endpoints again"
        )


def to_legacy(apps, schema_editor):
    endpoint_model = apps.get_model("operators", "WebhookEndpoint")
    for endpoint in endpoint_model.objects.filter(secret_legacy=True).order_by("id"):
        standard = decrypt_secret(endpoint.secret_encrypted)
        endpoint.secret_encrypted = encrypt_secret(standard_secret_as_legacy(standard))
        endpoint.secret_legacy = False
        endpoint.save(update_fields=["secret_encrypted", "secret_legacy"])
    # Secrets issued after the change stay as they are: the old code signs with a secret
    # string's bytes, which is what a receiver holding that string then verifies with.


class Migration(migrations.Migration):
    dependencies = [("operators", "0003_webhook_secret_rotation")]

    operations = [migrations.RunPython(to_standard, to_legacy)]
