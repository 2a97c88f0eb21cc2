"""Each role does its whole job in the admin: every change through a service, every refusal shown."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.ledger.models import LedgerEvent
from governance.reviews.facts import gate_inputs, initiative_with_gate_data, next_gate_checklist
from governance.reviews.models import Condition, GatePolicy, GateReview, SignOff
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.rules.gates import SUBMISSION_RULES, evaluate_gate
from projects.models import KPI, Evidence, FinancialEntry, Initiative, KPIMeasurement
from projects.vocabulary import Outcome, Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db
FOUR = ("business", "legal", "finance", "technical")


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def actions(initiative) -> list[str]:
    return list(
        LedgerEvent.objects.filter(initiative=initiative).order_by("seq").values_list("action", flat=True)
    )


def test_a_project_lead_takes_an_initiative_from_registration_to_a_gate_review(people, as_user):
    client = as_user(people["lead"])
    response = client.post(
        url("projects_initiative_add"),
        {
            "title": "Reply drafts",
            "department": "Customer service",
            "pain_point": "Customers wait an hour.",
            "process_embedding": "In the ticketing tool.",
            "risk_tier": "limited",
        },
    )
    initiative = Initiative.objects.get(title="Reply drafts")
    page = url("projects_initiative_change", initiative.pk)
    assert response.url == page

    # Submitting too early is refused with the gate's reasons, shown on the page.
    response = client.post(url("projects_initiative_submit", initiative.pk), follow=True)
    text = " ".join(shown(response))
    assert "Business case complete" in text and "No primary KPI" in text
    initiative.refresh_from_db()
    assert initiative.stage == Stage.DRAFT

    response = client.post(
        url("projects_initiative_describe", initiative.pk),
        {
            "title": "Reply drafts for agents",
            "department": "Customer service",
            "pain_point": "Customers wait an hour for a first reply.",
            "process_embedding": "In the ticketing tool.",
            "risk_tier": "limited",
            "uses_personal_data": "on",
        },
    )
    assert response.status_code == 302
    response = client.post(
        url("projects_initiative_business_case", initiative.pk),
        {
            "budget": "180000",
            "expected_annual_benefit": "420000",
            "horizon_months": "36",
            "exit_criteria": "Stop if first response time is not 30% lower.",
            "missed_periods_to_retire": "3",
        },
    )
    assert response.status_code == 302
    # A KPI whose target is on the wrong side of the baseline: the service's reason comes back.
    bad = {
        "name": "First response time",
        "unit": "minutes",
        "direction": "decrease",
        "baseline": "60",
        "target": "70",
        "data_source": "Zendesk",
        "is_primary": "on",
    }
    response = client.post(url("projects_initiative_kpi", initiative.pk), bad)
    assert response.status_code == 200
    assert "Lower is better, so the target must be below the baseline." in response.content.decode()
    response = client.post(url("projects_initiative_kpi", initiative.pk), {**bad, "target": "42"})
    assert response.status_code == 302
    upload = SimpleUploadedFile(
        "business-case.pdf", b"%PDF-1.7 business case", content_type="application/pdf"
    )
    response = client.post(
        url("projects_initiative_evidence", initiative.pk),
        {"kind": "business_case", "title": "Business case", "file": upload},
    )
    assert response.status_code == 302
    client.post(url("projects_initiative_submit", initiative.pk))
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSAL
    assert initiative.uses_personal_data and initiative.title == "Reply drafts for agents"

    # The pilot gate needs a privacy impact assessment now that personal data is used.
    response = client.post(url("projects_initiative_request_review", initiative.pk), {"gate": "pilot"})
    assert response.status_code == 302
    review = GateReview.objects.get(initiative=initiative)
    assert review.gate == "pilot" and review.requested_by == people["lead"]
    page_html = client.get(page).content.decode()
    assert "Missing evidence: privacy impact" in page_html
    assert actions(initiative) == [
        "initiative.created",
        "initiative.updated",
        "business_case.recorded",
        "kpi.defined",
        "evidence.submitted",
        "initiative.submitted",
        "review.opened",
    ]


def test_a_lead_records_pilot_data_and_refused_rows_are_named(people, as_user):
    initiative = factories.pilot_ready_for_scale_gate(owner=people["lead"])
    kpi = initiative.kpis.get()
    client = as_user(people["lead"])
    rows = {"rows-TOTAL_FORMS": "3", "rows-INITIAL_FORMS": "0", "kpi": str(kpi.pk)}
    this_month = dt.date(2020, 1, 1)  # a month with no measurement yet
    future = (configured_clock().date().replace(day=1) + dt.timedelta(days=40)).replace(day=1)
    response = client.post(
        url("projects_initiative_measurements", initiative.pk),
        {
            **rows,
            "rows-0-period": f"{this_month:%Y-%m}",
            "rows-0-value": "14.5",
            "rows-0-source": "BI",
            "rows-1-period": f"{future:%Y-%m}",
            "rows-1-value": "15",
            "rows-1-source": "BI",
        },
    )
    assert response.status_code == 200
    assert "has not happened yet" in response.content.decode()
    assert not KPIMeasurement.objects.filter(period=this_month).exists()  # all or nothing
    response = client.post(
        url("projects_initiative_measurements", initiative.pk),
        {
            **rows,
            "rows-0-period": f"{this_month:%Y-%m}",
            "rows-0-value": "14.5",
            "rows-0-source": "BI",
            "rows-0-sample_size": "1200",
        },
    )
    assert response.status_code == 302
    assert KPIMeasurement.objects.get(kpi=kpi, period=this_month).sample_size == 1200

    response = client.post(
        url("projects_initiative_experiment", initiative.pk),
        {
            "kpi": str(kpi.pk),
            "name": "Drafts vs none",
            "metric": "proportion",
            "success_definition": "converted",
            "control_size": "100",
            "control_successes": "150",
            "treatment_size": "100",
            "treatment_successes": "20",
        },
    )
    assert "more successes than observations" in response.content.decode()
    # A time KPI's experiment compares means; a later look adds to what the verdict covers.
    response = client.post(
        url("projects_initiative_experiment", initiative.pk),
        {
            "kpi": str(kpi.pk),
            "name": "Handling time",
            "metric": "mean",
            "success_definition": "minutes",
            "control_size": "400",
            "treatment_size": "400",
            "control_mean": "12.5",
            "control_variance": "9",
            "treatment_mean": "11.0",
            "treatment_variance": "8",
            "looked_on": "2026-01-05",
        },
    )
    assert response.status_code == 302
    timed = initiative.kpis.get().experiments.get(name="Handling time")
    look = {
        "experiment": str(timed.pk),
        "control_size": "900",
        "treatment_size": "900",
        "control_mean": "12.4",
        "control_variance": "9",
        "treatment_mean": "11.1",
        "treatment_variance": "8",
    }
    response = client.post(
        url("projects_initiative_experiment_look", initiative.pk), {**look, "looked_on": "2025-12-01"}
    )
    assert response.status_code == 200  # looks come in date order: the service says why
    assert "A new look must come after the last one (2026-01-05)." in response.content.decode()
    response = client.post(
        url("projects_initiative_experiment_look", initiative.pk), {**look, "looked_on": "2026-02-05"}
    )
    assert response.status_code == 302
    page = client.get(url("projects_initiative_change", initiative.pk))
    row = next(e for _, e in page.context["page"].experiments if e.experiment.name == "Handling time")
    assert row.verdict.always_valid.looks == 2
    assert "mean 11.1 (n = 900)" in page.content.decode() and "after 2 looks" in page.content.decode()
    response = client.post(
        url("projects_initiative_money", initiative.pk),
        {"kind": "cost", "month": f"{this_month:%Y-%m}", "amount": "1234.50", "description": "Licences"},
    )
    assert response.status_code == 302
    assert FinancialEntry.objects.filter(amount="1234.50", month=this_month).exists()


def test_the_initiative_page_shows_kpis_experiments_roi_checklist_history_and_ledger(people, as_user):
    initiative = factories.pilot_ready_for_scale_gate(owner=people["lead"])
    review = review_open(actor=people["lead"], initiative=initiative)
    signoff_record(
        actor=people["business"],
        review=review,
        function="business",
        decision="approve",
        rationale="Conversion beat its target.",
    )
    response = as_user(people["auditor"]).get(url("projects_initiative_change", initiative.pk))
    html = response.content.decode()
    page = response.context["page"]
    kpi_row = page.kpis[0]
    assert (kpi_row.latest.value, kpi_row.attained) == (kpi_row.measurements[-1].value, True)
    assert "✔ attained" in html and "Conversion rate" in html
    experiment = page.experiments[0][1]
    assert experiment.significant is True
    assert (
        experiment.lift_text in html and experiment.interval_text in html and experiment.p_value_text in html
    )
    assert "+0.0300 (+30.0%)" in html  # 650/5000 against 500/5000
    assert page.roi_to_date_text == "200.0%" and "200.0%" in html  # 90,000 benefit on 30,000 cost
    assert {r.code for r in page.checklist.failing} == {
        "signoff:legal",
        "signoff:finance",
        "signoff:technical",
    }
    assert "Awaiting the legal sign-off." in html
    assert "Conversion beat its target." in html  # the sign-off history
    # The ledger, read-only, names the actions as the event catalogue does.
    assert "Sign-off recorded" in html and "Gate review opened" in html
    assert "signoff.recorded" not in html and "review.opened" not in html
    assert page.ledger_total == 2


def test_the_page_s_checklist_is_the_gate_the_services_evaluate(people):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    from governance.reviews.portfolio import initiative_page

    now = configured_clock()
    for initiative in Initiative.objects.all():
        page = initiative_page(initiative.pk, now=now)
        if initiative.stage == Stage.DRAFT:
            loaded = initiative_with_gate_data(initiative.pk)
            expected = evaluate_gate(gate_inputs(loaded, None, rules=SUBMISSION_RULES), now=now)
        else:
            expected = next_gate_checklist(initiative.pk, now=now)
        assert page.checklist == expected, initiative.title
    assert {i.stage for i in Initiative.objects.all()} == set(Stage.values)


def test_a_committee_member_finds_the_review_in_the_queue_and_signs_it(people, as_user):
    old = factories.proposal_ready_for_pilot_gate(title="Older proposal")
    review_old = review_open(actor=old.owner, initiative=old, now=configured_clock() - dt.timedelta(days=9))
    new = factories.proposal_ready_for_pilot_gate(title="Newer proposal")
    review_new = review_open(actor=new.owner, initiative=new)
    client = as_user(people["business"])
    queue = client.get(url("governance_gatereview_queue"))
    items = queue.context["items"]
    assert [i.review for i in items] == [review_old, review_new]  # oldest first
    assert items[0].age_days == 9 and items[0].functions == ("business",)
    assert "9 days" in queue.content.decode()

    sign = url("governance_gatereview_sign", review_old.pk)
    page = client.get(sign)
    assert "Awaiting the business sign-off." in page.content.decode()
    empty = {"conditions-TOTAL_FORMS": "2", "conditions-INITIAL_FORMS": "0"}
    # Conditions only with "approve with conditions": the service's refusal is shown.
    response = client.post(
        sign,
        {
            **empty,
            "function": "business",
            "decision": "approve",
            "rationale": "Fine.",
            "conditions-0-text": "Add a rollback plan",
            "conditions-0-due_on": "2099-01-01",
        },
    )
    assert response.status_code == 200
    assert "Only an approval with conditions carries conditions." in response.content.decode()
    assert not SignOff.objects.exists()
    response = client.post(
        sign,
        {
            **empty,
            "function": "business",
            "decision": "approve_with_conditions",
            "rationale": "Fine if it can be rolled back.",
            "conditions-0-text": "Add a rollback plan",
            "conditions-0-due_on": "2099-01-01",
        },
    )
    assert response.status_code == 302 and response.url == url("governance_gatereview_queue")
    signoff = SignOff.objects.get()
    assert (signoff.reviewer, signoff.decision) == (people["business"], "approve_with_conditions")
    assert Condition.objects.get().owner == old.owner
    queue = client.get(url("governance_gatereview_queue"))
    assert [i.review for i in queue.context["items"]] == [review_new]

    # Evidence changed after signing: the approval is stale, the review is back in the queue.
    factories.evidence(old, "other", b"new numbers")
    items = client.get(url("governance_gatereview_queue")).context["items"]
    assert [i.review for i in items] == [review_old, review_new] and items[0].sign_again


def test_the_last_approval_through_the_admin_advances_the_initiative(people, as_user):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    for function in FOUR:
        response = as_user(people[function]).post(
            url("governance_gatereview_sign", review.pk),
            {
                "function": function,
                "decision": "approve",
                "rationale": "Evidence reviewed.",
                "conditions-TOTAL_FORMS": "0",
                "conditions-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    assert "review closed: Go" in " ".join(shown(response))
    # A stale tab: the decided review sends the member back to the queue, and signs nothing.
    response = as_user(people["business"]).post(
        url("governance_gatereview_sign", review.pk),
        {
            "function": "business",
            "decision": "reject",
            "rationale": "Late.",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
        },
    )
    assert response.url == url("governance_gatereview_queue")
    assert "already decided: Go" in " ".join(shown(response))
    assert SignOff.objects.filter(review=review).count() == 4


def test_segregation_of_duties_refusal_is_shown_to_the_signer(people, as_user):
    initiative = factories.proposal_ready_for_pilot_gate(sponsor=people["legal"])
    review = review_open(actor=initiative.owner, initiative=initiative)
    response = as_user(people["legal"]).post(
        url("governance_gatereview_sign", review.pk),
        {
            "function": "legal",
            "decision": "approve",
            "rationale": "ok",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "The initiative&#x27;s sponsor may not sign off on it." in response.content.decode()
    assert not SignOff.objects.exists()
    # and the sponsor's queue does not offer it
    assert as_user(people["legal"]).get(url("governance_gatereview_queue")).context["items"] == []


def test_the_chair_holds_kills_and_is_told_why_an_advance_fails(people, as_user):
    client = as_user(people["chair"])
    first = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=first.owner, initiative=first)
    response = client.post(url("governance_gatereview_advance", review.pk), follow=True)
    assert "Awaiting the business sign-off" in " ".join(shown(response))
    response = client.post(
        url("governance_gatereview_hold", review.pk), {"reason": "Budget freeze", "revisit_on": "2000-01-01"}
    )
    assert "revisit date in the future" in response.content.decode()
    response = client.post(
        url("governance_gatereview_hold", review.pk), {"reason": "Budget freeze", "revisit_on": "2099-01-01"}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.outcome, review.revisit_on) == (Outcome.HOLD, dt.date(2099, 1, 1))

    second = factories.pilot_ready_for_scale_gate()
    response = client.post(url("projects_initiative_request_review", second.pk), {"gate": "scale"})
    assert response.status_code == 302
    review = GateReview.objects.get(initiative=second, status="open")
    response = client.post(url("governance_gatereview_kill", review.pk), {"reason": "Perpetual pilot."})
    assert response.status_code == 302
    assert "is now retired" in " ".join(shown(response))
    second.refresh_from_db()
    review.refresh_from_db()
    assert (second.stage, review.outcome, review.outcome_reason) == (
        Stage.RETIRED,
        Outcome.KILL,
        "Perpetual pilot.",
    )


def test_a_governance_admin_saves_a_policy_and_new_reviews_use_it(people, as_user):
    client = as_user(people["govadmin"])
    add = client.get(url("governance_gatepolicy_add") + "?gate=scale")
    initial = add.context["adminform"].form.initial
    assert initial["min_measurements"] == 3
    data = {
        "gate": "scale",
        "required_functions": ["business", "legal", "finance", "technical", "risk_ethics"],
        "required_evidence": ["pilot_report"],
        "risk_ethics_for_high_risk": "on",
        "requires_business_case": "on",
        "requires_primary_kpi": "on",
        "min_measurements": "6",
        "requires_targets_met": "on",
        "requires_significant_experiments": "on",
        "significance_level": "0.010",
        "requires_positive_roi": "on",
        "requires_conditions_closed": "on",
        "signoff_validity_days": "60",
        "reminder_days": "2",
        "escalation_days": "5",
        "max_pilot_days": "180",
        "experiment_method": "fixed_horizon",
        "required_power": "0.90",
        "requires_measured_from_source": "on",
    }
    assert initial["experiment_method"] == "always_valid"
    response = client.post(url("governance_gatepolicy_add"), data)
    assert response.status_code == 302
    assert "Saved as version 2 of the scale gate" in " ".join(shown(response))
    saved = GatePolicy.objects.get(gate="scale", version=2)
    assert (saved.experiment_method, saved.requires_measured_from_source) == ("fixed_horizon", True)
    policy = GatePolicy.objects.get(gate="scale", version=2)
    assert policy.required_functions[-1] == "risk_ethics" and str(policy.significance_level) == "0.010"
    assert GatePolicy.objects.get(gate="scale", version=1).min_measurements == 3
    payload = json.loads(LedgerEvent.objects.get(action="policy.version_created").payload)
    assert payload["rules"]["min_measurements"] == 6
    pilot = factories.pilot_ready_for_scale_gate()
    assert review_open(actor=pilot.owner, initiative=pilot).policy == policy


def test_an_auditor_reads_everything_and_is_offered_nothing(people, as_user):
    initiative = factories.pilot_ready_for_scale_gate()
    review_open(actor=initiative.owner, initiative=initiative)
    client = as_user(people["auditor"])
    for name, args in [
        ("projects_initiative_changelist", ()),
        ("projects_initiative_change", (initiative.pk,)),
        ("projects_initiative_dashboard", ()),
        ("governance_gatereview_changelist", ()),
        ("governance_gatepolicy_changelist", ()),
        ("projects_evidence_changelist", ()),
        ("projects_kpimeasurement_changelist", ()),
        ("governance_ledgerevent_changelist", ()),
    ]:
        response = client.get(url(name, *args))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert 'name="_save"' not in html and 'name="action"' not in html, name
    assert client.get(url("projects_initiative_change", initiative.pk)).context["actions"] == []
    assert Evidence.objects.count() == 1 and KPI.objects.count() == 1


def test_the_dashboard_shows_stages_money_overdue_pilots_missing_kpis_and_waiting_reviews(people, as_user):
    late = factories.pilot_ready_for_scale_gate(title="Late pilot")
    Initiative.objects.filter(pk=late.pk).update(
        pilot_deadline=configured_clock().date() - dt.timedelta(days=30)
    )
    missing = factories.pilot_ready_for_scale_gate(title="Missing pilot")
    KPIMeasurement.objects.filter(kpi__initiative=missing).update(value="9")
    old = factories.proposal_ready_for_pilot_gate(title="Waiting proposal")
    review_open(actor=old.owner, initiative=old, now=configured_clock() - dt.timedelta(days=12))
    response = as_user(people["chair"]).get(url("projects_initiative_dashboard"))
    data = response.context["data"]
    html = response.content.decode()
    assert {s.stage: s.initiatives for s in data.stages}["pilot"] == 2
    assert [i.title for i in data.overdue_pilots] == ["Late pilot"]
    assert [k.initiative.title for k in data.kpis_missing_target] == ["Missing pilot"]
    assert [w.review.initiative.title for w in data.escalations] == ["Waiting proposal"]  # past 7 days
    assert data.totals["cost"] == 60000 and data.totals["benefit"] == 180000
    assert html.count('<svg class="vg-chart"') == 3
    assert "Late pilot" in html and "Missing pilot" in html and "12 days" in html
