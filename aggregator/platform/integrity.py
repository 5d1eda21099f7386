"""The key that makes the audit chain and the ledger tamper-evident; it is never in the database.

Someone with write access to the database can rewrite a plain hash chain and recompute
every hash. With an HMAC key held outside the database (environment or a mounted file),
they cannot produce a valid MAC for anything they change, add or move.

Where the key comes from, in this order:

1. the `AUDIT_HMAC_KEY` setting, or the `AUDIT_HMAC_KEY` / `AUDIT_HMAC_KEY_FILE` environment
   variables (at least 32 characters);
2. only when `DEBUG` is on (or `AUDIT_HMAC_KEY_FROM_SECRET_KEY` is set true explicitly):
   a key derived from `SECRET_KEY`, so that `make run` and the tests need nothing more;
3. otherwise there is no key and whatever needs one stops with `ImproperlyConfigured`
   (and `manage.py check` reports `wattbit.E001`). Production must set it.

One master key, separate sub-keys per use (`subkey`), so a MAC of one kind can never be
replayed as a MAC of another.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aggregator.platform.env import env_bool, env_str

KEY_NAME = "AUDIT_HMAC_KEY"
MIN_KEY_CHARS = 32
_DERIVATION_LABEL = b"wattbit/audit-hmac-key/v1"


def _configured_key() -> str | None:
    return getattr(settings, KEY_NAME, None) or env_str(KEY_NAME)


def derives_from_secret_key() -> bool:
    """Whether a missing key may be derived from SECRET_KEY (development and tests only)."""
    explicit = getattr(settings, "AUDIT_HMAC_KEY_FROM_SECRET_KEY", None)
    if explicit is None:
        explicit = env_bool("AUDIT_HMAC_KEY_FROM_SECRET_KEY", False)
    return bool(explicit) or bool(settings.DEBUG)


def key_problem() -> str | None:
    """Why there is no usable key, or None (the system check and `integrity_key` share it)."""
    try:
        raw = _configured_key()
    except Exception as exc:  # an unreadable AUDIT_HMAC_KEY_FILE
        return str(exc)
    if raw:
        if len(raw) < MIN_KEY_CHARS:
            return f"{KEY_NAME} must be at least {MIN_KEY_CHARS} characters long"
        return None
    if derives_from_secret_key():
        return None
    return (
        f"{KEY_NAME} (or {KEY_NAME}_FILE) must be set when DEBUG is off: it keys the audit "
        "chain and the ledger hashes and must not be stored in the database"
    )


@lru_cache(maxsize=8)
def _master(raw: str | None, secret_key: str) -> bytes:
    if raw:
        return raw.encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), _DERIVATION_LABEL, hashlib.sha256).digest()


def integrity_key() -> bytes:
    """The master key; raises ImproperlyConfigured when there is none (see module doc)."""
    problem = key_problem()
    if problem:
        raise ImproperlyConfigured(problem)
    return _master(_configured_key(), settings.SECRET_KEY)


@lru_cache(maxsize=32)
def _sub(master: bytes, purpose: str) -> bytes:
    return hmac.new(master, b"wattbit/" + purpose.encode("ascii"), hashlib.sha256).digest()


def subkey(purpose: str) -> bytes:
    """The key for one use: "audit-row", "audit-head", "audit-checkpoint", "ledger-entry"."""
    return _sub(integrity_key(), purpose)


def mac_hex(purpose: str, message: bytes | str) -> str:
    """HMAC-SHA256 of `message` under the sub-key for `purpose`, as hex."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    return hmac.new(subkey(purpose), message, hashlib.sha256).hexdigest()


def key_id() -> str:
    """A public fingerprint of the key (16 hex digits): names the key, reveals nothing of it."""
    return mac_hex("key-id", b"")[:16]


def macs_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


__all__ = [
    "KEY_NAME",
    "derives_from_secret_key",
    "integrity_key",
    "key_id",
    "key_problem",
    "mac_hex",
    "macs_equal",
    "subkey",
]
