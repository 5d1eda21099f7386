"""Beat's daily full check of the audit chain and the ledger keeps both verdicts."""

from __future__ import annotations

import pytest

from aggregator.platform.audit import audit_record
from aggregator.platform.models import IntegrityCheckResult
from settlement.tasks import verify_integrity
from tests.support import tamper

pytestmark = pytest.mark.django_db


def _verdicts() -> dict[str, bool]:
    return dict(IntegrityCheckResult.objects.values_list("name", "ok"))


def test_the_daily_check_records_both_verdicts_and_sees_a_tampered_row(caplog):
    for i in range(3):
        audit_record(code="test.event", actor_label="system", object_id=str(i), payload={})
    assert verify_integrity.apply().get() == {"audit_chain": True, "ledger": True}
    assert _verdicts() == {"audit_chain": True, "ledger": True}

    tamper.set_payload(2, {"changed": True})
    assert verify_integrity.apply().get() == {"audit_chain": False, "ledger": True}
    assert _verdicts() == {"audit_chain": False, "ledger": True}
    row = IntegrityCheckResult.objects.get(name="audit_chain")
    assert "BROKEN at row #2" in row.detail
    assert "integrity check failed" in caplog.text
