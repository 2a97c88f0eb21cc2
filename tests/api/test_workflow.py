"""Whole jobs through the API alone: a lead from idea to pilot, and the two cases from the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from governance.api.tokens import token_issue
from governance.ledger.models import LedgerEvent
from projects.vocabulary import EvidenceKind, Stage
from tests import factories
from tests.api.conftest import PDF, url

pytestmark = pytest.mark.django_db
FOUR = ("business", "legal", "finance", "technical")


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def ok(response, status=200):
    assert response.status_code == status, response.content[:800]
    return response.json()


def sign_as_the_committee(members, review_id, *, rationale="Measured KPI and experiment reviewed."):
    stages = []
    for function in FOUR:
        client = session(members[function])
        pending = ok(client.get(url("signoffs/pending/")))
        assert [p["review"] for p in pending] == [review_id]
        assert pending[0]["functions"] == [function]
        body = {"function": function, "decision": "approve", "rationale": rationale}
        recorded = ok(client.post(url(f"reviews/{review_id}/signoffs/"), body, format="json"), 201)
        stages.append(recorded["initiative_stage"])
        assert ok(client.get(url("signoffs/pending/"))) == []  # signed: no longer waiting on them
    return stages


def test_a_project_lead_takes_an_idea_to_pilot_through_the_api(members):
    lead = factories.lead(username="lead-api")
    client = session(lead)
    initiative = ok(
        client.post(
            url("initiatives/"),
            {
                "title": "Invoice matching",
                "department": "Finance",
                "pain_point": "Clerks match 12,000 invoices a month by hand.",
                "process_embedding": "Proposes matches in the ERP; clerks confirm.",
            },
            format="json",
        ),
        201,
    )
    assert initiative["stage"] == "draft" and initiative["owner"] == "lead-api"
    base = f"initiatives/{initiative['id']}/"

    edited = ok(client.patch(url(base), {"title": "Invoice matching assistant"}, format="json"))
    assert edited["title"] == "Invoice matching assistant"
    refused = client.patch(url(base), {"stage": "pilot"}, format="json")
    assert refused.status_code == 400 and "stage" in refused.json()["error"]["fields"]

    submit = client.post(url(base + "submit/"), {}, format="json")
    assert submit.status_code == 409
    assert {r["code"] for r in submit.json()["error"]["requirements"]} == {"business_case", "primary_kpi"}

    ok(
        client.put(
            url(base + "business-case/"),
            {"budget": "150000", "expected_annual_benefit": "380000.50", "exit_criteria": "Stop below 55%."},
            format="json",
        )
    )
    ok(
        client.post(
            url(base + "kpis/"),
            {
                "name": "Invoices matched automatically",
                "unit": "%",
                "direction": "increase",
                "baseline": "35",
                "target": "70",
                "data_source": "ERP audit log",
            },
            format="json",
        ),
        201,
    )
    ok(
        client.post(
            url(base + "evidence/"),
            {"kind": "business_case", "title": "Business case", "file": SimpleUploadedFile("case.pdf", PDF)},
            format="multipart",
        ),
        201,
    )
    assert ok(client.post(url(base + "submit/"), {}, format="json"))["stage"] == "proposal"
    # Once submitted, the draft is no longer the lead's to edit.
    assert client.patch(url(base), {"title": "Again"}, format="json").status_code == 409

    checklist = ok(client.get(url(base + "checklist/")))
    assert checklist["gate"] == "pilot" and not checklist["passed"]
    review = ok(client.post(url(base + "reviews/"), {}, format="json"), 201)
    assert review["gate"] == "pilot" and review["status"] == "open"

    assert sign_as_the_committee(members, review["id"]) == ["proposal", "proposal", "proposal", "pilot"]
    assert ok(client.get(url(base)))["stage"] == "pilot"
    actions = list(
        LedgerEvent.objects.filter(initiative_id=initiative["id"])
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[:2] == ["initiative.created", "initiative.updated"]
    assert actions[-2:] == ["review.decided", "initiative.transitioned"]


def pilot_case(lead, *, title, days_in_pilot, kpi, personal_data=False):
    """A pilot as it stood before its data was fed: business case and KPI only (built in the database)."""
    initiative = factories.InitiativeFactory(
        owner=lead,
        title=title,
        stage=Stage.PILOT,
        stage_entered_at=timezone.now() - dt.timedelta(days=days_in_pilot),
        uses_personal_data=personal_data,
    )
    factories.BusinessCaseFactory(initiative=initiative)
    factories.KPIFactory(initiative=initiative, **kpi)
    return initiative


def month_after(day: dt.date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1).isoformat()


def feed_through_the_api(
    integration: APIClient, lead: APIClient, initiative, *, values, experiment, cost, benefit
):
    """What the lead's BI integration and the lead send: measurements, counts, money, pilot report."""
    base = f"initiatives/{initiative.pk}/"
    kpi_id = ok(integration.get(url(base + "kpis/")))[0]["id"]
    start = initiative.stage_entered_at.date()
    months = [month_after(start, i + 1) for i in range(len(values))]
    rows = [
        {"period": m, "value": v, "source": "BI", "sample_size": 5000}
        for m, v in zip(months, values, strict=True)
    ]
    # The lead registers the experiment's plan before its data: the split the arms will hold.
    plan = {
        "baseline": str(Decimal(experiment["control_successes"]) / experiment["control_size"]),
        "relative_lift": "0.3",
        "treatment_share": "0.5",
        "planned_looks": len(values),
        "traffic_per_month": (experiment["control_size"] + experiment["treatment_size"]) // len(values),
    }
    assert integration.post(url(base + f"kpis/{kpi_id}/plan/"), plan, format="json").status_code == 403
    ok(lead.post(url(base + f"kpis/{kpi_id}/plan/"), plan, format="json"), 201)
    ok(
        integration.post(url(base + f"kpis/{kpi_id}/measurements/"), {"measurements": rows}, format="json"),
        201,
    )
    result = ok(integration.post(url(base + f"kpis/{kpi_id}/experiments/"), experiment, format="json"), 201)[
        "result"
    ]
    for month in months:
        for kind, amount in (("cost", cost), ("benefit", benefit)):
            body = {"kind": kind, "month": month, "amount": amount}
            ok(integration.post(url(base + "financial-entries/"), body, format="json"), 201)
    ok(
        integration.post(
            url(base + "evidence/"),
            {
                "kind": EvidenceKind.PILOT_REPORT,
                "title": "Pilot report",
                "file": SimpleUploadedFile("pilot.pdf", PDF),
            },
            format="multipart",
        ),
        201,
    )
    # Requesting the gate review is the lead's decision, not the pipeline's.
    assert integration.post(url(base + "reviews/"), {}, format="json").status_code == 403
    review = ok(lead.post(url(base + "reviews/"), {}, format="json"), 201)
    assert review["gate"] == "scale"
    return review, result


