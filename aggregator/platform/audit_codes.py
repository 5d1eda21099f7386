"""Event codes of the audit chain that belong to the platform, and the actor label of the
exchange's own actions. Each app lists its codes in its choices.py (`<app>.<noun>.<verb>`);
the strings are stored in the chain and hashed, so a value never changes."""

from enum import StrEnum

# Who acted when nobody did: the cycle, beat's tasks, migrations.
SYSTEM_ACTOR = "system"


class PlatformAudit(StrEnum):
    AUDIT_REKEYED = "aggregator.audit.rekeyed"  # the chain was keyed (migration aggregator 0002)
    # A run re-solved and compared: written by the exchange's replay, read by the market's
    # runs page and settlement's reports.
    REPLAY_CHECKED = "aggregator.replay.checked"
