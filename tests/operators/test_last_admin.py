"""An organisation always keeps one admin, even when two admins demote each other at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from aggregator.platform.errors import InvalidInput
from operators.choices import MemberRole
from operators.models import Membership
from operators.services import member_change_role, member_deactivate
from tests.conftest import _member, actor_of

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real concurrent transactions"
)


@translation.override("en")
def test_the_last_admin_can_be_neither_demoted_nor_removed(alice):
    with pytest.raises(InvalidInput) as demoted:
        member_change_role(actor=actor_of(alice), membership=alice, role=MemberRole.VIEWER)
    with pytest.raises(InvalidInput) as removed:
        member_deactivate(actor=actor_of(alice), membership=alice)
    for refused in (demoted, removed):
        assert refused.value.errors == {"role": ["An organisation keeps at least one admin."]}
    alice.refresh_from_db()
    assert alice.role == MemberRole.ADMIN and alice.user.is_active


@postgres_only
def test_an_admin_change_locks_the_organisation_row_first(alpha, alice):
    other = _member(alpha, "ada", MemberRole.ADMIN)
    with CaptureQueriesContext(connection) as queries:
        member_change_role(actor=actor_of(alice), membership=other, role=MemberRole.VIEWER)
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert locks and 'FROM "operators_organisation"' in locks[0]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(reference_data, alpha):
    ada, bea = _member(alpha, "ada", MemberRole.ADMIN), _member(alpha, "bea", MemberRole.ADMIN)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def demote(by: Membership, whom: Membership) -> None:
        try:
            start.wait()
            outcomes.append(
                member_change_role(actor=actor_of(by), membership=whom, role=MemberRole.VIEWER)
            )
        except InvalidInput as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=demote, args=pair) for pair in ((ada, bea), (bea, ada))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(o, InvalidInput) for o in outcomes) == 1, outcomes
    assert Membership.objects.filter(organisation=alpha, role=MemberRole.ADMIN).count() == 1
