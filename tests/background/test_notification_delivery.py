"""Notifications never jam: each delivery is tried alone, a poison one goes dead, nothing raised by
sending reaches the decision, and dead deliveries are seen and retried by those who may."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from governance.access import roles
from governance.errors import InvalidInput, NotAllowed
from governance.ledger.models import LedgerEvent
from governance.notifications import delivery as relay_module
from governance.notifications.delivery import delivery_retry, relay, retry_delay
from governance.notifications.models import DeliveryState, Notification, NotificationDelivery
from governance.notifications.services import notify
from governance.reviews.models import SignOff
from governance.reviews.services import review_open
from projects.models import Initiative
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

HOSTILE_TITLE = "Churn model\r\nBcc: x@evil.test"


def a_hostile_initiative_already_stored() -> Initiative:
    """A title written before titles refused line breaks (input refuses it now: test_single_line.py)."""
    initiative = factories.pilot_ready_for_scale_gate()
    Initiative.objects.filter(pk=initiative.pk).update(title=HOSTILE_TITLE)
    initiative.refresh_from_db()
    return initiative


def sign_page(review) -> str:
    return reverse("admin:governance_gatereview_sign", args=[review.pk])


SIGN_FORM = {
    "conditions-TOTAL_FORMS": "0",
    "conditions-INITIAL_FORMS": "0",
    "function": "legal",
    "decision": "approve",
    "rationale": "Reviewed.",
}


def test_a_title_with_a_header_injection_goes_through_a_sign_off_end_to_end(
    members, client, django_capture_on_commit_callbacks
):
    initiative = a_hostile_initiative_already_stored()
    review = review_open(actor=initiative.owner, initiative=initiative)  # notifies every function
    legal = members["legal"]
    legal.is_staff = True
    legal.save(update_fields=["is_staff"])
    client.force_login(legal)

    # Without a broker the relay runs in the request, after the sign-off committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sign_page(review), SIGN_FORM)

    assert response.status_code == 302  # recorded, not a 500 after the commit
    assert SignOff.objects.filter(review=review, reviewer=legal).exists()
    to_owner = [m for m in mail.outbox if m.to == [initiative.owner.email]]
    assert len(to_owner) == 1
    for message in mail.outbox:
        assert "\r" not in message.subject and "\n" not in message.subject
        assert "Churn model Bcc: x@evil.test" in message.subject  # the words kept, on one line
        assert message.bcc == [] and "x@evil.test" not in message.recipients()
        rendered = message.message()
        assert rendered["Bcc"] is None
        assert "Churn model Bcc" in str(rendered["Subject"]).replace("\n", "").replace("  ", " ")
    assert not NotificationDelivery.objects.exclude(state=DeliveryState.SENT).exists()


def test_nothing_raised_by_the_relay_reaches_a_decision_made_without_redis(
    members, client, monkeypatch, django_capture_on_commit_callbacks
):
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    legal = members["legal"]
    legal.is_staff = True
    legal.save(update_fields=["is_staff"])
    client.force_login(legal)

    def broken_relay(**kwargs):
        raise RuntimeError("a bug in the relay")

    monkeypatch.setattr(relay_module, "relay", broken_relay)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(sign_page(review), SIGN_FORM)
    assert callbacks  # the relay was asked for, and failed, after the commit
    assert response.status_code == 302
    signoff = SignOff.objects.get(review=review, reviewer=legal)
    # Kept in the outbox for the periodic relay.
    assert Notification.objects.get(event_key=f"signoff-{signoff.pk}-recorded").dispatched_at is None


def test_a_poison_notification_goes_dead_after_n_attempts_while_a_thousand_others_are_delivered(
    members, settings
):
    settings.VALUEGATE_NOTIFICATION_MAX_ATTEMPTS = 3
    chair = members["chair"]
    # The oldest row, and one that no mail system takes: an address with a line break in it.
    poison = factories.UserFactory(username="poison", email="poison\n@example.test")
    notify(recipients=[poison], event_key="poison-1", subject="Poison", body="B")
    now = configured_clock()
    rows = [
        Notification(
            recipient=chair, event_key=f"e-{n}", subject=f"Notification {n}", body="B", created_at=now
        )
        for n in range(1000)
    ]
    Notification.objects.bulk_create(rows)

    first = relay(now=now, limit=2000)
    assert (first.sent, first.failed, first.dead) == (1000, 1, 0)  # the poison held up nobody
    assert len(mail.outbox) == 1000

    attempts_at = now
    for attempt in (2, 3):
        attempts_at += retry_delay(attempt - 1)
        result = relay(now=attempts_at)
        assert (result.sent, result.failed) == (0, 1)
    dead = NotificationDelivery.objects.get(event_key="poison-1")
    assert dead.state == DeliveryState.DEAD and dead.attempts == 3
    assert "BadHeaderError" in dead.last_error  # what jammed the old relay, now one row's own failure
    # Dead is final: later relays leave it alone and send the new ones.
    notify(recipients=[chair], event_key="after", subject="After", body="B")
    later = relay(now=attempts_at + dt.timedelta(days=1))
    assert (later.sent, later.failed) == (1, 0)
    assert NotificationDelivery.objects.filter(state=DeliveryState.SENT).count() == 1001


def a_dead_delivery(members) -> NotificationDelivery:
    notify(recipients=[members["chair"]], event_key="dead-1", subject="S", body="B")
    relay()
    delivery = NotificationDelivery.objects.get(event_key="dead-1")
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.DEAD, attempts=8, last_error="SMTPRecipientsRefused: 550"
    )
    delivery.refresh_from_db()
    return delivery


def test_the_chair_retries_a_dead_delivery_and_it_goes_out_again(members):
    delivery = a_dead_delivery(members)
    mail.outbox.clear()
    delivery_retry(actor=members["chair"], delivery=delivery)
    relay()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 1
    assert len(mail.outbox) == 1
    event = LedgerEvent.objects.get(action="notification.retried")
    assert event.actor == members["chair"]


def test_only_the_chair_and_governance_admins_retry_and_only_a_dead_delivery(members):
    delivery = a_dead_delivery(members)
    for who in (members["legal"], factories.lead()):
        with pytest.raises(NotAllowed):
            delivery_retry(actor=who, delivery=delivery)
    admin = factories.user_in(roles.GOVERNANCE_ADMINS)
    delivery_retry(actor=admin, delivery=delivery)
    with pytest.raises(InvalidInput, match="not dead"):
        delivery_retry(actor=admin, delivery=delivery)


def test_dead_deliveries_are_listed_retried_and_counted_in_the_admin_for_the_chair(
    members, client, django_capture_on_commit_callbacks
):
    delivery = a_dead_delivery(members)
    chair = members["chair"]
    chair.is_staff = True
    chair.save(update_fields=["is_staff"])
    client.force_login(chair)
    changelist = reverse("admin:governance_notificationdelivery_changelist")
    page = client.get(changelist + "?state__exact=dead")
    assert page.status_code == 200 and "SMTPRecipientsRefused" in page.content.decode()
    dashboard = client.get(reverse("admin:projects_initiative_dashboard")).content.decode()
    assert 'id="dead-deliveries"' in dashboard and '<strong class="vg-fail">1</strong>' in dashboard
    assert client.get("/health/").json()["dead_notifications"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry_selected", "_selected_action": [str(delivery.pk)]}
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT  # retried, and relayed after the action committed
    assert client.get("/health/").json()["dead_notifications"] == 0


def test_a_committee_member_neither_sees_deliveries_nor_the_dead_count(members, client):
    a_dead_delivery(members)
    legal = members["legal"]
    legal.is_staff = True
    legal.save(update_fields=["is_staff"])
    client.force_login(legal)
    assert client.get(reverse("admin:governance_notificationdelivery_changelist")).status_code == 403
    dashboard = client.get(reverse("admin:projects_initiative_dashboard")).content.decode()
    assert 'id="dead-deliveries"' not in dashboard


def test_a_title_long_enough_to_overflow_the_subject_opens_a_review_on_every_database(members):
    initiative = factories.pilot_ready_for_scale_gate(title="Forecasting " + "demand " * 26 + "end")
    assert 190 <= len(initiative.title) <= 200
    review = review_open(actor=initiative.owner, initiative=initiative)
    subjects = set(
        Notification.objects.filter(event_key=f"review-{review.pk}-opened").values_list("subject", flat=True)
    )
    (subject,) = subjects
    assert len(subject) <= 200 and subject.endswith("…")
    assert subject.startswith("[ValueGate] Scale gate awaits your sign-off: Forecasting demand")
    assert " dema…" not in subject  # cut at a word boundary
    assert connection.vendor in ("sqlite", "postgresql")


def test_each_message_links_to_the_admin_page_where_the_recipient_acts(members, settings):
    settings.VALUEGATE_BASE_URL = "https://valuegate.example.com/"
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    relay()
    link = f"https://valuegate.example.com{reverse('admin:governance_gatereview_change', args=[review.pk])}"
    to_legal = [m for m in mail.outbox if m.to == [members["legal"].email]]
    assert len(to_legal) == 1
    assert link in to_legal[0].body
    assert "sign off for your function" in to_legal[0].body


def test_each_person_sees_their_own_notifications_on_the_admin_index_with_the_unread_count(members, client):
    lead = factories.lead(is_staff=True)
    other = members["legal"]
    notify(recipients=[lead], event_key="mine-1", subject="Your pilot is overdue", body="B")
    notify(recipients=[lead], event_key="mine-2", subject="Your review was decided", body="B")
    notify(recipients=[other], event_key="theirs-1", subject="Someone else's sign-off request", body="B")
    Notification.objects.filter(event_key="mine-2").update(read_at=configured_clock())
    client.force_login(lead)
    index = client.get(reverse("admin:index")).content.decode()
    assert "(1 unread)" in index
    assert "Your pilot is overdue" in index and "Your review was decided" in index
    assert "Someone else" not in index
    listed = client.get(reverse("admin:governance_notification_changelist")).content.decode()
    assert "Your pilot is overdue" in listed and "Someone else" not in listed
    # Marking read: one's own only.
    theirs = Notification.objects.get(event_key="theirs-1")
    client.post(
        reverse("admin:governance_notification_changelist"),
        {"action": "mark_read", "_selected_action": [str(n.pk) for n in Notification.objects.all()]},
    )
    assert "(0 unread)" in client.get(reverse("admin:index")).content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None
