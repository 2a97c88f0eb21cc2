"""The workspace's pages issue the same number of queries at 10 and at 1,000 initiatives, and the
initiative page the same with 1 or 40 KPIs, measurements, experiments, sign-offs and events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.access.models import CommitteeFunction
from governance.ledger.chain import ledger_append
from governance.ledger.events import KPI_MEASUREMENTS_RECORDED
from governance.reviews.models import GatePolicy, GateReview, SignOff
from governance.reviews.queue import PAGE_SIZE
from projects.models import (
    KPI,
    BusinessCase,
    Evidence,
    Experiment,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from projects.vocabulary import EntryKind, Stage
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

MONTHS = [dt.date(2025, m, 1) for m in range(1, 13)]


def grow_portfolio(count: int, *, owner, first: int = 0) -> list[Initiative]:
    """`count` initiatives in pilot or proposal, each with a business case, two KPIs with
    measurements, an experiment, costs and benefits, evidence, an open review and a sign-off."""
    today = configured_clock().date()
    initiatives = Initiative.objects.bulk_create(
        [
            Initiative(
                title=f"Initiative {first + i}",
                owner=owner,
                department=f"Department {i % 7}",
                pain_point="A pain",
                process_embedding="A process",
                stage=Stage.PILOT if i % 2 else Stage.PROPOSAL,
                pilot_deadline=today - dt.timedelta(days=5) if i % 2 else None,
            )
            for i in range(count)
        ]
    )
    BusinessCase.objects.bulk_create(
        [
            BusinessCase(
                initiative=i, budget=100000, expected_annual_benefit=300000, exit_criteria="Stop if not."
            )
            for i in initiatives
        ]
    )
    kpis = KPI.objects.bulk_create(
        [
            KPI(
                initiative=i,
                name=f"KPI {k}",
                unit="%",
                direction="increase",
                baseline=10,
                target=12,
                data_source="BI",
                is_primary=k == 0,
            )
            for i in initiatives
            for k in range(2)
        ]
    )
    KPIMeasurement.objects.bulk_create(
        [
            KPIMeasurement(kpi=k, period=month, value=Decimal("11"), source="BI", recorded_by=owner)
            for k in kpis
            for month in MONTHS[:3]
        ]
    )
    Experiment.objects.bulk_create(
        [
            Experiment(
                kpi=k,
                name="A/B",
                success_definition="converted",
                control_size=1000,
                control_successes=100,
                treatment_size=1000,
                treatment_successes=130,
                recorded_by=owner,
            )
            for k in kpis[::2]
        ]
    )
    FinancialEntry.objects.bulk_create(
        [
            FinancialEntry(initiative=i, kind=kind, month=MONTHS[0], amount=1000, recorded_by=owner)
            for i in initiatives
            for kind in (EntryKind.COST, EntryKind.BENEFIT)
        ]
    )
    Evidence.objects.bulk_create(
        [
            Evidence(
                initiative=i,
                kind="business_case",
                title="Case",
                file="evidence/x.bin",
                sha256="0" * 64,
                submitted_by=owner,
            )
            for i in initiatives
        ]
    )
    policies = {p.gate: p for p in GatePolicy.objects.all()}
    reviews = GateReview.objects.bulk_create(
        [
            GateReview(
                initiative=i,
                gate="scale" if i.stage == Stage.PILOT else "pilot",
                policy=policies["scale" if i.stage == Stage.PILOT else "pilot"],
                requested_by=owner,
                opened_at=configured_clock() - dt.timedelta(days=i.pk % 20),
            )
            for i in initiatives
        ]
    )
    legal = CommitteeFunction.objects.get(code="legal")
    SignOff.objects.bulk_create(
        [
            SignOff(
                review=r, function=legal, reviewer=owner, decision="approve", rationale="ok", digest="0" * 64
            )
            for r in reviews
        ]
    )
    return initiatives


def enrich(initiative: Initiative, *, owner, count: int) -> None:
    """Many KPIs, measurements, experiments, evidence, sign-offs (superseded) and ledger events."""
    kpis = KPI.objects.bulk_create(
        [
            KPI(
                initiative=initiative,
                name=f"Extra KPI {k}",
                unit="%",
                direction="decrease",
                baseline=10,
                target=8,
                data_source="BI",
                is_primary=False,
            )
            for k in range(count)
        ]
    )
    KPIMeasurement.objects.bulk_create(
        [
            KPIMeasurement(kpi=k, period=m, value=9, source="BI", recorded_by=owner)
            for k in kpis
            for m in MONTHS
        ]
    )
    Experiment.objects.bulk_create(
        [
            Experiment(
                kpi=k,
                name="A/B",
                success_definition="x",
                control_size=500,
                control_successes=50,
                treatment_size=500,
                treatment_successes=40,
                recorded_by=owner,
            )
            for k in kpis
        ]
    )
    Evidence.objects.bulk_create(
        [
            Evidence(
                initiative=initiative,
                kind="other",
                title=f"Doc {n}",
                file="evidence/y.bin",
                sha256="1" * 64,
                submitted_by=owner,
            )
            for n in range(count)
        ]
    )
    review = GateReview.objects.get(initiative=initiative, status="open")
    business = CommitteeFunction.objects.get(code="business")
    SignOff.objects.bulk_create(
        [
            SignOff(
                review=review,
                function=business,
                reviewer=owner,
                decision="approve",
                rationale=f"v{n}",
                digest="0" * 64,
                superseded_at=configured_clock(),
            )
            for n in range(count)
        ]
    )
    with transaction.atomic():
        for n in range(count):
            ledger_append(
                actor=owner,
                action=KPI_MEASUREMENTS_RECORDED,
                initiative=initiative,
                payload={"kpi": kpis[n % len(kpis)].pk, "measurements": []},
            )


def count_queries(client, url: str) -> int:
    client.get(url)  # warm process-wide caches (content types) so both sizes start alike
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def lead(people):
    return people["lead"]


@pytest.mark.parametrize(
    ("who", "url_name"),
    [
        ("chair", "admin:projects_initiative_changelist"),
        ("lead", "admin:projects_initiative_changelist"),
        ("business", "admin:governance_gatereview_queue"),
        ("chair", "admin:projects_initiative_dashboard"),
        ("lead", "admin:projects_initiative_dashboard"),
        ("auditor", "admin:governance_gatereview_changelist"),
    ],
)
def test_portfolio_pages_issue_the_same_queries_at_10_and_1000_initiatives(
    people, as_user, lead, django_assert_num_queries, who, url_name
):
    grow_portfolio(10, owner=lead)
    client = as_user(people[who])
    url = reverse(url_name)
    at_ten = count_queries(client, url)
    grow_portfolio(990, owner=lead, first=10)
    assert Initiative.objects.count() == 1000
    with django_assert_num_queries(at_ten):
        response = client.get(url)
    assert response.status_code == 200
    if url_name.endswith("queue"):
        # Every review awaits business: the first page is full and tells there is more.
        queue_page = response.context["queue_page"]
        assert len(response.context["items"]) == PAGE_SIZE and queue_page.has_next
        assert queue_page.listed == 1000
    if url_name.endswith("dashboard"):
        assert response.context["data"].totals["initiatives"] == 1000


@pytest.mark.parametrize("who", ["chair", "lead", "auditor", "business"])
def test_the_initiative_page_issues_the_same_queries_whatever_its_data(
    people, as_user, lead, django_assert_num_queries, who
):
    initiative = grow_portfolio(10, owner=lead)[1]  # a pilot facing its scale review
    client = as_user(people[who])
    url = reverse("admin:projects_initiative_change", args=[initiative.pk])
    small = count_queries(client, url)
    grow_portfolio(990, owner=lead, first=10)
    enrich(initiative, owner=lead, count=40)
    with django_assert_num_queries(small):
        response = client.get(url)
    page = response.context["page"]
    assert len(page.kpis) == 42 and len(page.evidence) == 41 and page.ledger_total == 40
    assert sum(len(r.signoffs.all()) for r in page.reviews) == 41
