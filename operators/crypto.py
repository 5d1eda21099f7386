"""Secrets: API key generation and hashing, webhook signing secrets encrypted at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

API_KEY_PREFIX = "wb_"


def new_api_key() -> tuple[str, str]:
    """Return (prefix, full key). The prefix is public; the rest is 256 bits of secret."""
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


def split_api_key(key: str) -> tuple[str, str] | None:
    prefix, dot, _secret = key.partition(".")
    if not dot or not prefix.startswith(API_KEY_PREFIX) or not _secret:
        return None
    return prefix, key


def hash_api_key(key: str) -> str:
    # Keys carry 256 bits of entropy, so a fast hash is safe (no dictionary to try) and
    # keeps authentication off the slow path that password hashing would add.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_matches(key: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_sha256)


def _webhook_cipher() -> AESGCM:
    material = (settings.SECRET_KEY + ":wattbit-webhook-secrets").encode("utf-8")
    return AESGCM(hashlib.sha256(material).digest())


# Standard Webhooks (standardwebhooks.com): a symmetric secret is `whsec_` + the standard
# base64 (with padding) of 24–64 random bytes, and the HMAC key is those decoded bytes.
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, no secret)
WEBHOOK_SECRET_BYTES = 32


def new_webhook_secret() -> str:
    raw = secrets.token_bytes(WEBHOOK_SECRET_BYTES)
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret: its base64-decoded bytes (strictly decoded)."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :], validate=True)
    except ValueError as exc:  # binascii.Error is a ValueError
        raise ValueError("a webhook secret is whsec_ + standard base64") from exc
    if not key:
        raise ValueError("a webhook secret needs a key after whsec_")
    return key


# Before Standard Webhooks, secrets were `whsec_` + URL-safe base64 and the HMAC key was the
# whole string's UTF-8 bytes (49 bytes: `whsec_` and 43 characters). Re-encoding those bytes
# gives a standard secret with the *same* key, so nothing that signs or verifies changes
# key; only the written form of the secret does (migration operators 0004, docs/webhooks.md).
def legacy_secret_as_standard(legacy: str) -> str:
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(legacy.encode("utf-8")).decode("ascii")


def standard_secret_as_legacy(secret: str) -> str:
    """The inverse, for a secret that `legacy_secret_as_standard` wrote."""
    return base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :], validate=True).decode("utf-8")


def encrypt_secret(secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _webhook_cipher().encrypt(nonce, secret.encode("utf-8"), None)


def decrypt_secret(blob: bytes) -> str:
    blob = bytes(blob)
    return _webhook_cipher().decrypt(blob[:12], blob[12:], None).decode("utf-8")