def test_customer_service_assistant_reaches_scale_through_the_api(members):
    lead = factories.lead(username="lead-service")
    initiative = pilot_case(
        lead,
        title="Customer-service reply assistant",
        days_in_pilot=150,
        personal_data=True,
        kpi={
            "name": "First response time",
            "unit": "minutes",
            "direction": "decrease",
            "baseline": Decimal("60"),
            "target": Decimal("42"),
            "data_source": "Zendesk export",
        },
    )
    _, secret = token_issue(actor=lead, name="Zendesk export", initiative=initiative)
    review, result = feed_through_the_api(
        bearer(secret),
        session(lead),
        initiative,
        values=["51", "44", "39", "37"],
        experiment={
            "name": "Reply drafts vs. no drafts",
            "success_definition": "ticket waited over 30 minutes",
            "control_size": 4000,
            "control_successes": 2520,
            "treatment_size": 4000,
            "treatment_successes": 1880,
        },
        cost="15000",
        benefit="38000",
    )
    assert result["ci_high"] < 0 and result["p_value"] < 0.05  # fewer long waits, significantly
    checklist = ok(session(lead).get(url(f"initiatives/{initiative.pk}/checklist/")))
    assert {r["code"] for r in checklist["requirements"] if not r["passed"]} == {f"signoff:{f}" for f in FOUR}

    assert sign_as_the_committee(members, review["id"]) == ["pilot", "pilot", "pilot", "scale"]
    assert ok(session(lead).get(url(f"initiatives/{initiative.pk}/")))["stage"] == "scale"
    decided = ok(session(members["auditor"]).get(url(f"reviews/{review['id']}/")))
    assert decided["outcome"] == "go" and len(decided["signoffs"]) == 4


