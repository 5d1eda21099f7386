"""The daily market report carries the audit chain's signed checkpoint to regulators, and
what they received is what `verify_audit_chain --checkpoint` checks the chain against."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from aggregator.platform.audit import audit_record, audit_verify_chain
from aggregator.platform.audit_checkpoints import audit_checkpoint_issue
from tests.support import tamper
from tests.support.pdf import pdf_text

pytestmark = pytest.mark.django_db


def _report(fmt: str, tmp_path):
    out = tmp_path / f"report.{fmt}"
    call_command("market_report", "--day", "2030-04-01", "--format", fmt, "-o", str(out))
    return out


def test_each_format_carries_the_latest_checkpoint(cleared_market, tmp_path):
    checkpoint = audit_checkpoint_issue()
    data = json.loads(_report("json", tmp_path).read_text(encoding="utf-8"))
    [printed] = data["audit"]["checkpoints"]
    assert printed["seq"] == checkpoint.seq and printed["token"] == checkpoint.token
    assert printed["head_hash"] == checkpoint.head_hash
    csv_text = _report("csv", tmp_path).read_text(encoding="utf-8-sig")
    [line] = [row for row in csv_text.splitlines() if row.startswith("audit_checkpoint,")]
    assert f",token,{checkpoint.token}," in line
    text = pdf_text(_report("pdf", tmp_path).read_bytes())
    assert checkpoint.head_hash in text and checkpoint.signature in text
    # The token copied out of the PDF, line breaks and all, is accepted as it is.
    verdict_input = text[text.index("wbckpt1.") :]
    call_command("verify_audit_chain", "--checkpoint", verdict_input)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_truncation_is_caught_with_the_report_a_regulator_kept(cleared_market, tmp_path, fmt):
    backup = tamper.head_row()
    audit_record(code="test.after_backup", actor_label="system")
    audit_record(code="test.after_backup", actor_label="system")
    audit_checkpoint_issue()
    kept = _report(fmt, tmp_path)
    call_command("verify_audit_chain", "--checkpoint", str(kept))
    # Cut the last events, put the old head back, drop the stored checkpoints.
    tamper.delete_events_from(backup["last_seq"] + 1)
    tamper.restore_head(backup)
    tamper.sql("DELETE FROM aggregator_auditcheckpoint")
    assert audit_verify_chain().ok  # the database alone looks fine
    with pytest.raises(CommandError, match="cut off"):
        call_command("verify_audit_chain", "--checkpoint", str(kept))
