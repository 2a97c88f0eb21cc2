"""Every notification's subject, with a hostile initiative title, stays one capped line on every
channel: titles stored before input refused control characters still cannot break a message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from governance.notifications.delivery import relay
from governance.notifications.events import NotificationEvent
from governance.notifications.models import DeliveryState, Notification, NotificationDelivery
from governance.reviews.services import review_kill, review_open
from governance.reviews.signoffs import signoff_record
from governance.schedule import (
    exit_criteria_enforce,
    overdue_signoffs_chase,
    perpetual_pilots_escalate,
    value_reviews_open,
)
from projects.models import Initiative
from projects.text import control_characters
from tests import factories
from tests.background.test_periodic import at, failing_pilot, measure

pytestmark = pytest.mark.django_db

HOSTILE_TITLES = [
    "Churn model\r\nBcc: x@evil.test",
    "\u202eledom nruhC\u200b\t" + "x" * 180,
    "客户流失\n" + "预测模型" * 48,
]


def hostile(initiative: Initiative, title: str) -> Initiative:
    Initiative.objects.filter(pk=initiative.pk).update(title=title)
    initiative.refresh_from_db()
    return initiative


@pytest.mark.parametrize("title", HOSTILE_TITLES, ids=["header-injection", "bidi-and-long", "chinese-long"])
def test_every_event_s_subject_is_one_capped_line_with_a_hostile_title(members, title):
    # Review opened, sign-off reminders and the chair's escalation.
    chased = hostile(factories.pilot_ready_for_scale_gate(), title)
    review_open(actor=chased.owner, initiative=chased, now=at("2026-03-02T09:00:00+00:00"))
    overdue_signoffs_chase(now=at("2026-03-05T09:00:00+00:00"))
    overdue_signoffs_chase(now=at("2026-03-09T09:00:00+00:00"))
    # Sign-off recorded, review decided (Kill), initiative transitioned.
    killed = hostile(factories.pilot_ready_for_scale_gate(), title)
    review = review_open(actor=killed.owner, initiative=killed)
    signoff_record(
        actor=members["legal"], review=review, function="legal", decision="approve", rationale="ok"
    )
    review_kill(actor=members["chair"], review=review, reason="Not worth it.")
    # A perpetual pilot.
    overdue = hostile(factories.pilot_ready_for_scale_gate(), title)
    Initiative.objects.filter(pk=overdue.pk).update(pilot_deadline=dt.date(2026, 3, 1))
    perpetual_pilots_escalate(now=at("2026-03-02T06:00:00+00:00"))
    # Exit criteria met (KPIs missed), the monthly value review and KPIs overdue.
    failing, kpi = failing_pilot(missed_periods=3)
    hostile(failing, title)
    for month, value in ((1, "11"), (2, "11.5"), (3, "12")):
        measure(kpi, month, value)
    exit_criteria_enforce(now=at("2026-04-10T00:00:00+00:00"))
    value_reviews_open(now=at("2026-05-05T08:00:00+00:00"))

    events = set(Notification.objects.values_list("event", flat=True))
    assert events >= {
        NotificationEvent.REVIEW_OPENED,
        NotificationEvent.SIGNOFF_REMINDER,
        NotificationEvent.SIGNOFF_ESCALATED,
        NotificationEvent.SIGNOFF_RECORDED,
        NotificationEvent.REVIEW_DECIDED,
        NotificationEvent.INITIATIVE_TRANSITIONED,
        NotificationEvent.PILOT_OVERDUE,
        NotificationEvent.KPI_MISSED,
        NotificationEvent.VALUE_REVIEW_OPENED,
        NotificationEvent.KPI_OVERDUE,
    }
    for subject in Notification.objects.values_list("subject", flat=True):
        assert not control_characters(subject) and len(subject) <= 200, subject

    relay(now=at("2026-06-01T00:00:00+00:00"))
    assert NotificationDelivery.objects.exists()
    assert not NotificationDelivery.objects.exclude(state=DeliveryState.SENT).exists()
    assert mail.outbox
    for message in mail.outbox:
        assert not control_characters(message.subject) and len(message.subject) <= 150, message.subject
        rendered = message.message()
        assert rendered["Bcc"] is None and "x@evil.test" not in message.recipients()
