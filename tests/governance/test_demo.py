"""The demo data and its two cases from the field."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance.errors import GateNotSatisfied
from governance.ledger.models import LedgerEvent
from governance.ledger.verification import verify_ledger
from governance.reasons import say
from governance.reviews.facts import next_gate_checklist
from governance.reviews.models import GateReview
from governance.reviews.services import initiative_advance
from governance.reviews.signoffs import signoff_record
from projects.models import Initiative
from projects.vocabulary import Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(django_user_model):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    return {u.username: u for u in django_user_model.objects.all()}


def test_seed_demo_fills_every_stage_and_is_safe_to_run_twice(demo):
    events = LedgerEvent.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert LedgerEvent.objects.count() == events
    assert set(Initiative.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert verify_ledger().count == events


def test_retail_copy_pilot_fails_its_scale_gate_naming_the_kpi(demo):
    initiative = Initiative.objects.get(title__startswith="GenAI marketing copy")
    checklist = next_gate_checklist(initiative.pk, now=timezone.now())
    failing = {r.code: say(r.reason) for r in checklist.failing}
    assert "Click-through rate is 0.0409" in failing["targets_met"]
    assert "+2.3% relative" in failing["experiments"]
    assert "ROI" in failing["roi"]
    # The brand-tone guardrail is beyond its margin, in the words the committee reads.
    assert failing["guardrails"] == (
        "Not shown within the margin: Brand-tone violations is 3.8 per 1,000 messages ("
        + f"{initiative.kpis.get(is_guardrail=True).measurements.order_by('period').last().period:%Y-%m}"
        + ") against a baseline of 2: +1.8 per 1,000 messages worse, beyond the margin of 1 per 1,000 "
        "messages."
    )
    review = GateReview.objects.get(initiative=initiative, status="open")
    for function in ("business", "legal", "finance", "technical"):
        signoff_record(
            actor=demo[function], review=review, function=function, decision="approve", rationale="ok"
        )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    with pytest.raises(GateNotSatisfied, match="Click-through rate"):
        initiative_advance(actor=demo["chair"], review=review)


def test_customer_service_assistant_scales_once_four_functions_signed(demo):
    initiative = Initiative.objects.get(title="Customer-service reply assistant")
    review = GateReview.objects.get(initiative=initiative, status="open")
    checklist = next_gate_checklist(initiative.pk, now=timezone.now())
    assert {r.code for r in checklist.failing} == {
        f"signoff:{f}" for f in ("business", "legal", "finance", "technical")
    }
    for function in ("business", "legal", "finance", "technical"):
        initiative.refresh_from_db()
        assert initiative.stage == Stage.PILOT
        signoff_record(
            actor=demo[function],
            review=review,
            function=function,
            decision="approve",
            rationale="First response time beat its target with a significant experiment.",
        )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.SCALE
