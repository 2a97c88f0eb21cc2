"""Against a real Redis and a real Celery worker: from the database through Redis to the worker and
out by e-mail; Redis down, then back; Redis frozen; messages delivered twice.

Run when TEST_REDIS_URL is set (.ci/run sets it); the worker is started by the `celery_worker`
fixture (tests/background/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
from django.utils import timezone

from governance.notifications.models import Notification, NotificationDelivery
from governance.notifications.tasks import relay_notifications
from governance.oversight.models import PilotEscalation, SignOffFollowUp
from governance.reviews.models import GateReview
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.tasks import chase_overdue_signoffs, escalate_perpetual_pilots
from projects.models import Initiative
from tests import factories
from tests.background.conftest import CLOSED_BROKER_URL, TEST_REDIS_URL, broker
from tests.clock import configured_clock

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set: these tests need a real Redis."
    ),
    pytest.mark.django_db(transaction=True),
]


def emails_to(worker, address: str) -> list:
    return [m for m in worker.emails() if m["To"] == address]


def email_sent(event_key: str) -> bool:
    return NotificationDelivery.objects.filter(event_key=event_key, channel="email", state="sent").exists()


@pytest.fixture
def review(members):
    """An open scale review whose 'review opened' notifications were already sent."""
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    Notification.objects.update(dispatched_at=configured_clock())
    return review


def sign(members, review, function: str = "legal"):
    return signoff_record(
        actor=members[function], review=review, function=function, decision="approve", rationale="Reviewed."
    )


def test_a_sign_off_notification_goes_from_the_database_through_redis_to_the_worker_and_out_by_email(
    members, review, real_broker
):
    worker = real_broker
    signoff = sign(members, review)

    owner = review.initiative.owner
    (message,) = worker.wait_for(lambda: emails_to(worker, owner.email), what="the sign-off e-mail")
    assert "legal signed the scale gate" in message["Subject"].replace("\n", "").lower()
    # The e-mail leaves before the relay's transaction marks the row sent; wait for that commit.
    key = f"signoff-{signoff.pk}-recorded"
    worker.wait_for(lambda: email_sent(key), what="the relay's commit")
    delivery = NotificationDelivery.objects.get(event_key=key, channel="email")
    assert delivery.attempts == 1
    assert message["Message-ID"].startswith(f"<valuegate.{delivery.idempotency_key}@")


def test_with_redis_down_the_sign_off_succeeds_and_its_notification_is_delivered_once_redis_is_back(
    members, review, celery_worker
):
    with broker(CLOSED_BROKER_URL):
        started = time.monotonic()
        signoff = sign(members, review)
        assert time.monotonic() - started < 10  # a guard against hanging, not a performance check
    notification = Notification.objects.get(event_key=f"signoff-{signoff.pk}-recorded")
    assert notification.dispatched_at is None

    # Redis is back: beat's relay (every minute) delivers it; twice delivers nothing more.
    with broker(TEST_REDIS_URL, celery_worker.queue):
        relay_notifications.delay()
        relay_notifications.delay()
        celery_worker.wait_for(lambda: email_sent(notification.event_key), what="the relay")
        celery_worker.wait_until_idle()
    assert len(emails_to(celery_worker, review.initiative.owner.email)) == 1


def test_a_frozen_redis_that_accepts_connections_but_never_answers_does_not_hang_a_sign_off(members, review):
    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(8)
    try:
        with broker(f"redis://127.0.0.1:{frozen.getsockname()[1]}/0"):
            started = time.monotonic()
            signoff = sign(members, review)
            assert time.monotonic() - started < 20  # bounded by the socket timeout and one retry
    finally:
        frozen.close()
    assert Notification.objects.get(event_key=f"signoff-{signoff.pk}-recorded").dispatched_at is None


def test_the_same_task_message_delivered_twice_sends_each_e_mail_once(members, review, real_broker):
    worker = real_broker
    signoff = sign(members, review)  # queues one relay after commit
    for _ in range(2):
        relay_notifications.apply_async(task_id="one-relay-message")
    worker.wait_for(lambda: email_sent(f"signoff-{signoff.pk}-recorded"), what="the relay")
    worker.wait_until_idle()
    assert len(emails_to(worker, review.initiative.owner.email)) == 1


def test_periodic_tasks_delivered_twice_act_once(members, review, real_broker):
    worker = real_broker
    GateReview.objects.filter(pk=review.pk).update(opened_at=timezone.now() - dt.timedelta(days=4))
    pilot = factories.pilot_ready_for_scale_gate()
    Initiative.objects.filter(pk=pilot.pk).update(pilot_deadline=timezone.now().date() - dt.timedelta(days=2))

    for _ in range(2):
        chase_overdue_signoffs.delay()
        escalate_perpetual_pilots.delay()
    worker.wait_for(lambda: PilotEscalation.objects.exists(), what="the pilot escalation")
    worker.wait_until_idle()

    assert SignOffFollowUp.objects.filter(review=review, kind="reminder").count() == 4
    assert GateReview.objects.filter(initiative=pilot, gate="scale", requested_by=None).count() == 1
    legal = members["legal"].email
    worker.wait_for(lambda: emails_to(worker, legal), what="the reminder e-mail")
    worker.wait_until_idle()
    subjects = [m["Subject"].replace("\n", "") for m in emails_to(worker, legal)]
    assert sum("Reminder" in s for s in subjects) == 1
    assert sum("awaits your sign-off" in s for s in subjects) == 1  # the review opened for the pilot
