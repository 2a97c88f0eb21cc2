"""seed_scale: a portfolio at scale written a batch at a time, the same whatever the batch size."""

from __future__ import annotations

import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count
from django.db.models.query import QuerySet

from governance.ledger.models import LedgerEvent
from governance.ledger.verification import verify_ledger
from governance.management.commands import seed_scale
from governance.management.commands.seed_scale import PortfolioShape
from governance.reviews.models import GateReview, SignOff
from projects.models import (
    KPI,
    BusinessCase,
    Evidence,
    Experiment,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

INITIATIVES = 100  # one of each stage of the mix, in its proportions
MONTHS = 3


def seed(*, seed: int = 1, events: int = 0, verbosity: int = 1) -> str:
    out = io.StringIO()
    with time_machine.travel(configured_clock(), tick=False):  # both runs of a test at one instant
        call_command(
            "seed_scale",
            initiatives=INITIATIVES,
            measurements_per_kpi=MONTHS,
            ledger_events=events,
            seed=seed,
            verbosity=verbosity,
            stdout=out,
        )
    return out.getvalue()


def portfolio_values(initiatives: QuerySet[Initiative]) -> list[tuple]:
    """Everything seeded about `initiatives` except ids, in the order it was written."""
    rows = []
    for initiative in initiatives.order_by("pk"):
        kpis = KPI.objects.filter(initiative=initiative).order_by("pk")
        rows.append(
            (
                initiative.title,
                initiative.stage,
                initiative.stage_entered_at,
                initiative.pilot_deadline,
                initiative.owner_id,
                [(k.name, k.is_primary) for k in kpis],
                list(
                    KPIMeasurement.objects.filter(kpi__in=kpis)
                    .order_by("pk")
                    .values_list("kpi__name", "period", "value", "recorded_by_id")
                ),
                list(Experiment.objects.filter(kpi__in=kpis).values_list("treatment_successes", flat=True)),
                list(
                    FinancialEntry.objects.filter(initiative=initiative)
                    .order_by("pk")
                    .values_list("kind", "month", "amount")
                ),
                list(
                    Evidence.objects.filter(initiative=initiative).order_by("pk").values_list("kind", "title")
                ),
                list(
                    GateReview.objects.filter(initiative=initiative).values_list(
                        "gate", "opened_at", "requested_by_id"
                    )
                ),
                list(
                    SignOff.objects.filter(review__initiative=initiative)
                    .order_by("pk")
                    .values_list("function__code", "reviewer_id", "signed_at")
                ),
            )
        )
    return rows


def test_the_portfolio_has_the_shape_the_run_announces(members):
    output = seed()
    shape = PortfolioShape.of(INITIATIVES, MONTHS)
    assert (shape.measured, shape.reviewed) == (55, 50)
    assert Initiative.objects.count() == BusinessCase.objects.count() == INITIATIVES
    assert KPI.objects.count() == shape.kpis == 200
    assert KPIMeasurement.objects.count() == shape.measurements == 330
    assert Experiment.objects.count() == 55
    assert FinancialEntry.objects.count() == shape.entries == 330
    assert Evidence.objects.count() == shape.evidence == 155
    assert GateReview.objects.count() == 50 and SignOff.objects.count() == shape.signoffs == 73
    per_kpi = KPIMeasurement.objects.values("kpi").annotate(n=Count("id")).values_list("n", flat=True)
    assert set(per_kpi) == {MONTHS}
    assert "Seeded 100 initiatives, 200 KPIs, 330 measurements and 0 ledger events" in output


def test_a_seed_gives_the_same_portfolio_whatever_the_batch_size(members, monkeypatch):
    seed()
    first = portfolio_values(Initiative.objects.all())
    first_ids = list(Initiative.objects.values_list("pk", flat=True))
    written = []
    bulk_create = QuerySet.bulk_create

    def counting_bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        written.append(len(objs))
        return bulk_create(self, objs, *args, **kwargs)

    monkeypatch.setattr(seed_scale, "BATCH", 7)
    monkeypatch.setattr(seed_scale, "CHUNK", 3)
    monkeypatch.setattr(QuerySet, "bulk_create", counting_bulk_create)
    seed()
    second = portfolio_values(Initiative.objects.exclude(pk__in=first_ids))
    assert second == first
    assert max(written) == 7 and sum(written) > 1000  # every kind of row went in batches of 7


def test_another_seed_gives_other_values(members):
    seed(seed=1)
    seed(seed=2)
    first, second = (
        list(KPIMeasurement.objects.filter(kpi__initiative__in=half).order_by("pk").values_list("value"))
        for half in (
            Initiative.objects.order_by("pk")[:INITIATIVES].values("pk"),
            Initiative.objects.order_by("pk")[INITIATIVES:].values("pk"),
        )
    )
    assert len(first) == len(second) == 330 and first != second


def test_a_long_run_says_how_far_each_phase_is(members, monkeypatch):
    monkeypatch.setattr(seed_scale, "BATCH", 10)
    output = seed(events=40)
    lines = re.findall(r"^  measurements: ([\d,]+) of 330 \((\d+)%\)$", output, re.M)
    assert [int(percent) // 10 for _, percent in lines] == list(range(1, 11))  # a line each tenth
    assert lines[-1] == ("330", "100")
    assert "  ledger events: 40 of 40 (100%)" in output.splitlines()
    assert "  initiatives: 100 of 100 (100%)" in output.splitlines()


def test_quietly_it_says_only_what_it_seeded(members):
    output = seed(verbosity=0)
    assert output.splitlines() == [output.strip()] and output.startswith("Seeded 100 initiatives")


def test_the_seeded_ledger_events_verify(members):
    before = LedgerEvent.objects.count()  # the memberships granted to the scale users are events too
    seed(events=45)
    assert LedgerEvent.objects.count() >= before + 45
    assert verify_ledger().count == LedgerEvent.objects.count()