def test_retail_copy_pilot_is_refused_at_the_scale_gate_through_the_api(members):
    lead = factories.lead(username="lead-retail")
    initiative = pilot_case(
        lead,
        title="GenAI marketing copy for product pages",
        days_in_pilot=280,
        kpi={
            "name": "Click-through rate",
            "unit": "ratio",
            "direction": "increase",
            "baseline": Decimal("0.0400"),
            "target": Decimal("0.0520"),
            "data_source": "Web analytics",
        },
    )
    _, secret = token_issue(actor=lead, name="Web analytics", initiative=initiative)
    review, result = feed_through_the_api(
        bearer(secret),
        session(lead),
        initiative,
        values=["0.0405", "0.0411", "0.0408", "0.0409", "0.0410", "0.0409"],
        experiment={
            "name": "Generated vs. human copy",
            "success_definition": "visitor clicked through",
            "control_size": 100000,
            "control_successes": 4000,
            "treatment_size": 100000,
            "treatment_successes": 4092,
        },
        cost="25000",
        benefit="6000",
    )
    assert result["p_value"] > 0.05 and "+2.3% relative" in result["summary"]

    assert sign_as_the_committee(members, review["id"]) == ["pilot"] * 4
    assert ok(session(lead).get(url(f"initiatives/{initiative.pk}/")))["stage"] == "pilot"
    checklist = ok(bearer(secret).get(url(f"initiatives/{initiative.pk}/checklist/")))
    failing = {r["code"]: r["reason"] for r in checklist["requirements"] if not r["passed"]}
    assert "Click-through rate is 0.0409" in failing["targets_met"]
    assert "Generated vs. human copy" in failing["experiments"]
    assert "roi" in failing
    assert not checklist["passed"] and checklist["review"] == review["id"]


def test_a_sign_off_the_service_refuses_comes_back_with_its_reason(world):
    # The owner requested the pilot-gate review of the proposal; the chair is no committee member.
    response = world.client("chair").post(
        url(f"reviews/{world.review.pk}/signoffs/"),
        {"function": "legal", "decision": "approve", "rationale": "Fine."},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "chair is not a member of the legal committee."


def test_approval_with_conditions_through_the_api(world):
    due = (timezone.now().date() + dt.timedelta(days=30)).isoformat()
    body = {
        "function": "legal",
        "decision": "approve_with_conditions",
        "rationale": "Fine if the DPIA is refreshed.",
        "conditions": [{"text": "Refresh the DPIA", "due_on": due}],
    }
    recorded = ok(
        world.client("legal").post(url(f"reviews/{world.review.pk}/signoffs/"), body, format="json"), 201
    )
    assert recorded["signoff"]["conditions"][0]["owner"] == "lead-owner"
    assert recorded["signoff"]["reviewer"] == "legal-member" and len(recorded["signoff"]["digest"]) == 64
    assert recorded["review"]["status"] == "open"


def test_a_superseded_sign_off_of_mine_does_not_hide_a_review_someone_else_signed(world):
    from governance.reviews.signoffs import signoff_record
    from tests import factories as f

    second_legal = f.user_in("Committee: legal", username="legal-second")
    legal = world.users["legal"]
    signoff_record(actor=legal, review=world.review, function="legal", decision="approve", rationale="Yes.")
    signoff_record(
        actor=second_legal, review=world.review, function="legal", decision="approve", rationale="Yes."
    )
    # legal's own sign-off is superseded by second_legal's: the review waits on legal again.
    assert [p["review"] for p in world.client("legal").get(url("signoffs/pending/")).json()] == [
        world.review.pk
    ]
    assert world.client("business").get(url("signoffs/pending/")).json()[0]["functions"] == ["business"]


def test_a_review_valuegate_opened_itself_shows_no_requester(members):
    from governance.reviews.services import review_open_by_system

    pilot = factories.pilot_ready_for_scale_gate()
    review = review_open_by_system(
        initiative=pilot, gate="scale", reason="Pilot past its deadline.", now=timezone.now()
    )
    shown = ok(session(members["auditor"]).get(url(f"reviews/{review.pk}/")))
    assert shown["requested_by"] is None
    assert shown["gate"] == "scale" and shown["status"] == "open"
