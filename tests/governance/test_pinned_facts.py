"""An approval pins every fact the gate reads: change any of them and the approval is stale.

Changes go through the services a project lead uses; the staleness shows the same way in the
service, the API's checklist and the admin's initiative page, because all three evaluate the
gate from the one set of facts whose digest the approval pinned.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from governance.access import roles
from governance.audit.signer_view import signer_view, snapshot_v1
from governance.errors import SegregationOfDuties
from governance.ledger.canonical import sha256_hex
from governance.ledger.chain import ledger_append
from governance.ledger.events import SIGNOFF_RECORDED
from governance.models import Condition, LedgerEvent, SignOff
from governance.reviews.facts import gate_data, initiative_with_gate_data, next_gate_checklist
from governance.reviews.initiatives import (
    business_case_record,
    initiative_create,
    initiative_submit,
    kpi_define,
)
from governance.reviews.queue import awaiting_signoff
from governance.reviews.services import review_open
from governance.reviews.signoffs import ConditionInput, condition_close, signoff_record
from governance.value.services import (
    MeasurementInput,
    evidence_submit,
    experiment_look_record,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from projects.models import Experiment, FinancialEntry
from projects.vocabulary import Outcome, Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db
FOUR = ("business", "legal", "finance", "technical")
# The instant every test starts at (tests/clock.py), never today's date.
NOW = configured_clock()
TODAY = NOW.date()


def sign(review, members, function, decision="approve", **kwargs):
    return signoff_record(
        actor=members[function], review=review, function=function, decision=decision, rationale="ok", **kwargs
    )


def this_month() -> dt.date:
    return TODAY.replace(day=1)


def record_cost(initiative, amount="990000"):
    last_month = FinancialEntry.objects.filter(initiative=initiative).latest("month").month
    financial_entry_record(
        actor=initiative.owner, initiative=initiative, kind="cost", month=last_month, amount=amount
    )


def record_benefit(initiative):
    financial_entry_record(
        actor=initiative.owner, initiative=initiative, kind="benefit", month=this_month(), amount="5"
    )


def record_measurement(initiative):
    kpi = initiative.kpis.get()
    pilot_month = initiative.stage_entered_at.date().replace(day=1)  # measured late, still in the pilot
    measurements_record(
        actor=initiative.owner,
        kpi=kpi,
        measurements=[MeasurementInput(pilot_month, "12.9", "BI warehouse", 100)],
    )


def record_look(initiative):
    experiment = Experiment.objects.get(kpi__initiative=initiative)
    factories.ExperimentLookFactory(experiment=experiment, looked_on=TODAY - dt.timedelta(days=9))
    experiment_look_record(
        actor=initiative.owner,
        experiment=experiment,
        looked_on=TODAY,
        control_size=6000,
        control_successes=600,
        treatment_size=6000,
        treatment_successes=790,
    )


def submit_evidence(initiative):
    evidence_submit(
        actor=initiative.owner,
        initiative=initiative,
        kind="other",
        title="A late note",
        file=ContentFile(b"Written after the approval.\n", name="note.txt"),
    )


CHANGES = {
    "a cost": record_cost,
    "a benefit": record_benefit,
    "a measurement": record_measurement,
    "an experiment's later look": record_look,
    "evidence": submit_evidence,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_fact_recorded_after_an_approval_makes_it_stale_everywhere(members, client, change):
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    for function in FOUR[:3]:
        sign(review, members, function)

    change(initiative)
    sign(review, members, "technical")

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT  # the last approval did not carry it through
    stale = {r.code for r in next_gate_checklist(initiative.pk, now=NOW).failing}
    assert {f"signoff:{f}" for f in FOUR[:3]} <= stale and "signoff:technical" not in stale

    api = APIClient()
    api.force_login(initiative.owner)
    checklist = api.get(f"/api/v1/initiatives/{initiative.pk}/checklist/").json()
    failing = {r["code"]: r["reason"] for r in checklist["requirements"] if not r["passed"]}
    assert "stale" in failing["signoff:finance"]

    members["chair"].is_staff = True  # let into the admin, as the demo's chair is
    members["chair"].save()
    client.force_login(members["chair"])
    page = client.get(reverse("admin:projects_initiative_change", args=[initiative.pk])).content.decode()
    assert "The finance approval is stale" in page


def test_finance_cannot_approve_an_roi_that_a_later_cost_wipes_out(members):
    """Finance approves a projected ROI of 200%; a cost recorded afterwards makes it 5.9%."""
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    sign(review, members, "finance")
    record_cost(initiative, amount="55000")
    for function in ("business", "legal", "technical"):
        sign(review, members, function)

    initiative.refresh_from_db()
    review.refresh_from_db()
    assert initiative.stage == Stage.PILOT and review.is_open
    reasons = {r.code: r.reason for r in next_gate_checklist(initiative.pk, now=NOW).failing}
    assert set(reasons) == {"signoff:finance"}
    sign(review, members, "finance")  # finance looks again at the ROI it now approves
    initiative.refresh_from_db()
    assert initiative.stage == Stage.SCALE


def approve_all_but_technical_with_a_condition(review, members, condition: str) -> None:
    """Three approvals, then technical approves with `condition`, due in a month: the last approval."""
    for function in FOUR[:3]:
        sign(review, members, function)
    sign(
        review,
        members,
        "technical",
        decision="approve_with_conditions",
        conditions=[ConditionInput(condition, TODAY + dt.timedelta(days=30))],
    )


def test_a_review_s_own_conditions_bind_the_next_gate_not_this_one(members):
    """An approval with conditions at the scale gate is a Conditional Go; it neither blocks its own
    review nor makes the other approvals stale."""
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all_but_technical_with_a_condition(review, members, "Monitor drift weekly")

    review.refresh_from_db()
    initiative.refresh_from_db()
    assert (review.outcome, initiative.stage) == (Outcome.CONDITIONAL_GO, Stage.SCALE)


def test_closing_a_condition_of_an_earlier_gate_makes_approvals_given_before_it_stale(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    pilot_review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all_but_technical_with_a_condition(pilot_review, members, "Set up drift monitoring")
    condition = Condition.objects.get()
    scale = factories.pilot_ready_for_scale_gate(owner=initiative.owner)
    Condition.objects.filter(pk=condition.pk).update(initiative=scale)
    review = review_open(actor=scale.owner, initiative=scale)
    sign(review, members, "business")

    condition_close(actor=scale.owner, condition=condition, note="Dashboards live.")

    failing = {r.code for r in next_gate_checklist(scale.pk, now=NOW).failing}
    assert "signoff:business" in failing and "conditions" not in failing


def test_one_person_never_signs_one_review_for_two_functions_even_after_being_superseded(members):
    both = factories.user_in(
        roles.FUNCTION_GROUPS["legal"], roles.FUNCTION_GROUPS["finance"], username="both"
    )
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    signoff_record(actor=both, review=review, function="legal", decision="approve", rationale="ok")
    sign(review, members, "legal")  # another legal member supersedes it

    with pytest.raises(SegregationOfDuties, match="one function only"):
        signoff_record(actor=both, review=review, function="finance", decision="approve", rationale="ok")
    assert not SignOff.objects.filter(review=review, function__code="finance").exists()

    api = APIClient()
    api.force_login(both)
    pending = api.get("/api/v1/signoffs/pending/").json()
    assert [p["functions"] for p in pending if p["review"] == review.pk] == [["legal"]]
    # The queue asks the finance committee, but not the person who signed this review for legal.
    finance_queue = awaiting_signoff(members["finance"], frozenset({"finance"}), now=NOW)
    assert [(item.review.pk, item.functions) for item in finance_queue.items] == [(review.pk, ("finance",))]
    assert awaiting_signoff(both, frozenset({"legal", "finance"}), now=NOW).items == []


def built_through_services():
    """A proposal built through the services alone: KPI, evidence, an experiment with three looks, a cost."""
    lead = factories.lead(username="lead")
    initiative = initiative_create(
        actor=lead, title="Reply drafts", department="Service", pain_point="Slow", process_embedding="Tickets"
    )
    business_case_record(
        actor=lead,
        initiative=initiative,
        budget="1000",
        expected_annual_benefit="5000",
        horizon_months=12,
        exit_criteria="Stop if slower",
    )
    kpi = kpi_define(
        actor=lead,
        initiative=initiative,
        name="Resolved in time",
        unit="share",
        direction="increase",
        baseline="0.4",
        target="0.5",
        data_source="BI",
    )
    initiative_submit(actor=lead, initiative=initiative)
    submit_evidence(initiative)
    today = TODAY
    experiment = experiment_record(
        actor=lead,
        kpi=kpi,
        name="A/B drafts",
        success_definition="resolved in 45 min",
        control_size=1000,
        control_successes=400,
        treatment_size=1000,
        treatment_successes=520,
        looked_on=today - dt.timedelta(days=20),
    )
    for days_ago, scale in ((10, 2), (0, 3)):
        experiment_look_record(
            actor=lead,
            experiment=experiment,
            looked_on=today - dt.timedelta(days=days_ago),
            control_size=1000 * scale,
            control_successes=400 * scale,
            treatment_size=1000 * scale,
            treatment_successes=520 * scale,
        )
    financial_entry_record(actor=lead, initiative=initiative, kind="cost", month=this_month(), amount="250")
    return initiative


def test_a_signoff_on_an_experiment_with_several_looks_rebuilds_from_the_ledger(members, client):
    initiative = built_through_services()
    lead = initiative.owner
    review = review_open(actor=lead, initiative=initiative)
    signoff = sign(review, members, "business")

    event = LedgerEvent.objects.filter(action="signoff.recorded").get()
    view = signer_view(event)
    assert view.matches and view.digest == signoff.digest
    assert [len(e["looks"]) for k in view.facts["kpis"] for e in k["experiments"]] == [3]
    assert [e["amount"] for e in view.facts["costs_and_benefits"]] == [Decimal("250.00")]
    members["auditor"].is_staff = True
    members["auditor"].save()
    client.force_login(members["auditor"])
    page = client.get(reverse("admin:governance_ledgerevent_change", args=[event.pk])).content.decode()
    assert "✔ Rebuilt from the ledger" in page and "control 1200/3000, treatment 1560/3000, 3 looks" in page


def test_every_signoff_of_the_demo_rebuilds_to_its_pinned_digest():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    signoffs = LedgerEvent.objects.filter(action="signoff.recorded").order_by("seq")
    assert signoffs.count() >= 20
    views = [signer_view(event) for event in signoffs]
    assert [v.event.seq for v in views if not v.matches] == []
    assert all(v.facts is not None and not v.gaps for v in views)
    looked_again = [v for v in views if any(len(e["looks"]) > 1 for k in v.kpis for e in k["experiments"])]
    assert looked_again, "the demo has sign-offs of experiments with several looks"
    assert any(v.facts["costs_and_benefits"] for v in views)


def test_a_signoff_recorded_before_the_facts_were_versioned_still_rebuilds_with_every_look(members):
    """Ledgers written before the gate facts hold sign-offs that pinned evidence and KPI data only;
    they rebuild in that older form, each experiment at its latest look."""
    initiative = built_through_services()
    loaded = initiative_with_gate_data(initiative.pk)
    data = gate_data(loaded)
    kpis = sorted(data.kpi_rows, key=lambda k: (not k["is_primary"], k["name"]))
    older_digest = sha256_hex(snapshot_v1(data.evidence_rows, kpis))
    review = review_open(actor=initiative.owner, initiative=initiative)
    with transaction.atomic():
        event = ledger_append(
            actor=members["business"],
            action=SIGNOFF_RECORDED,
            initiative=initiative,
            payload={
                "signoff": 1,
                "review": review.pk,
                "function": "business",
                "decision": "approve",
                "rationale": "Recorded before the facts were versioned.",
                "digest": older_digest,
                "conditions": [],
            },
        )

    view = signer_view(event)
    assert view.matches and view.facts is None
