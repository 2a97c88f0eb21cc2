"""`manage.py governance_tick`: the periodic work on demand, and the demo's cases left alone."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.notifications.models import Notification
from governance.oversight.models import ExitCriteriaBreach, PilotEscalation
from governance.reviews.models import GateReview
from governance.reviews.signoffs import signoff_record
from governance.value.models import ValueReview
from projects.models import Initiative
from projects.vocabulary import Stage

pytestmark = pytest.mark.django_db


def tick(now: str | None = None) -> str:
    out = io.StringIO()
    args = ("--now", now) if now else ()
    call_command("governance_tick", *args, stdout=out)
    return out.getvalue()


def test_tick_runs_every_job_and_reports_what_each_did(members):
    output = tick("2026-04-05T06:00:00Z")
    assert output.splitlines() == [
        "Governance tick at 2026-04-05 06:00:00 UTC",
        "  KPI measurements read from their sources: 0",
        "  sign-off follow-ups: 0",
        "  exit criteria: 0",
        "  perpetual pilots: 0",
        "  value reviews: 0",
        "  expired idempotency keys: 0",
        "  ledger events sequenced: 0",
        "  ledger checkpoints published: 0",
        "  notifications sent: 0",
    ]


def test_tick_converts_an_offset_to_utc_and_refuses_a_time_without_one(members):
    assert tick("2026-04-05T08:00:00+02:00").startswith("Governance tick at 2026-04-05 06:00:00 UTC")
    with pytest.raises(CommandError, match="has no UTC offset"):
        tick("2026-04-05T08:00:00")
    with pytest.raises(CommandError, match="not an ISO 8601"):
        tick("next tuesday")


def test_tick_relays_notifications_that_waited_in_the_outbox(members):
    from governance.notifications.services import notify

    notify(recipients=[members["chair"]], event_key="waiting", subject="Waiting", body="B")
    assert "notifications sent: 1" in tick()
    assert [m.subject for m in mail.outbox] == ["Waiting"]


@pytest.fixture
def demo(django_user_model):
    call_command("seed_demo", stdout=io.StringIO())
    return {u.username: u for u in django_user_model.objects.all()}


def due_day_now() -> dt.datetime:
    """Now, or the 5th of this month if earlier, so that this month's value reviews are due."""
    now = timezone.now()
    return max(now, now.replace(day=5, hour=6, minute=0, second=0, microsecond=0))


def test_the_retail_pilot_left_alone_is_escalated_and_its_failing_kpi_leads_to_a_retire_review_once(demo):
    retail = Initiative.objects.get(title__startswith="GenAI marketing copy")
    scale_review = GateReview.objects.get(initiative=retail, status="open")
    now = due_day_now().isoformat()

    tick(now)
    # The pilot ended 100 days ago: flagged, the chair told; its scale review stays the only one.
    escalation = PilotEscalation.objects.get(initiative=retail)
    assert escalation.review == scale_review
    assert Notification.objects.filter(
        event_key=f"pilot-{retail.pk}-overdue-{retail.pilot_deadline:%Y%m%d}", recipient=demo["chair"]
    ).exists()
    # Click-through missed its target six months running (the business case allows three).
    breach = ExitCriteriaBreach.objects.get(initiative=retail, kpi__is_primary=True)
    assert (breach.kpi.name, breach.missed_periods, breach.review) == ("Click-through rate", 6, None)
    # And its brand-tone guardrail is beyond its margin: a breach of its own.
    guardrail = ExitCriteriaBreach.objects.get(initiative=retail, kpi__is_guardrail=True)
    assert guardrail.kpi.name.startswith("Brand-tone") and guardrail.review is None
    exit_notices = Notification.objects.filter(
        event_key__startswith=f"exit-criteria-{retail.pk}-", recipient=demo["chair"]
    )
    assert any("Click-through rate missed its target 6 months in a row" in n.body for n in exit_notices)
    value_review = ValueReview.objects.get(initiative=retail)
    assert value_review.recommendation == "retire"
    assert list(GateReview.objects.filter(initiative=retail, status="open")) == [scale_review]

    # The committee's finance member sends the scale review back; the pilot stays a pilot.
    signoff_record(
        actor=demo["finance"],
        review=scale_review,
        function="finance",
        decision="request_changes",
        rationale="ROI is negative; the numbers need rework.",
    )
    tick(now)
    retire = GateReview.objects.get(initiative=retail, status="open")
    assert retire.gate == "retire" and retire.requested_by is None
    assert Notification.objects.filter(
        event_key=f"review-{retire.pk}-opened", recipient=demo["finance"]
    ).exists()

    counts = (GateReview.objects.count(), Notification.objects.count(), ValueReview.objects.count())
    tick(now)
    assert (GateReview.objects.count(), Notification.objects.count(), ValueReview.objects.count()) == counts


def test_the_demo_s_healthy_initiatives_are_reviewed_and_advised_to_continue(demo):
    tick(due_day_now().isoformat())
    advice = dict(ValueReview.objects.values_list("initiative__title", "recommendation"))
    assert advice["Demand forecasting assistant"] == "continue"
    assert set(advice) == set(
        Initiative.objects.filter(stage__in=[Stage.PILOT, Stage.SCALE]).values_list("title", flat=True)
    )
