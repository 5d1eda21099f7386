"""The Redis broker transport, with one fix so that a worker outlives a Redis restart.

kombu 5.7's worker-side cleanup after a lost connection closes the consumer's connection
twice: the first close detaches the transport (`transport.client = None`), the second tries
to restore the unacknowledged messages through a new client and fails with
`AttributeError: 'NoneType' object has no attribute 'hostname'`. That is not one of the
connection errors Celery ignores during cleanup, so the worker stops with "Unrecoverable
error" instead of reconnecting (tests/e2e/test_faults.py reproduces it; kombu issue #582 is
the same fault in the gossip path). Here a detached transport reports a lost connection
instead, which Celery's cleanup ignores as it should: the worker reconnects and consumes.

Nothing is lost by not restoring at that moment: with Redis down there is nowhere to
restore to, and the messages stay in Redis' `unacked` index, from which any worker's restore
sweep brings them back after the visibility timeout (when Redis kept them: AOF in deploy/).
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis import exceptions as redis_exceptions


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection.client is None:
            raise redis_exceptions.ConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


TRANSPORT = f"{__name__}:Transport"
