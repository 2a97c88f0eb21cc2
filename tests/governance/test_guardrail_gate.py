"""Guardrail KPIs: defined with a non-inferiority margin, required at the scale gate, watched by the
monthly value review, where a breach proposes a retire review."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from governance.errors import InvalidInput
from governance.ledger.models import LedgerEvent
from governance.oversight.models import ExitCriteriaBreach
from governance.oversight.value_reviews import exit_criteria_enforce
from governance.reasons import say
from governance.reviews.facts import next_gate_checklist
from governance.reviews.initiatives import kpi_define
from governance.reviews.models import GateReview
from governance.rules.value import RETIRE, ValueInputs, assess_value
from governance.value.selectors import value_inputs, value_tracked_initiatives
from projects.models import KPI
from projects.vocabulary import Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db
NOW = configured_clock()


def requirement(evaluation, code):
    return next((r for r in evaluation.requirements if r.code == code), None)


def brand_tone(initiative, **kwargs) -> KPI:
    fields = {
        "name": "Brand-tone violations",
        "unit": "per 1,000 messages",
        "direction": "decrease",
        "baseline": Decimal("4"),
        "target": Decimal("3"),
        "is_primary": False,
        "is_guardrail": True,
        "non_inferiority_margin": Decimal("1.5"),
    }
    return factories.KPIFactory(initiative=initiative, **{**fields, **kwargs})


# Defining a guardrail ------------------------------------------------------------------------------


def guardrail_input(**changes):
    return {
        "name": "Complaint rate",
        "unit": "%",
        "direction": "decrease",
        "baseline": "2",
        "target": "1.8",
        "data_source": "CRM",
        "is_primary": False,
        "is_guardrail": True,
        "non_inferiority_margin": "0.5",
        **changes,
    }


def test_a_lead_defines_a_guardrail_and_the_ledger_pins_its_margin():
    initiative = factories.InitiativeFactory()

    kpi = kpi_define(actor=initiative.owner, initiative=initiative, **guardrail_input())

    assert (kpi.is_guardrail, kpi.is_primary, kpi.non_inferiority_margin) == (True, False, Decimal("0.5"))
    event = LedgerEvent.objects.filter(initiative_id=initiative.pk, action="kpi.defined").get()
    payload = json.loads(event.payload)
    assert (payload["is_guardrail"], payload["non_inferiority_margin"]) == (True, "0.5")


def test_a_kpi_that_is_no_guardrail_keeps_the_event_it_had():
    initiative = factories.InitiativeFactory()
    kpi_define(
        actor=initiative.owner,
        initiative=initiative,
        **guardrail_input(is_guardrail=False, non_inferiority_margin=None, is_primary=True),
    )
    payload = json.loads(LedgerEvent.objects.get(initiative_id=initiative.pk, action="kpi.defined").payload)
    assert "is_guardrail" not in payload and "non_inferiority_margin" not in payload


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"non_inferiority_margin": None}, "needs a non-inferiority margin"),
        ({"non_inferiority_margin": "0"}, "must be a positive number"),
        ({"non_inferiority_margin": "-0.5"}, "must be a positive number"),
        ({"non_inferiority_margin": "NaN"}, "Non-inferiority margin"),
        ({"is_primary": True}, "cannot be a primary KPI"),
        ({"is_guardrail": False}, "Only a guardrail KPI has a non-inferiority margin"),
    ],
)
def test_a_bad_guardrail_is_refused_with_a_reason_and_nothing_changes(changes, message):
    initiative = factories.InitiativeFactory()
    with pytest.raises(InvalidInput, match=message):
        kpi_define(actor=initiative.owner, initiative=initiative, **guardrail_input(**changes))
    assert not KPI.objects.filter(initiative=initiative).exists()
    assert not LedgerEvent.objects.filter(initiative_id=initiative.pk, action="kpi.defined").exists()


def test_the_model_and_the_database_refuse_a_primary_guardrail():
    kpi = factories.KPIFactory.build(
        initiative=factories.InitiativeFactory(), is_guardrail=True, non_inferiority_margin=Decimal("1")
    )
    with pytest.raises(ValidationError):
        kpi.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        kpi.save()


def test_the_api_defines_a_guardrail_and_shows_its_margin():
    initiative = factories.InitiativeFactory()
    api = APIClient()
    api.force_authenticate(initiative.owner)

    response = api.post(f"/api/v1/initiatives/{initiative.pk}/kpis/", guardrail_input(), format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["is_guardrail"], response.json()["non_inferiority_margin"]) == (True, "0.5")
    refused = api.post(
        f"/api/v1/initiatives/{initiative.pk}/kpis/",
        guardrail_input(name="Escalations", non_inferiority_margin="0"),
        format="json",
    )
    assert refused.status_code == 400
    assert "positive" in json.dumps(refused.json())


# The scale gate ------------------------------------------------------------------------------------


def test_without_a_guardrail_the_scale_gate_s_checklist_is_as_it_was():
    initiative = factories.pilot_ready_for_scale_gate()
    assert requirement(next_gate_checklist(initiative.pk, now=NOW), "guardrails") is None


def test_a_guardrail_measured_beyond_its_margin_blocks_the_go_in_words_a_committee_reads():
    initiative = factories.pilot_ready_for_scale_gate()
    kpi = brand_tone(initiative)
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 9, 1), value=Decimal("4.8"))
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 10, 1), value=Decimal("6.2"))

    checklist = next_gate_checklist(initiative.pk, now=NOW)

    line = requirement(checklist, "guardrails")
    assert not line.passed and not checklist.evidence_requirements_passed()
    assert [r.code for r in checklist.failing if not r.code.startswith("signoff:")] == ["guardrails"]
    assert say(line.label) == (
        "Guardrail KPIs do not degrade beyond their non-inferiority margins (always-valid test, one-sided, "
        "α = 0.05)"
    )
    assert say(line.reason) == (
        "Not shown within the margin: Brand-tone violations is 6.2 per 1,000 messages (2026-10) against a baseline "
        "of 4: +2.2 per 1,000 messages worse, beyond the margin of 1.5 per 1,000 messages."
    )


def test_a_guardrail_within_its_margin_lets_the_gate_pass():
    initiative = factories.pilot_ready_for_scale_gate()
    kpi = brand_tone(initiative)
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 10, 1), value=Decimal("5.5"))  # +1.5

    line = requirement(next_gate_checklist(initiative.pk, now=NOW), "guardrails")

    assert line.passed
    assert "within the margin of 1.5 per 1,000 messages" in say(line.reason)


def test_an_experiment_on_a_guardrail_decides_it_one_sided_and_always_valid():
    initiative = factories.pilot_ready_for_scale_gate()
    kpi = brand_tone(initiative)
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 10, 1), value=Decimal("4"))
    # 0.4% of messages in control, 0.62% under treatment: worse by 2.2 per 1,000, margin 1.5.
    factories.experiment_with_looks(
        kpi,
        [
            (dt.date(2026, 8, 28), (20_000, 80, 20_000, 124)),
            (dt.date(2026, 9, 28), (40_000, 160, 40_000, 248)),
        ],
        name="Tone model",
    )

    checklist = next_gate_checklist(initiative.pk, now=NOW)

    line = requirement(checklist, "guardrails")
    assert not line.passed
    words = say(line.reason)
    assert words.startswith(
        "Not shown within the margin: “Tone model” on Brand-tone violations: the treatment may be"
    )
    assert "(always-valid 95% bound after 2 looks), beyond the margin of 1.5 per 1,000 messages." in words
    # The guardrail's experiment is not asked to show an improvement.
    assert "Tone model" not in say(requirement(checklist, "experiments").reason)


def test_a_harmless_treatment_on_a_guardrail_holds():
    initiative = factories.pilot_ready_for_scale_gate()
    kpi = brand_tone(initiative)
    factories.experiment_with_looks(
        kpi, [(dt.date(2026, 9, 28), (200_000, 800, 200_000, 790))], name="Tone model"
    )

    line = requirement(next_gate_checklist(initiative.pk, now=NOW), "guardrails")

    assert line.passed, say(line.reason)
    assert "the treatment is worse by at most" in say(line.reason)


# The monthly value review --------------------------------------------------------------------------


def scaled_with_guardrail(*values: str):
    initiative = factories.InitiativeFactory(
        stage=Stage.SCALE, stage_entered_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    factories.BusinessCaseFactory(initiative=initiative, missed_periods_to_retire=3)
    primary = factories.KPIFactory(initiative=initiative, name="Conversion rate")
    kpi = brand_tone(initiative)
    for month, value in enumerate(values, start=1):
        factories.MeasurementFactory(kpi=primary, period=dt.date(2026, month, 1), value=Decimal("14"))
        factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, month, 1), value=Decimal(value))
    return initiative, kpi


def assessment(initiative, month: dt.date):
    loaded = value_tracked_initiatives([initiative.pk]).get()
    inputs: ValueInputs = value_inputs(loaded, month=month)
    return assess_value(inputs)


def test_the_value_review_proposes_retiring_an_initiative_whose_guardrail_is_breached():
    initiative, _ = scaled_with_guardrail("4.2", "5.0", "6.1")

    within = assessment(initiative, dt.date(2026, 2, 1))
    assert within.recommendation != RETIRE
    breached = assessment(initiative, dt.date(2026, 3, 1))

    assert breached.recommendation == RETIRE
    assert [say(r) for r in breached.reasons] == [
        "Guardrail breached: Brand-tone violations is 6.1 per 1,000 messages (2026-03) against a baseline "
        "of 4: +2.1 per 1,000 messages worse, beyond the margin of 1.5 per 1,000 messages. A guardrail "
        "beyond its margin proposes a retire review."
    ]


def test_a_breached_guardrail_opens_a_retire_review_once(members):
    initiative, kpi = scaled_with_guardrail("4.2", "5.0")
    assert exit_criteria_enforce(now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC)) == 0

    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 3, 1), value=Decimal("6.1"))
    assert exit_criteria_enforce(now=dt.datetime(2026, 4, 10, tzinfo=dt.UTC)) == 2  # breach and review

    review = GateReview.objects.get(initiative=initiative)
    assert (review.gate, review.status) == ("retire", "open")
    breach = ExitCriteriaBreach.objects.get()
    assert (breach.kpi, breach.first_missed_period, breach.review) == (kpi, dt.date(2026, 3, 1), review)
    # Still beyond the next month: the same breach, no second review.
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 4, 1), value=Decimal("6.3"))
    assert exit_criteria_enforce(now=dt.datetime(2026, 5, 10, tzinfo=dt.UTC)) == 0
    assert ExitCriteriaBreach.objects.count() == 1


def test_the_initiative_page_marks_a_guardrail_with_its_margin(client):
    initiative = factories.pilot_ready_for_scale_gate()
    brand_tone(initiative)
    initiative.owner.is_staff = True
    initiative.owner.save()
    client.force_login(initiative.owner)

    response = client.get(reverse("admin:projects_initiative_change", args=[initiative.pk]))

    assert response.status_code == 200
    assert "(guardrail, may degrade by at most 1.5)" in response.content.decode()
