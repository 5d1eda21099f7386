"""Key the ledger: each entry's postings hash becomes an HMAC covering organisation,
account, amount, memo and interval (settlement/ledger_integrity.py).

Existing entries are first checked as they were written (the unkeyed sha256, and that each
posting's organisation owns its account); only an intact ledger is re-keyed, and the
re-key is recorded on the audit chain (`settlement.ledger.rekeyed`, docs/security.md).
"""

from django.db import migrations


def rekey(apps, schema_editor):
    from settlement.ledger_rekey import rekey_legacy_ledger

    rekey_legacy_ledger(apps)


def unkey(apps, schema_editor):
    from settlement.ledger_rekey import unkey_ledger

    unkey_ledger(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("aggregator", "0002_keyed_chain"),
        ("settlement", "0002_tolerance_label"),
    ]

    operations = [
        migrations.RenameField(
            model_name="journalentry", old_name="postings_sha256", new_name="postings_mac"
        ),
        migrations.RunPython(rekey, unkey),
    ]
