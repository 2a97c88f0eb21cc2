"""The notification outbox: written with the decision, sent once, kept while Redis or mail is down."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import mail
from django.utils import timezone

from governance.notifications.models import DeliveryState, Notification, NotificationDelivery
from governance.notifications.outbox import relay_pending, retry_delay
from governance.notifications.services import notify, relay_soon
from governance.notifications.tasks import relay_notifications
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def email_of(user, event_key: str | None = None) -> NotificationDelivery:
    """The e-mail delivery of a person's notification."""
    deliveries = NotificationDelivery.objects.filter(channel="email", destination=f"user:{user.pk}")
    if event_key is not None:
        deliveries = deliveries.filter(event_key=event_key)
    return deliveries.get()


def test_an_event_notifies_each_recipient_once_however_often_it_is_queued_and_relayed(members):
    chair = members["chair"]
    for _ in range(2):
        notify(recipients=[chair, chair], event_key="review-1-decided", subject="Decided", body="Go.")
    assert Notification.objects.filter(recipient=chair).count() == 1

    # The relay task delivered twice (a redelivered message, two beat processes): one e-mail.
    relay_notifications.apply()
    relay_notifications.apply()
    assert len(sent_to(chair.email)) == 1
    assert email_of(chair).state == DeliveryState.SENT and email_of(chair).attempts == 1


def test_each_e_mail_carries_a_message_id_fixed_for_its_delivery(members):
    notify(recipients=[members["chair"]], event_key="e-1", subject="S", body="B")
    relay_pending()
    delivery = NotificationDelivery.objects.get()
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<valuegate.vg_delivery_{delivery.pk}@localhost>"


def test_while_the_mail_server_is_down_notifications_wait_and_go_out_once_it_is_back(members, settings):
    notify(recipients=[members["chair"], members["legal"]], event_key="e-2", subject="S", body="B")
    settings.EMAIL_BACKEND = "tests.background.mailservers.Down"
    now = timezone.now()
    result = relay_pending(now=now)
    assert (result.sent, result.failed) == (0, 2)
    waiting = email_of(members["chair"])
    assert waiting.state == DeliveryState.PENDING and waiting.attempts == 1
    assert "Connection refused" in waiting.last_error
    assert waiting.next_attempt_at == now + dt.timedelta(minutes=1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert relay_pending(now=now + dt.timedelta(seconds=30)).sent == 0  # backing off
    assert relay_pending(now=now + dt.timedelta(minutes=1)).sent == 2
    assert len(mail.outbox) == 2
    assert relay_pending(now=now + dt.timedelta(hours=1)).sent == 0


def test_a_refused_address_does_not_hold_up_the_others(members, settings):
    settings.EMAIL_BACKEND = "tests.background.mailservers.RefusesSomeAddresses"
    bounce = factories.UserFactory(username="gone", email="bounce@example.test")
    notify(recipients=[bounce], event_key="e-3", subject="S", body="B")
    notify(recipients=[members["chair"]], event_key="e-3", subject="S", body="B")
    result = relay_pending()
    assert (result.sent, result.failed) == (1, 1)
    assert len(sent_to(members["chair"].email)) == 1
    assert "SMTPRecipientsRefused" in email_of(bounce).last_error


def test_retries_back_off_exponentially_up_to_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3)] == [dt.timedelta(minutes=m) for m in (1, 2, 4)]
    assert retry_delay(20) == dt.timedelta(hours=6)


def test_one_decision_queues_one_relay_after_commit(members, django_capture_on_commit_callbacks):
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    for function in ("business", "legal", "finance"):
        signoff_record(
            actor=members[function], review=review, function=function, decision="approve", rationale="ok"
        )
    with django_capture_on_commit_callbacks() as callbacks:
        # The last approval records a sign-off and decides the review: two events, one relay.
        signoff_record(
            actor=members["technical"],
            review=review,
            function="technical",
            decision="approve",
            rationale="ok",
        )
    assert Notification.objects.filter(event_key__endswith="-recorded").count() == 4
    assert Notification.objects.filter(event_key=f"review-{review.pk}-decided").exists()
    assert callbacks.count(relay_soon) == 1


def test_a_sign_off_succeeds_while_redis_is_down_and_its_notification_waits_in_the_outbox(
    members, broker_down, django_capture_on_commit_callbacks
):
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    Notification.objects.update(dispatched_at=configured_clock())  # the review's own notifications went out
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        signoff = signoff_record(
            actor=members["legal"], review=review, function="legal", decision="approve", rationale="ok"
        )
    assert time.monotonic() - started < 10  # a guard against hanging, not a performance check
    assert signoff.pk is not None
    waiting = Notification.objects.get(event_key=f"signoff-{signoff.pk}-recorded")
    assert waiting.dispatched_at is None and not waiting.deliveries.exists()
    assert mail.outbox == []

    # The periodic relay (beat, or governance_tick) sends it once the way is clear.
    relay_pending()
    relay_pending()
    assert len(sent_to(initiative.owner.email)) == 1
