"""The relay on a real Redis and a real Celery worker, delivering to a real local receiver: a worker
killed in the middle of a batch loses nothing, and what it resends carries the same idempotency key."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from governance.notifications.delivery import claim_lease
from governance.notifications.models import DeliveryState, Notification, NotificationDelivery
from governance.notifications.tasks import relay_notifications
from tests import clock
from tests.background.conftest import TEST_REDIS_URL, Worker, _database_url, broker
from tests.background.receivers import channels_at, receiver
from tests.clock import configured_clock

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set: these tests need a real Redis."
    ),
    pytest.mark.django_db(transaction=True),
]

MESSAGES = 40


@pytest.fixture
def local():
    with receiver() as running:
        yield running


def start_worker(tmp_path, queue: str, local, monkeypatch) -> Worker:
    (tmp_path / "mail").mkdir(exist_ok=True)
    channels = {"integrations": channels_at(local.url, events=("other",))["integrations"]}
    monkeypatch.setenv("VALUEGATE_NOTIFICATION_CHANNELS", json.dumps(channels))
    monkeypatch.setenv("VALUEGATE_NOTIFICATION_TIMEOUT", "5")
    worker = Worker(queue, tmp_path / "mail", tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log")
    worker.start(_database_url())
    return worker


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    members, local, tmp_path, monkeypatch, settings
):
    import redis

    settings.VALUEGATE_NOTIFICATION_TIMEOUT = 5  # as the workers have it: the same lease

    chair = members["chair"]
    now = configured_clock()
    Notification.objects.bulk_create(
        Notification(
            recipient=chair, event_key=f"batch-{n}", subject=f"Message {n}", body="B", created_at=now
        )
        for n in range(MESSAGES)
    )
    local.mode, local.slow_seconds = "slow", 0.15  # takes each message, then answers a moment later
    queue = f"valuegate-test-{uuid.uuid4().hex[:12]}"
    first = start_worker(tmp_path, queue, local, monkeypatch)
    second = None
    try:
        with broker(TEST_REDIS_URL, queue):
            relay_notifications.delay()
            first.wait_for(lambda: len(local.requests) >= 8, what="the first deliveries")
            first.process.kill()  # SIGKILL: no chance to finish the delivery in hand
            first.process.wait(timeout=10)
            webhooks = NotificationDelivery.objects.filter(channel="integrations")
            assert 0 < webhooks.filter(state=DeliveryState.SENT).count() < MESSAGES  # mid-batch indeed

            # A relay on a new worker, once the dead worker's claim on its batch has lapsed, sends
            # the rest. Each worker starts at the suite's clock; this one starts past the lease.
            later = clock.configured_clock() + claim_lease() + dt.timedelta(seconds=30)
            monkeypatch.setenv(clock.ENVIRONMENT_VARIABLE, later.isoformat())
            second = start_worker(tmp_path, queue, local, monkeypatch)
            relay_notifications.delay()
            second.wait_for(
                lambda: not NotificationDelivery.objects.exclude(state=DeliveryState.SENT).exists(),
                timeout=60,
                what="every delivery sent",
            )
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        client = redis.Redis.from_url(TEST_REDIS_URL)
        client.delete(queue, *client.keys(f"_kombu.binding*{queue}"))
        # The killed worker's message stays "unacked" until the visibility timeout: drop it, so
        # that the other tests' workers, waiting for an empty unacked set, are not held up.
        for tag, payload in client.hgetall("unacked").items():
            if queue.encode() in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)

    assert webhooks.count() == MESSAGES and len(local.accepted) == MESSAGES  # none lost
    keys = [r.headers["webhook-id"] for r in local.requests]
    assert set(keys) == {d.idempotency_key for d in webhooks}
    # At most the one message in hand when the worker died went twice, under the same key.
    assert len(keys) - len(set(keys)) <= 1
    emails = NotificationDelivery.objects.filter(channel="email")
    assert emails.count() == MESSAGES and len({m["Message-ID"] for m in first.emails()}) == MESSAGES
