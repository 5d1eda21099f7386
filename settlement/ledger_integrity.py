"""The ledger's tamper evidence: each entry's keyed MAC, and who may own which account.

`entry_mac` is an HMAC-SHA256 (the integrity key of aggregator.platform.integrity, never in the
database) over the entry's header and, in order, every posting's account (id and code),
organisation, interval, component, yen, quantity, unit, unit price and memo. An UPDATE that
moves a posting to another organisation or account, changes an amount or a memo — balanced
or not — no longer matches, and nobody without the key can write a MAC that does.

`ownership_problem` is the second, key-free check: a posting's organisation must be its
account's organisation, and an account's code must say whose it is (`org-<id>:<kind>`, or
`market:<kind>` with no organisation).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aggregator.platform.canonical import canonical_json
from aggregator.platform.integrity import mac_hex
from settlement.choices import AccountKind

QUANTITY_PLACES = Decimal("0.000001")
PRICE_PLACES = Decimal("0.0001")
SCHEMA = "wattbit.ledger-entry/1"
ORGANISATION_KINDS = frozenset({AccountKind.RECEIVABLE, AccountKind.PAYABLE})


def _fmt(value: Decimal | None, places: Decimal) -> str:
    return "" if value is None else str(Decimal(value).quantize(places))


def _instant(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def entry_header(entry: Any) -> list:
    """What of the entry itself the MAC covers (any object with JournalEntry's fields)."""
    return [
        _instant(entry.interval_start),
        entry.run_id,
        entry.order_id,
        entry.kind,
        entry.stage,
        entry.reason,
        entry.reverses_id,
        entry.actor_label,
        _instant(entry.created_at),
    ]


def posting_fields(
    *,
    account_id: int,
    account_code: str,
    organisation_id: int | None,
    interval_start: datetime,
    component: str,
    amount_jpy: int,
    quantity: Decimal | None,
    unit: str,
    unit_price: Decimal | None,
    memo: str,
) -> list:
    return [
        account_id,
        account_code,
        organisation_id,
        _instant(interval_start),
        component,
        int(amount_jpy),
        _fmt(quantity, QUANTITY_PLACES),
        unit,
        _fmt(unit_price, PRICE_PLACES),
        memo,
    ]


def entry_mac(header: list, postings: list[list]) -> str:
    """The keyed MAC of one entry: its header and its postings' fields, in posting order."""
    return mac_hex("ledger-entry", canonical_json([SCHEMA, header, postings]))


def posting_row_fields(posting: Any) -> list:
    """`posting_fields` of a Posting (its account loaded or cached)."""
    return posting_fields(
        account_id=posting.account_id,
        account_code=posting.account.code,
        organisation_id=posting.organisation_id,
        interval_start=posting.interval_start,
        component=posting.component,
        amount_jpy=posting.amount_jpy,
        quantity=posting.quantity,
        unit=posting.unit,
        unit_price=posting.unit_price,
        memo=posting.memo,
    )


def legacy_postings_hash(rows) -> str:
    """The unkeyed sha256 entries carried before the ledger was keyed (re-key only)."""
    digest = hashlib.sha256()
    for r in rows:
        digest.update(
            "|".join(
                (
                    str(r.account_id),
                    r.component,
                    str(int(r.amount_jpy)),
                    _fmt(r.quantity, QUANTITY_PLACES),
                    r.unit,
                    _fmt(r.unit_price, PRICE_PLACES),
                )
            ).encode()
        )
        digest.update(b"\n")
    return digest.hexdigest()


def ownership_problem(
    *,
    posting_organisation_id: int | None,
    account_organisation_id: int | None,
    account_code: str,
    account_kind: str,
) -> str | None:
    """Why a posting may not sit on its account, or None."""
    if posting_organisation_id != account_organisation_id:
        return "the posting's organisation is not its account's"
    if (account_organisation_id is not None) != (account_kind in ORGANISATION_KINDS):
        return "the account's kind does not match whether an organisation owns it"
    expected = (
        f"org-{account_organisation_id}:{account_kind}"
        if account_organisation_id is not None
        else f"market:{account_kind}"
    )
    if account_code != expected:
        return f"the account's code {account_code!r} does not name its owner ({expected!r})"
    return None
