"""The audit chain's migration path: a chain written before the key is verified as written
before it is re-keyed; a damaged one is refused and left as it was."""

from __future__ import annotations

import pytest

from aggregator.platform.audit import audit_record
from aggregator.platform.audit_rekey import ChainNotRekeyed, rekey_legacy_chain, unkey_chain
from aggregator.platform.models import AuditChainHead, AuditEvent
from tests.support import tamper


@pytest.mark.django_db
def test_a_damaged_legacy_chain_is_not_rekeyed():
    for i in range(4):
        audit_record(code="test.event", actor_label="system", payload={"n": i})
    unkey_chain(AuditEvent, AuditChainHead)  # back to how it was written before the key
    tamper.set_payload(2, {"n": "edited before the upgrade"})
    hashes = list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True))
    with pytest.raises(ChainNotRekeyed, match="row #2"):
        rekey_legacy_chain(AuditEvent, AuditChainHead)
    assert list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True)) == hashes
    assert not AuditEvent.objects.filter(code="aggregator.audit.rekeyed").exists()
