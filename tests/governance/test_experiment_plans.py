"""Pre-registered experiment plans: pinned in the ledger, checked at both gates.

A lead registers a KPI's plan before its experiment's data; a change after the first look needs a
reason and stays visible (the checklist, the signer's snapshot, a policy that refuses a Go on it).
The scale gate tests every look's arm sizes against the planned split; the pilot gate refuses a
plan whose traffic can never show its minimum effect and sets the pilot's time box from the power
calculation when it passes.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.audit.signer_view import signer_view
from governance.errors import InvalidInput, NotAllowed
from governance.ledger.models import LedgerEvent
from governance.reasons import say
from governance.reviews.facts import next_gate_checklist
from governance.reviews.policies import policy_version_create
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.value.plans import PlanInput, experiment_plan_register
from governance.value.services import experiment_record
from projects.models import ExperimentPlan
from projects.power import pilot_deadline
from projects.vocabulary import Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db
FOUR = ("business", "legal", "finance", "technical")
NOW = configured_clock()
TODAY = NOW.date()

EVEN = PlanInput(minimum_effect="2", treatment_share="0.5", planned_looks=6, traffic_per_month=10_000)


def approve_all(review, members, functions=FOUR):
    for function in functions:
        signoff_record(
            actor=members[function], review=review, function=function, decision="approve", rationale="ok"
        )


def plan_events(initiative):
    return [
        (event.action, json.loads(event.payload))
        for event in LedgerEvent.objects.filter(
            initiative_id=initiative.pk, action__startswith="experiment_plan."
        ).order_by("id")
    ]


def requirement(evaluation, code):
    return next(r for r in evaluation.requirements if r.code == code)


# Registration ------------------------------------------------------------------------------------


def test_a_lead_registers_a_plan_and_the_ledger_pins_it():
    initiative = factories.proposal_ready_for_pilot_gate()
    kpi = initiative.kpis.get()

    plan = experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=EVEN, now=NOW)

    assert (plan.version, plan.changed_after_data, plan.treatment_share) == (1, False, Decimal("0.5"))
    [(action, payload)] = plan_events(initiative)
    assert action == "experiment_plan.registered"
    assert payload["replaces"] is None
    assert payload["registered"] == {
        "metric": "proportion",
        "baseline": None,
        "minimum_effect": "2",
        "treatment_share": "0.5",
        "planned_looks": 6,
        "traffic_per_month": 10000,
        "standard_deviation": None,
        "notes": "",
    }


def test_a_relative_lift_is_converted_to_the_kpi_s_unit():
    initiative = factories.proposal_ready_for_pilot_gate()
    kpi = initiative.kpis.get()  # baseline 10 (%)
    lift = PlanInput(relative_lift="0.3", treatment_share="0.5", planned_looks=6, traffic_per_month=10_000)

    plan = experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=lift, now=NOW)

    assert plan.minimum_effect == Decimal("3")


def test_before_the_first_look_a_new_registration_replaces_the_plan():
    initiative = factories.proposal_ready_for_pilot_gate()
    kpi = initiative.kpis.get()
    experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=EVEN, now=NOW)
    wider = PlanInput(minimum_effect="3", treatment_share="0.2", planned_looks=4, traffic_per_month=20_000)

    plan = experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=wider, now=NOW)

    assert (plan.version, plan.changed_after_data, plan.treatment_share) == (2, False, Decimal("0.2"))
    (_, first), (action, second) = plan_events(initiative)
    assert action == "experiment_plan.registered"
    assert second["version"] == 2 and second["replaces"]["treatment_share"] == "0.5000"
    assert ExperimentPlan.objects.count() == 1


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            PlanInput(minimum_effect="2", relative_lift="0.3", treatment_share="0.5", planned_looks=6, traffic_per_month=1),
            "either in the KPI's unit or as a lift",
        ),
        (PlanInput(treatment_share="0.5", planned_looks=6, traffic_per_month=1), "either in the KPI's unit"),
        (PlanInput(minimum_effect="-2", treatment_share="0.5", planned_looks=6, traffic_per_month=1), "positive"),
        (PlanInput(minimum_effect="2", treatment_share="1", planned_looks=6, traffic_per_month=1), "strictly between"),
        (PlanInput(minimum_effect="2", treatment_share="0.5", planned_looks=0, traffic_per_month=1), "Planned looks"),
        (PlanInput(minimum_effect="2", treatment_share="0.5", planned_looks=6, traffic_per_month=0), "Traffic"),
        (
            PlanInput(minimum_effect="95", treatment_share="0.5", planned_looks=6, traffic_per_month=100),
            "cannot be powered",
        ),
        (
            PlanInput(metric="mean", minimum_effect="2", treatment_share="0.5", planned_looks=6, traffic_per_month=9),
            "standard deviation",
        ),
    ],
    ids=["both effects", "no effect", "negative effect", "share of 1", "no look", "no traffic", "rate over 1", "mean without sd"],
)  # fmt: skip
def test_bad_figures_are_refused_with_a_reason_and_nothing_changes(plan, message):
    initiative = factories.proposal_ready_for_pilot_gate()
    with pytest.raises(InvalidInput, match=message):
        experiment_plan_register(actor=initiative.owner, kpi=initiative.kpis.get(), plan=plan, now=NOW)
    assert not ExperimentPlan.objects.exists() and plan_events(initiative) == []


def test_a_lead_of_another_initiative_is_refused():
    initiative = factories.proposal_ready_for_pilot_gate()
    with pytest.raises(NotAllowed):
        experiment_plan_register(actor=factories.lead(), kpi=initiative.kpis.get(), plan=EVEN, now=NOW)
    assert not ExperimentPlan.objects.exists()


# Changes after data arrived ----------------------------------------------------------------------


def built_through_services():
    """A proposal built through the services alone, its plan registered before its experiment."""
    initiative, kpi = factories.proposal_through_services()
    lead = initiative.owner
    plan = PlanInput(minimum_effect="0.1", treatment_share="0.5", planned_looks=3, traffic_per_month=2000)
    experiment_plan_register(actor=lead, kpi=kpi, plan=plan, now=NOW)
    experiment_record(
        actor=lead,
        kpi=kpi,
        name="A/B drafts",
        success_definition="resolved in 45 min",
        control_size=1000,
        control_successes=400,
        treatment_size=1000,
        treatment_successes=520,
        looked_on=TODAY - dt.timedelta(days=20),
    )
    return initiative, kpi


def test_a_change_after_the_first_look_needs_a_reason_and_nothing_changes_without_one():
    initiative, kpi = built_through_services()
    smaller = PlanInput(minimum_effect="0.05", treatment_share="0.5", planned_looks=3, traffic_per_month=2000)

    with pytest.raises(InvalidInput, match="needs a reason"):
        experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=smaller, now=NOW)
    assert ExperimentPlan.objects.get().version == 1 and len(plan_events(initiative)) == 1

    plan = experiment_plan_register(
        actor=initiative.owner, kpi=kpi, plan=smaller, reason="The business case was revised.", now=NOW
    )
    assert (plan.version, plan.changed_after_data, plan.change_reason) == (
        2,
        True,
        "The business case was revised.",
    )
    action, payload = plan_events(initiative)[-1]
    assert action == "experiment_plan.changed"
    assert payload["before"]["minimum_effect"] == "0.100000" and payload["after"]["minimum_effect"] == "0.05"
    assert payload["reason"] == "The business case was revised." and payload["looks"] == 1


def test_a_plan_changed_after_a_sign_off_is_in_the_signer_s_snapshot_and_makes_it_stale(members, client):
    initiative, kpi = built_through_services()
    review = review_open(actor=initiative.owner, initiative=initiative)
    signoff_record(
        actor=members["business"], review=review, function="business", decision="approve", rationale="ok"
    )
    smaller = PlanInput(minimum_effect="0.05", treatment_share="0.5", planned_looks=3, traffic_per_month=2000)
    experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=smaller, reason="Revised case", now=NOW)
    signoff_record(
        actor=members["legal"], review=review, function="legal", decision="approve", rationale="ok"
    )

    before, after = LedgerEvent.objects.filter(action="signoff.recorded").order_by("id")
    seen_before, seen_after = signer_view(before), signer_view(after)
    assert seen_before.matches and seen_after.matches
    assert seen_before.facts["kpis"][0]["plan"]["minimum_effect"] == Decimal("0.100000")
    assert not seen_before.facts["kpis"][0]["plan"]["changed_after_data"]
    plan = seen_after.facts["kpis"][0]["plan"]
    assert (plan["minimum_effect"], plan["changed_after_data"], plan["change_reason"], plan["version"]) == (
        Decimal("0.050000"),
        True,
        "Revised case",
        2,
    )
    members["auditor"].is_staff = True
    members["auditor"].save()
    client.force_login(members["auditor"])
    page = client.get(reverse("admin:governance_ledgerevent_change", args=[after.pk])).content.decode()
    assert "✔ Rebuilt from the ledger" in page
    assert "version 2: treatment share 0.5000, minimum effect 0.05" in page
    assert "changed after data arrived: Revised case" in page
    checklist = next_gate_checklist(initiative.pk, now=NOW)
    assert not requirement(checklist, "signoff:business").passed  # stale: it saw the first plan
    assert requirement(checklist, "signoff:legal").passed


# The scale gate: the split as planned ------------------------------------------------------------


def with_looks(initiative, looks):
    experiment = initiative.kpis.get().experiments.get()
    start = initiative.stage_entered_at.date()
    for month, (control, treatment) in enumerate(looks, start=1):
        factories.ExperimentLookFactory(
            experiment=experiment,
            looked_on=start + dt.timedelta(days=30 * month),
            control_size=control,
            control_successes=control // 10,
            treatment_size=treatment,
            treatment_successes=treatment * 13 // 100,
        )
    return experiment


def test_a_sample_ratio_mismatch_blocks_a_go_in_words_a_committee_reads(members):
    initiative = factories.pilot_ready_for_scale_gate()
    with_looks(initiative, [(2250, 2750), (4500, 5500), (6750, 8250)])  # 45/55 against a 50/50 plan
    review = review_open(actor=initiative.owner, initiative=initiative)

    approve_all(review, members)

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT  # four approvals cannot carry it
    failing = [r for r in next_gate_checklist(initiative.pk, now=NOW).requirements if not r.passed]
    assert [r.code for r in failing] == ["experiment_plan"]
    words = say(failing[0].reason)
    assert (
        "arm sizes are not the planned split: 45.0% / 55.0% observed against 50.0% / 50.0% planned" in words
    )
    assert "after 3 looks); the experiment cannot support a Go until the cause is found" in words


def test_arms_split_as_planned_let_the_pilot_scale(members):
    initiative = factories.pilot_ready_for_scale_gate()
    with_looks(initiative, [(2480, 2520), (5010, 4990), (7490, 7510)])
    checklist = next_gate_checklist(initiative.pk, now=NOW)
    line = requirement(checklist, "experiment_plan")
    assert line.passed and "arm sizes follow the planned split" in say(line.reason)

    approve_all(review_open(actor=initiative.owner, initiative=initiative), members)

    initiative.refresh_from_db()
    assert initiative.stage == Stage.SCALE


def test_a_primary_kpi_s_experiment_without_a_plan_supports_no_go():
    initiative = factories.pilot_ready_for_scale_gate()
    ExperimentPlan.objects.all().delete()
    line = requirement(next_gate_checklist(initiative.pk, now=NOW), "experiment_plan")
    assert not line.passed
    assert "Conversion rate has no registered experiment plan" in say(line.reason)


def test_a_plan_changed_after_data_is_shown_and_refused_when_the_policy_says_so(members, client):
    initiative = factories.pilot_ready_for_scale_gate()
    kpi = initiative.kpis.get()
    changed = PlanInput(
        minimum_effect="1.5", treatment_share="0.5", planned_looks=6, traffic_per_month=10_000
    )
    experiment_plan_register(
        actor=initiative.owner, kpi=kpi, plan=changed, reason="Smaller effect pays", now=NOW
    )

    shown = requirement(next_gate_checklist(initiative.pk, now=NOW), "experiment_plan")
    assert shown.passed
    owner = initiative.owner
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    page = client.get(reverse("admin:projects_initiative_change", args=[initiative.pk])).content.decode()
    assert "Experiment plan v2: treatment share 0.5000, 6 monthly looks, 10000 units a month" in page
    assert "Plan changed after data arrived: Smaller effect pays" in page
    assert "changed after data arrived (version 2; reason: Smaller effect pays)" in say(shown.reason)

    policy_version_create(actor=members["chair"], gate="scale", refuses_plan_changed_after_data=True, now=NOW)
    refused = requirement(next_gate_checklist(initiative.pk, now=NOW), "experiment_plan")
    assert not refused.passed and "changed after data arrived" in say(refused.reason)


# The pilot gate: power and the time box ----------------------------------------------------------


def test_a_pilot_whose_traffic_can_never_show_its_effect_fails_the_pilot_gate():
    initiative = factories.proposal_ready_for_pilot_gate()
    thin = PlanInput(minimum_effect="0.3", treatment_share="0.5", planned_looks=12, traffic_per_month=200)
    experiment_plan_register(actor=initiative.owner, kpi=initiative.kpis.get(), plan=thin, now=NOW)

    checklist = next_gate_checklist(initiative.pk, now=NOW)

    line = requirement(checklist, "pilot_power")
    assert not line.passed
    assert "this pilot cannot show its target effect within 120 months" in say(line.reason)
    assert checklist.proposed_pilot_months is None


def test_a_pilot_that_can_show_its_effect_starts_with_the_deadline_its_power_gives(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    experiment_plan_register(actor=initiative.owner, kpi=initiative.kpis.get(), plan=EVEN, now=NOW)
    checklist = next_gate_checklist(initiative.pk, now=NOW)
    months = checklist.proposed_pilot_months
    line = requirement(checklist, "pilot_power")
    assert line.passed and months is not None and months < 6
    deadline = pilot_deadline(TODAY, months)
    assert f"started today, the pilot's time box ends on {deadline:%Y-%m-%d}" in say(line.reason)

    approve_all(review_open(actor=initiative.owner, initiative=initiative), members)

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT and initiative.pilot_deadline == deadline


def test_without_a_plan_the_pilot_keeps_the_policy_s_time_box(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    assert "pilot_power" not in [r.code for r in next_gate_checklist(initiative.pk, now=NOW).requirements]
    approve_all(review_open(actor=initiative.owner, initiative=initiative), members)
    initiative.refresh_from_db()
    assert initiative.pilot_deadline == TODAY + dt.timedelta(days=180)


def test_a_plan_that_stops_looking_before_its_effect_can_show_fails_the_pilot_gate():
    initiative = factories.proposal_ready_for_pilot_gate()
    needed = next_gate_months(initiative, EVEN)
    short = PlanInput(
        minimum_effect="2", treatment_share="0.5", planned_looks=needed - 1, traffic_per_month=10_000
    )
    experiment_plan_register(actor=initiative.owner, kpi=initiative.kpis.get(), plan=short, now=NOW)

    checklist = next_gate_checklist(initiative.pk, now=NOW)

    line = requirement(checklist, "pilot_power")
    assert not line.passed and checklist.proposed_pilot_months is None
    assert (
        f"the plan looks {needed - 1} time{'s' if needed - 1 != 1 else ''}, but the effect needs {needed} "
        "monthly looks to show; plan more looks or more traffic" in say(line.reason)
    )


def next_gate_months(initiative, plan: PlanInput) -> int:
    """The months the pilot gate says `plan` needs (registered, read, then taken back)."""
    kpi = initiative.kpis.get()
    experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=plan, now=NOW)
    months = next_gate_checklist(initiative.pk, now=NOW).proposed_pilot_months
    ExperimentPlan.objects.filter(kpi=kpi).delete()
    assert months is not None and months >= 2
    return months


def test_the_policy_s_required_power_sets_how_long_the_pilot_must_run(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    experiment_plan_register(actor=initiative.owner, kpi=initiative.kpis.get(), plan=EVEN, now=NOW)
    at_80 = next_gate_checklist(initiative.pk, now=NOW)
    policy_version_create(actor=members["chair"], gate="pilot", required_power="0.95", now=NOW)
    at_95 = next_gate_checklist(initiative.pk, now=NOW)

    assert at_95.proposed_pilot_months > at_80.proposed_pilot_months
    assert "with 95% power" in say(requirement(at_95, "pilot_power").reason)
    assert "with 80% power" in say(requirement(at_80, "pilot_power").reason)


def test_a_policy_can_require_the_plan_before_the_pilot_starts(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    policy_version_create(actor=members["chair"], gate="pilot", requires_experiment_plan=True, now=NOW)

    line = requirement(next_gate_checklist(initiative.pk, now=NOW), "plans_registered")
    assert not line.passed
    assert say(line.reason) == "No experiment plan registered for First-contact resolution."
    review = review_open(actor=initiative.owner, initiative=initiative)
    approve_all(review, members)
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL  # four approvals, but no plan: no pilot

    experiment_plan_register(actor=initiative.owner, kpi=initiative.kpis.get(), plan=EVEN, now=NOW)
    assert requirement(next_gate_checklist(initiative.pk, now=NOW), "plans_registered").passed


# The API and the admin ---------------------------------------------------------------------------


def plan_url(initiative):
    return f"/api/v1/initiatives/{initiative.pk}/kpis/{initiative.kpis.get().pk}/plan/"


BODY = {"minimum_effect": "2", "treatment_share": "0.5", "planned_looks": 6, "traffic_per_month": 10000}


def test_the_api_registers_a_plan_for_the_lead_and_refuses_others(members):
    initiative = factories.proposal_ready_for_pilot_gate()
    api = APIClient()
    api.force_authenticate(factories.lead())
    assert api.post(plan_url(initiative), BODY, format="json").status_code == 404  # not theirs to see
    api.force_authenticate(members["business"])
    assert api.post(plan_url(initiative), BODY, format="json").status_code == 403
    assert not ExperimentPlan.objects.exists()

    api.force_authenticate(initiative.owner)
    assert api.get(plan_url(initiative)).status_code == 404  # none registered yet
    created = api.post(plan_url(initiative), BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["version"], body["treatment_share"], body["changed_after_data"]) == (1, "0.5000", False)
    assert api.get(plan_url(initiative)).json() == body
    members["business"].refresh_from_db()
    api.force_authenticate(members["business"])
    assert api.get(plan_url(initiative)).json()["version"] == 1  # the committee reads it


def test_the_api_refuses_bad_figures_with_a_clear_message_and_stores_nothing():
    initiative = factories.proposal_ready_for_pilot_gate()
    api = APIClient()
    api.force_authenticate(initiative.owner)
    answer = api.post(plan_url(initiative), {**BODY, "treatment_share": "1"}, format="json")
    assert answer.status_code == 400
    assert "strictly between 0 and 1" in json.dumps(answer.json())
    answer = api.post(plan_url(initiative), {**BODY, "version": 3}, format="json")
    assert answer.status_code == 400 and "Read-only" in json.dumps(answer.json())
    assert not ExperimentPlan.objects.exists()


def test_the_admin_registers_a_plan_for_the_lead_and_refuses_a_lead_of_another_initiative(client):
    initiative = factories.proposal_ready_for_pilot_gate()
    url = reverse("admin:projects_initiative_experiment_plan", args=[initiative.pk])
    form = {**BODY, "kpi": initiative.kpis.get().pk, "metric": "proportion"}
    other = factories.lead()
    other.is_staff = True
    other.save()
    client.force_login(other)
    assert client.post(url, form).status_code in (403, 404)
    assert not ExperimentPlan.objects.exists()

    owner = initiative.owner
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    page = client.get(reverse("admin:projects_initiative_change", args=[initiative.pk])).content.decode()
    assert url in page
    answer = client.post(url, form)
    assert answer.status_code == 302
    assert ExperimentPlan.objects.get().traffic_per_month == 10000
    refused = client.post(url, form)  # the same plan again: nothing to change
    assert refused.status_code == 200 and "nothing changed" in refused.content.decode()


def test_a_plan_changed_after_data_is_told_to_the_chair_and_the_signers_of_the_open_review(members):
    from governance.notifications.models import Notification

    initiative, kpi = built_through_services()
    review = review_open(actor=initiative.owner, initiative=initiative)
    signoff_record(
        actor=members["business"], review=review, function="business", decision="approve", rationale="ok"
    )
    before = set(Notification.objects.values_list("pk", flat=True))
    smaller = PlanInput(minimum_effect="0.05", treatment_share="0.5", planned_looks=3, traffic_per_month=2000)
    experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=smaller, reason="Revised case", now=NOW)

    told = Notification.objects.exclude(pk__in=before).filter(event="experiment_plan.changed")
    assert {n.recipient for n in told} == {members["chair"], members["business"]}  # not the lead herself
    (to_business,) = [n for n in told if n.recipient == members["business"]]
    assert (
        "experiment plan for" in to_business.subject and "changed after data arrived" in to_business.subject
    )
    assert "Reason: Revised case" in to_business.body and "after 1 look(s)" in to_business.body
    assert "approvals given before it no longer count" in to_business.to_do


def test_a_plan_registered_before_any_data_tells_nobody():
    from governance.notifications.models import Notification

    initiative = factories.pilot_ready_for_scale_gate()
    kpi = initiative.kpis.get(is_primary=True)
    ExperimentPlan.objects.filter(kpi=kpi).delete()
    before = Notification.objects.count()
    kpi.experiments.all().delete()
    experiment_plan_register(actor=initiative.owner, kpi=kpi, plan=EVEN, now=NOW)
    assert Notification.objects.count() == before
