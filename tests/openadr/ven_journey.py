"""A VEN built on the third-party `openadr3-client` (ElaadNL), run by tests/openadr/test_ven.py
in a Python 3.12 venv of its own against a live exchange. Prints one JSON line per step.

argv: VTN base URL, client id, client secret, callback URL.
"""

import json
import sys

from openadr3_client._auth.token_manager import OAuthTokenManagerConfig
from openadr3_client._models.common.interval import Interval
from openadr3_client.oadr310._ven.client import get_oadr310_ven_client
from openadr3_client.oadr310.models.report.report import NewReport, ReportResource
from openadr3_client.oadr310.models.report.report_payload import ReportPayload
from openadr3_client.oadr310.models.subscriptions.subscription import (
    NewSubscription,
    Object,
    ObjectOperation,
    Operation,
)
from openadr3_client.oadr310.models.ven.ven import NewVenVenRequest

base_url, client_id, client_secret, callback_url = sys.argv[1:5]


def step(label, **data):
    print(json.dumps({"step": label, **data}, default=str), flush=True)


# 1. Discovery: no credentials needed to learn where tokens come from.
anonymous = get_oadr310_ven_client(base_url, None, allow_insecure_http=True)
token_url = anonymous.auth.get_auth_server().token_url
step("auth", token_url=token_url)

# 2. A token by client credentials (the client fetches it on the first call).
config = OAuthTokenManagerConfig(
    client_id=client_id,
    client_secret=client_secret,
    token_url=token_url,
    scopes=[
        "read_targets",
        "read_ven_objects",
        "write_reports",
        "write_subscriptions",
        "write_vens",
    ],
    audience=None,
)
ven = get_oadr310_ven_client(base_url, config, allow_insecure_http=True)

# 3. Programs and the events of the cleared interval.
programs = ven.programs.get_programs(target=None, pagination=None)
step("programs", ids=[p.id for p in programs])
events = ven.events.get_events(target=None, pagination=None, program_id=None)
orders = [e for e in events if e.id.startswith("ord-")]
step(
    "events",
    ids=[e.id for e in events],
    orders=[
        {
            "id": e.id,
            "program": e.program_id,
            "start": e.interval_period.start.isoformat(),
            "targets": list(e.targets or ()),
            "payloads": {str(p.type): list(p.values) for p in e.intervals[0].payloads},
        }
        for e in orders
    ],
)

# 4. A report acknowledging the first order (a private payload type, as the event asks).
order = orders[0]
report = ven.reports.create_report(
    NewReport(
        event_id=order.id,
        client_name="wattbit-test-ven",
        report_name="acknowledgement",
        resources=(
            ReportResource(
                resource_name=(order.targets or ("aggregate",))[0],
                intervals=(
                    Interval(
                        id=0,
                        payloads=(ReportPayload(type="X_WATTBIT_ORDER_ACK", values=("ACCEPT",)),),
                    ),
                ),
            ),
        ),
    )
)
step("report", id=report.id, event=report.event_id, client=report.client_id)

# 5. A VEN object, then a subscription whose callback the VTN verifies by its challenge.
ven_object = ven.vens.create_ven(NewVenVenRequest(ven_name="wattbit-test-ven"))
step("ven", id=ven_object.id, name=ven_object.ven_name)
subscription = ven.subscriptions.create_subscription(
    NewSubscription(
        client_name="wattbit-test-ven",
        object_operations=(
            ObjectOperation(
                objects=(Object.EVENT,),
                operations=(Operation.POST,),
                callback_url=callback_url,
                bearer_token="ven-callback-token",
            ),
        ),
    )
)
step("subscription", id=subscription.id)
