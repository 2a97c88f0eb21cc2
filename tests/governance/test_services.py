"""Services: each effect, its ledger event and each refusal, with nothing changed on refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from governance.access import roles
from governance.errors import (
    GateNotSatisfied,
    InvalidInput,
    NotACommitteeMember,
    NotAllowed,
    SegregationOfDuties,
    WrongStage,
)
from governance.models import Condition, GateReview, LedgerEvent, Notification, SignOff
from governance.reviews.initiatives import (
    business_case_record,
    initiative_create,
    initiative_submit,
    kpi_define,
)
from governance.reviews.services import initiative_advance, review_hold, review_kill, review_open
from governance.reviews.signoffs import ConditionInput, condition_close, signoff_record
from governance.value.services import (
    MeasurementErrors,
    MeasurementInput,
    evidence_submit,
    experiment_record,
    measurements_record,
)
from projects.models import KPIMeasurement
from projects.vocabulary import Outcome, Stage
from tests import factories

pytestmark = pytest.mark.django_db
FOUR = ("business", "legal", "finance", "technical")


def actions(initiative=None):
    events = LedgerEvent.objects.order_by("seq")
    if initiative is not None:
        events = events.filter(initiative=initiative)
    return list(events.values_list("action", flat=True))


def approve_all(review, members, functions=FOUR, **kwargs):
    for function in functions:
        signoff_record(
            actor=members[function],
            review=review,
            function=function,
            decision="approve",
            rationale="Reviewed the evidence.",
            **kwargs,
        )


# Creating and submitting -----------------------------------------------------------------


def test_a_project_lead_registers_a_draft_they_own_and_the_ledger_records_it():
    lead = factories.lead()
    initiative = initiative_create(
        actor=lead,
        title="Invoice matching",
        department="Finance",
        pain_point="Manual matching",
        process_embedding="ERP matching screen",
    )
    assert initiative.stage == Stage.DRAFT and initiative.owner == lead
    assert actions(initiative) == ["initiative.created"]


def test_only_project_leads_register_initiatives(members):
    with pytest.raises(NotAllowed):
        initiative_create(
            actor=members["legal"], title="x", department="d", pain_point="p", process_embedding="e"
        )
    assert not LedgerEvent.objects.exists()


def test_submission_needs_business_case_and_primary_kpi_then_moves_to_proposal():
    lead = factories.lead()
    initiative = initiative_create(
        actor=lead, title="Copy", department="Marketing", pain_point="Slow copy", process_embedding="PIM"
    )
    with pytest.raises(GateNotSatisfied) as refused:
        initiative_submit(actor=lead, initiative=initiative)
    assert "Business case complete" in refused.value.message
    assert "No primary KPI" in refused.value.message
    initiative.refresh_from_db()
    assert initiative.stage == Stage.DRAFT

    business_case_record(
        actor=lead,
        initiative=initiative,
        budget="100000",
        expected_annual_benefit="300000",
        horizon_months=24,
        exit_criteria="Stop below +10% CTR",
    )
    kpi_define(
        actor=lead,
        initiative=initiative,
        name="CTR",
        unit="ratio",
        direction="increase",
        baseline="0.04",
        target="0.052",
        data_source="Analytics",
    )
    initiative_submit(actor=lead, initiative=initiative)
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL
    assert actions(initiative)[-1] == "initiative.submitted"


def test_a_prohibited_use_cannot_be_submitted():
    initiative = factories.InitiativeFactory(risk_tier="prohibited")
    factories.BusinessCaseFactory(initiative=initiative)
    factories.KPIFactory(initiative=initiative)
    with pytest.raises(GateNotSatisfied, match="prohibited"):
        initiative_submit(actor=initiative.owner, initiative=initiative)


def test_someone_else_cannot_submit_a_lead_s_draft():
    initiative = factories.InitiativeFactory()
    with pytest.raises(NotAllowed):
        initiative_submit(actor=factories.lead(), initiative=initiative)


@pytest.mark.parametrize(
    ("baseline", "target", "direction", "message"),
    [
        ("10", "10", "increase", "differ from the baseline"),
        ("10", "8", "increase", "must exceed the baseline"),
        ("NaN", "8", "increase", "finite"),
        ("10", "Infinity", "increase", "finite"),
        ("10", "1.1234567", "increase", "decimal places"),
        ("1e400", "1", "decrease", "too large"),
    ],
)
def test_bad_kpi_definitions_are_refused_with_a_reason_and_nothing_stored(
    baseline, target, direction, message
):
    initiative = factories.InitiativeFactory()
    with pytest.raises(InvalidInput, match=message):
        kpi_define(
            actor=initiative.owner,
            initiative=initiative,
            name="K",
            unit="%",
            direction=direction,
            baseline=baseline,
            target=target,
            data_source="BI",
        )
    assert not initiative.kpis.exists()
    assert not LedgerEvent.objects.exists()


# Reviews and sign-offs ------------------------------------------------------------------


def test_opening_a_review_pins_the_current_policy_and_notifies_each_function(
    members, django_capture_on_commit_callbacks
):
    initiative = factories.proposal_ready_for_pilot_gate()
    with django_capture_on_commit_callbacks() as callbacks:
        review = review_open(actor=initiative.owner, initiative=initiative)
    assert review.gate == "pilot" and review.policy.version == 1
    assert actions(initiative) == ["review.opened"]
    notified = set(
        Notification.objects.filter(event_key=f"review-{review.pk}-opened").values_list(
            "recipient__username", flat=True
        )
    )
    assert notified == {f"{f}-member" for f in FOUR}
    assert len(callbacks) == 1  # the relay is queued after commit, not before


def test_only_one_open_review_per_initiative(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review_open(actor=initiative.owner, initiative=initiative)
    with pytest.raises(WrongStage, match="already has an open review"):
        review_open(actor=members["chair"], initiative=initiative)


def test_the_last_approval_advances_the_initiative_in_the_same_transaction(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members, FOUR[:3])
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL
    signoff_record(
        actor=members["technical"],
        review=review,
        function="technical",
        decision="approve",
        rationale="Architecture reviewed.",
    )
    initiative.refresh_from_db()
    review.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    assert review.outcome == Outcome.GO
    assert initiative.pilot_deadline == timezone.now().date() + dt.timedelta(days=180)
    assert actions(initiative)[-3:] == ["signoff.recorded", "review.decided", "initiative.transitioned"]


def test_high_risk_needs_risk_and_ethics_too(members):
    initiative = factories.proposal_ready_for_pilot_gate(risk_tier="high")
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members)
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL
    approve_all(review, members, ["risk_ethics"])
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT


def test_a_non_member_cannot_sign_and_nothing_is_recorded(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    with pytest.raises(NotACommitteeMember):
        signoff_record(
            actor=members["finance"], review=review, function="legal", decision="approve", rationale="x"
        )
    assert not SignOff.objects.exists()
    assert actions(initiative) == ["review.opened"]


@pytest.mark.parametrize("who", ["owner", "sponsor", "requester"])
def test_segregation_of_duties_owner_sponsor_and_requester_may_not_sign(members, who):
    sponsor = factories.user_in(roles.FUNCTION_GROUPS["business"])
    initiative = factories.proposal_ready_for_pilot_gate(sponsor=sponsor)
    requester = members["chair"]
    review = review_open(actor=requester, initiative=initiative)
    signer = {"owner": initiative.owner, "sponsor": sponsor, "requester": requester}[who]
    signer.groups.add(members["business"].groups.first())
    with pytest.raises(SegregationOfDuties):
        signoff_record(actor=signer, review=review, function="business", decision="approve", rationale="x")
    assert not SignOff.objects.exists()


def test_one_person_signs_for_one_function_per_review(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    both = members["legal"]
    both.groups.add(members["finance"].groups.first())
    signoff_record(actor=both, review=review, function="legal", decision="approve", rationale="ok")
    with pytest.raises(SegregationOfDuties, match="one function"):
        signoff_record(actor=both, review=review, function="finance", decision="approve", rationale="ok")


def test_a_rationale_is_required(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    with pytest.raises(InvalidInput, match="rationale"):
        signoff_record(
            actor=members["legal"], review=review, function="legal", decision="approve", rationale="  "
        )


def test_a_new_sign_off_supersedes_the_old_and_both_are_kept(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    first = signoff_record(
        actor=members["legal"], review=review, function="legal", decision="approve", rationale="a"
    )
    second = signoff_record(
        actor=members["legal"], review=review, function="legal", decision="approve", rationale="b"
    )
    first.refresh_from_db()
    assert first.superseded_at is not None and second.superseded_at is None
    assert SignOff.objects.filter(review=review).count() == 2
    assert "signoff.superseded" in actions(initiative)


def test_reject_kills_a_proposal(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    signoff_record(
        actor=members["legal"], review=review, function="legal", decision="reject", rationale="Unlawful."
    )
    initiative.refresh_from_db()
    review.refresh_from_db()
    assert (initiative.stage, review.outcome) == (Stage.REJECTED, Outcome.KILL)


def test_request_changes_recycles_a_proposal_to_draft(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    signoff_record(
        actor=members["finance"],
        review=review,
        function="finance",
        decision="request_changes",
        rationale="Budget lacks run costs.",
    )
    initiative.refresh_from_db()
    review.refresh_from_db()
    assert (initiative.stage, review.outcome) == (Stage.DRAFT, Outcome.RECYCLE)


def test_evidence_added_after_signing_makes_the_approval_stale(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members, FOUR[:3])
    evidence_submit(
        actor=initiative.owner,
        initiative=initiative,
        kind="other",
        title="New numbers",
        file=ContentFile(b"changed", name="n.txt"),
    )
    signoff_record(
        actor=members["technical"], review=review, function="technical", decision="approve", rationale="ok"
    )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL
    with pytest.raises(GateNotSatisfied, match="stale"):
        initiative_advance(actor=members["chair"], review=review)
    approve_all(review, members, FOUR[:3])  # signing again on what is there now
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT


def test_an_approval_older_than_the_policy_validity_does_not_count(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    long_ago = timezone.now() - dt.timedelta(days=91)
    approve_all(review, members, FOUR[:3], now=long_ago)
    signoff_record(
        actor=members["technical"], review=review, function="technical", decision="approve", rationale="ok"
    )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL
    with pytest.raises(GateNotSatisfied, match="expired"):
        initiative_advance(actor=members["chair"], review=review)


def test_conditions_make_a_conditional_go_and_block_the_next_gate_until_closed(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members, FOUR[:3])
    due = timezone.now().date() + dt.timedelta(days=30)
    signoff_record(
        actor=members["technical"],
        review=review,
        function="technical",
        decision="approve_with_conditions",
        rationale="Fine with monitoring.",
        conditions=[ConditionInput("Set up drift monitoring", due)],
    )
    review.refresh_from_db()
    assert review.outcome == Outcome.CONDITIONAL_GO
    condition = Condition.objects.get()
    assert condition.owner == initiative.owner

    # Later, at the scale gate, the open condition is a failing requirement.
    pilot = factories.pilot_ready_for_scale_gate(owner=initiative.owner)
    Condition.objects.filter(pk=condition.pk).update(initiative=pilot)
    scale_review = review_open(actor=pilot.owner, initiative=pilot)
    approve_all(scale_review, members)
    pilot.refresh_from_db()
    assert pilot.stage == Stage.PILOT
    with pytest.raises(GateNotSatisfied, match="drift monitoring"):
        initiative_advance(actor=members["chair"], review=scale_review)
    condition_close(actor=initiative.owner, condition=condition, note="Dashboards live.")
    # The approvals were given while the condition was open: closing it is a fact they did not see.
    with pytest.raises(GateNotSatisfied, match="stale"):
        initiative_advance(actor=members["chair"], review=scale_review)
    approve_all(scale_review, members)
    pilot.refresh_from_db()
    assert pilot.stage == Stage.SCALE


def test_approve_with_conditions_needs_a_condition(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    with pytest.raises(InvalidInput, match="at least one condition"):
        signoff_record(
            actor=members["legal"],
            review=review,
            function="legal",
            decision="approve_with_conditions",
            rationale="ok",
        )


def test_a_failing_gate_refuses_to_advance_and_lists_the_failing_requirements(members):
    initiative = factories.pilot_ready_for_scale_gate()
    KPIMeasurement.objects.filter(kpi__initiative=initiative).update(value=Decimal("10.5"))
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members)
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    with pytest.raises(GateNotSatisfied) as refused:
        initiative_advance(actor=members["chair"], review=review)
    assert [r.code for r in refused.value.requirements] == ["targets_met"]
    assert "Conversion rate" in refused.value.message


def test_the_scale_gate_advances_a_pilot_that_met_its_targets(members):
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members)
    initiative.refresh_from_db()
    assert initiative.stage == Stage.SCALE


def test_the_chair_holds_with_a_reason_and_a_revisit_date(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    with pytest.raises(InvalidInput, match="revisit date"):
        review_hold(
            actor=members["chair"], review=review, reason="Budget freeze", revisit_on=timezone.now().date()
        )
    revisit = timezone.now().date() + dt.timedelta(days=60)
    review_hold(actor=members["chair"], review=review, reason="Budget freeze", revisit_on=revisit)
    review.refresh_from_db()
    initiative.refresh_from_db()
    assert (review.outcome, review.revisit_on, initiative.stage) == (Outcome.HOLD, revisit, Stage.PROPOSAL)


def test_only_the_chair_kills_or_holds(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    with pytest.raises(NotAllowed):
        review_kill(actor=members["business"], review=review, reason="No")
    with pytest.raises(NotAllowed):
        review_kill(actor=initiative.owner, review=review, reason="No")
    review_kill(actor=members["chair"], review=review, reason="Duplicate of another initiative.")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.REJECTED


def test_the_chair_kills_a_pilot_at_the_scale_gate_and_it_retires(members):
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    review_kill(actor=members["chair"], review=review, reason="No adoption.")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.RETIRED


def test_a_decided_review_takes_no_more_sign_offs(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    review_kill(actor=members["chair"], review=review, reason="Out of scope.")
    with pytest.raises(WrongStage, match="already decided"):
        signoff_record(
            actor=members["legal"], review=review, function="legal", decision="approve", rationale="x"
        )


def test_the_retire_gate_needs_a_decommission_plan_and_three_functions(members):
    initiative = factories.InitiativeFactory(stage=Stage.SCALE)
    review = review_open(actor=initiative.owner, initiative=initiative)
    assert review.gate == "retire"
    approve_all(review, members, ["business", "finance", "technical"])
    initiative.refresh_from_db()
    assert initiative.stage == Stage.SCALE
    factories.evidence(initiative, "decommission_plan", b"plan")
    approve_all(review, members, ["business", "finance", "technical"])
    initiative.refresh_from_db()
    assert initiative.stage == Stage.RETIRED


def test_transitions_refuse_to_run_without_a_gate_clearance():
    """The model itself refuses: a caller that skips the services cannot move the stage."""
    from django_fsm import TransitionNotAllowed

    initiative = factories.proposal_ready_for_pilot_gate()
    with pytest.raises(TransitionNotAllowed):
        initiative.start_pilot(now=timezone.now(), deadline=None)
    with pytest.raises(AttributeError):
        initiative.stage = Stage.SCALE


# Value data ----------------------------------------------------------------------------------


def test_measurements_are_all_or_nothing_with_per_row_errors():
    initiative = factories.InitiativeFactory(stage=Stage.PILOT)
    kpi = factories.KPIFactory(initiative=initiative)
    rows = [
        MeasurementInput(dt.date(2026, 1, 1), "12.5", "BI"),
        MeasurementInput(dt.date(2026, 2, 1), "NaN", "BI"),
        MeasurementInput(dt.date(2026, 3, 1), float("inf"), "BI"),
        MeasurementInput(dt.date(2026, 4, 15), "12", "BI"),
        MeasurementInput(dt.date(2026, 1, 1), "13", "BI"),
    ]
    with pytest.raises(MeasurementErrors) as refused:
        measurements_record(actor=initiative.owner, kpi=kpi, measurements=rows)
    assert set(refused.value.errors) == {1, 2, 3, 4}
    assert "finite" in refused.value.errors[1]
    assert "first day" in refused.value.errors[3]
    assert "already has" in refused.value.errors[4]
    assert not KPIMeasurement.objects.exists()
    assert not LedgerEvent.objects.exists()

    measurements_record(actor=initiative.owner, kpi=kpi, measurements=rows[:1])
    assert KPIMeasurement.objects.get().value == Decimal("12.5")
    assert actions(initiative) == ["kpi.measurements_recorded"]


def test_a_future_period_is_refused():
    initiative = factories.InitiativeFactory(stage=Stage.PILOT)
    kpi = factories.KPIFactory(initiative=initiative)
    next_year = timezone.now().date().replace(day=1) + dt.timedelta(days=400)
    with pytest.raises(MeasurementErrors, match="has not happened yet"):
        measurements_record(
            actor=initiative.owner,
            kpi=kpi,
            measurements=[MeasurementInput(next_year.replace(day=1), "1", "BI")],
        )


def test_only_the_owner_records_measurements(members):
    kpi = factories.KPIFactory(initiative=factories.InitiativeFactory(stage=Stage.PILOT))
    with pytest.raises(NotAllowed):
        measurements_record(
            actor=members["business"],
            kpi=kpi,
            measurements=[MeasurementInput(dt.date(2026, 1, 1), "1", "BI")],
        )


def test_experiment_counts_are_checked():
    kpi = factories.KPIFactory(initiative=factories.InitiativeFactory(stage=Stage.PILOT))
    owner = kpi.initiative.owner
    with pytest.raises(InvalidInput, match="more successes"):
        experiment_record(
            actor=owner,
            kpi=kpi,
            name="AB",
            success_definition="click",
            control_size=10,
            control_successes=11,
            treatment_size=10,
            treatment_successes=1,
        )
    with pytest.raises(InvalidInput, match="non-negative whole number"):
        experiment_record(
            actor=owner,
            kpi=kpi,
            name="AB",
            success_definition="click",
            control_size=10.5,
            control_successes=1,
            treatment_size=10,
            treatment_successes=1,
        )
    experiment = experiment_record(
        actor=owner,
        kpi=kpi,
        name="AB",
        success_definition="click",
        control_size=10,
        control_successes=1,
        treatment_size=10,
        treatment_successes=2,
    )
    assert experiment.pk and actions(kpi.initiative) == ["experiment.recorded"]


def test_evidence_is_stored_with_its_sha256_under_a_server_chosen_name():
    initiative = factories.InitiativeFactory()
    item = evidence_submit(
        actor=initiative.owner,
        initiative=initiative,
        kind="business_case",
        title="Case",
        file=ContentFile(b"%PDF-1.4 hello", name="passwd.pdf"),
    )
    import hashlib

    assert item.sha256 == hashlib.sha256(b"%PDF-1.4 hello").hexdigest()
    assert "passwd" not in item.file.name and item.file.name.endswith(".bin")
    assert actions(initiative) == ["evidence.submitted"]


def test_nothing_changes_on_a_terminal_initiative():
    initiative = factories.InitiativeFactory(stage=Stage.RETIRED)
    with pytest.raises(WrongStage):
        evidence_submit(
            actor=initiative.owner,
            initiative=initiative,
            kind="other",
            title="x",
            file=ContentFile(b"x", name="x.txt"),
        )
    with pytest.raises(WrongStage):
        review_open(actor=initiative.owner, initiative=initiative)


def test_an_inactive_user_can_do_nothing(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    members["legal"].is_active = False
    members["legal"].save()
    with pytest.raises(NotAllowed):
        signoff_record(
            actor=members["legal"], review=review, function="legal", decision="approve", rationale="x"
        )


def test_reviews_pin_their_policy_version(members):
    from governance.models import GatePolicy

    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    stricter = GatePolicy.objects.get(gate="pilot", version=1)
    stricter.pk = None
    stricter.version = 2
    stricter.required_functions = [*FOUR, "risk_ethics"]
    stricter.save()
    approve_all(review, members)  # still v1: four functions suffice
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    assert GateReview.objects.get(pk=review.pk).policy.version == 1
