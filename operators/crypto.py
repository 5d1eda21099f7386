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


def new_webhook_secret() -> str:
    return "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def encrypt_secret(secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _webhook_cipher().encrypt(nonce, secret.encode("utf-8"), None)


def decrypt_secret(blob: bytes) -> str:
    blob = bytes(blob)
    return _webhook_cipher().decrypt(blob[:12], blob[12:], None).decode("utf-8")
