"""Checks on participant data whose rules come from outside the exchange."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from operators.addresses import address_problem


def invoice_number_problem(value: str) -> str | None:
    """Why a qualified-invoice registration number is invalid, or None if it is valid.

    Format: "T" + a 13-digit corporate number whose first digit is a check digit
    (National Tax Agency rule: 9 − (Σ Pn·Qn mod 9), Pn the n-th digit counted from the
    right of the remaining 12, Qn = 1 for odd n and 2 for even n).
    """
    # ASCII digits only: "²".isdigit() is true, but int("²") raises.
    if len(value) != 14 or value[0] != "T" or not (value[1:].isascii() and value[1:].isdigit()):
        return _("Use T followed by 13 digits, e.g. T7000012050002.")
    digits = value[1:]
    base = digits[1:]
    weighted = sum(int(d) * (1 if n % 2 == 1 else 2) for n, d in enumerate(reversed(base), 1))
    check = 9 - weighted % 9
    if int(digits[0]) != check:
        return _("The check digit does not match (expected %(check)s as the first digit).") % {
            "check": check
        }
    return None


def webhook_url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why a webhook target is refused, or None. Blocks SSRF towards internal networks.

    Every address the host resolves to must be public (operators.addresses, which also
    looks inside IPv6 forms that carry an IPv4 address); delivery checks again, on the
    address it connects to (operators.webhooks).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # also a port outside 0–65535
        return _("Not a valid URL.")
    if parts.scheme not in ("https", "http"):
        return _("Use an https:// URL.")
    if parts.scheme != "https" and not allow_private:
        return _("Use an https:// URL.")
    if not parts.hostname:
        return _("The URL has no host.")
    if parts.username or parts.password:
        return _("Credentials in the URL are not allowed; verify our signature instead.")
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return _("The host name does not resolve.")
    if any(address_problem(str(info[4][0])) for info in infos):
        return _("The host resolves to a private or reserved address, which is not allowed.")
    return None
