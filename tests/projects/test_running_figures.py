"""The running figures the dashboard reads stay equal to what they sum, on every write path.

They are kept by database triggers, so each test writes as the product and other tools do
(the ORM's save, update, delete and bulk_create, and a raw statement) and compares the stored
figures with the same sums computed from the rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from projects.models import (
    BusinessCase,
    FinancialEntry,
    Initiative,
    InitiativeFigures,
    KPIMeasurement,
    LatestMeasurement,
)
from projects.vocabulary import EntryKind, Stage, meets_target
from tests import factories

pytestmark = pytest.mark.django_db


def stored(initiative: Initiative) -> tuple[str, Decimal, str | None, Decimal, Decimal]:
    f = InitiativeFigures.objects.get(initiative=initiative)
    return f.stage, f.budget, f.currency, f.cost, f.benefit


def summed(initiative: Initiative, kind: str) -> Decimal:
    total = FinancialEntry.objects.filter(initiative=initiative, kind=kind).aggregate(t=Sum("amount"))["t"]
    return total or Decimal("0.00")


def latest(kpi) -> tuple[dt.date | None, Decimal | None]:
    row = LatestMeasurement.objects.get(kpi=kpi)
    return row.period, row.value


def test_a_new_initiative_has_empty_figures_in_its_stage():
    initiative = factories.InitiativeFactory(stage=Stage.PROPOSAL)
    assert stored(initiative) == (Stage.PROPOSAL, Decimal("0.00"), None, Decimal("0.00"), Decimal("0.00"))


def test_costs_and_benefits_are_recounted_on_insert_update_delete_and_bulk_loads():
    initiative = factories.InitiativeFactory()
    other = factories.InitiativeFactory()
    first = factories.FinancialEntryFactory(initiative=initiative, amount=Decimal("1200.50"))
    factories.FinancialEntryFactory(initiative=initiative, kind=EntryKind.BENEFIT, amount=Decimal("300.25"))
    FinancialEntry.objects.bulk_create(
        [
            FinancialEntry(
                initiative=initiative,
                kind=EntryKind.COST,
                month=dt.date(2026, month, 1),
                amount=Decimal("0.10"),
                recorded_by=initiative.owner,
            )
            for month in range(2, 12)
        ]
    )
    assert stored(initiative)[3:] == (Decimal("1201.50"), Decimal("300.25"))

    first.amount = Decimal("99.99")
    first.save()
    assert stored(initiative)[3] == Decimal("100.99") == summed(initiative, EntryKind.COST)

    # Moved to another initiative (by a queryset update): both are recounted.
    FinancialEntry.objects.filter(pk=first.pk).update(initiative=other)
    assert stored(initiative)[3] == Decimal("1.00")
    assert stored(other)[3] == Decimal("99.99")

    FinancialEntry.objects.filter(initiative=initiative).delete()
    assert stored(initiative)[3:] == (Decimal("0.00"), Decimal("0.00"))


def test_a_raw_insert_that_bypasses_django_is_counted_too():
    initiative = factories.InitiativeFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO projects_financialentry (initiative_id, kind, month, amount, description, "
            "recorded_by_id, recorded_at) VALUES (%s, 'benefit', '2026-03-01', 4500.75, '', %s, %s)",
            [initiative.pk, initiative.owner_id, dt.datetime(2026, 3, 2, tzinfo=dt.UTC)],
        )
    assert stored(initiative)[4] == Decimal("4500.75")


def test_the_business_case_sets_budget_and_currency_and_its_removal_clears_them():
    initiative = factories.InitiativeFactory()
    case = factories.BusinessCaseFactory(initiative=initiative, budget=Decimal("50000.00"), currency="CNY")
    assert stored(initiative)[1:3] == (Decimal("50000.00"), "CNY")
    BusinessCase.objects.filter(pk=case.pk).update(budget=Decimal("65000.00"), currency="")
    assert stored(initiative)[1:3] == (Decimal("65000.00"), "")
    case.delete()
    assert stored(initiative)[1:3] == (Decimal("0.00"), None)


def test_the_stage_follows_every_transition():
    initiative = factories.proposal_ready_for_pilot_gate()
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.PILOT)
    assert stored(initiative)[0] == Stage.PILOT


def test_the_latest_measurement_is_the_latest_period_whatever_order_rows_arrive_in():
    kpi = factories.KPIFactory()
    assert latest(kpi) == (None, None)
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 3, 1), value=Decimal("12.5"))
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 1, 1), value=Decimal("11"))
    assert latest(kpi) == (dt.date(2026, 3, 1), Decimal("12.500000"))
    KPIMeasurement.objects.bulk_create(
        [
            KPIMeasurement(
                kpi=kpi,
                period=dt.date(2026, month, 1),
                value=Decimal(month),
                source="BI warehouse",
                recorded_by=kpi.initiative.owner,
            )
            for month in (4, 2, 5)
        ]
    )
    assert latest(kpi) == (dt.date(2026, 5, 1), Decimal("5.000000"))
    KPIMeasurement.objects.filter(kpi=kpi, period=dt.date(2026, 5, 1)).update(value=Decimal("14.25"))
    assert latest(kpi) == (dt.date(2026, 5, 1), Decimal("14.250000"))
    KPIMeasurement.objects.filter(kpi=kpi, period__gte=dt.date(2026, 4, 1)).delete()
    assert latest(kpi) == (dt.date(2026, 3, 1), Decimal("12.500000"))
    KPIMeasurement.objects.filter(kpi=kpi).delete()
    assert latest(kpi) == (None, None)


def test_deleting_an_initiative_takes_its_figures_with_it():
    initiative = factories.InitiativeFactory()
    factories.FinancialEntryFactory(initiative=initiative)
    kpi = factories.KPIFactory(initiative=initiative)
    factories.MeasurementFactory(kpi=kpi)
    pk = initiative.pk
    initiative.delete()
    assert not InitiativeFigures.objects.filter(initiative_id=pk).exists()
    assert not LatestMeasurement.objects.filter(kpi_id=kpi.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_figures_of_a_portfolio_that_existed_before_it():
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("projects", "0005_names_and_currency")], [("projects", "0006_running_figures")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        owner = apps.get_model("auth", "User").objects.create(username="lead-before")
        old = apps.get_model("projects", "Initiative").objects.create(
            title="Old", owner=owner, department="Ops", pain_point="p", process_embedding="e", stage="pilot"
        )
        apps.get_model("projects", "BusinessCase").objects.create(
            initiative=old, budget=Decimal("9000"), expected_annual_benefit=Decimal("1"), exit_criteria="x"
        )
        for amount in ("100.10", "200.20"):
            apps.get_model("projects", "FinancialEntry").objects.create(
                initiative=old,
                kind="cost",
                month=dt.date(2026, 1, 1),
                amount=Decimal(amount),
                recorded_by=owner,
            )
        kpi = apps.get_model("projects", "KPI").objects.create(
            initiative=old,
            name="CSAT",
            unit="pt",
            direction="increase",
            baseline=1,
            target=2,
            data_source="x",
        )
        for month, value in ((2, "1.5"), (1, "1.2")):
            apps.get_model("projects", "KPIMeasurement").objects.create(
                kpi=kpi, period=dt.date(2026, month, 1), value=Decimal(value), source="x", recorded_by=owner
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)

    figures = InitiativeFigures.objects.get(initiative_id=old.pk)
    # CSAT's latest value (1.5, February) misses its target of 2.
    assert (figures.stage, figures.budget, figures.currency, figures.cost, figures.kpis_missing_target) == (
        "pilot",
        Decimal("9000.00"),
        "",
        Decimal("300.30"),
        1,
    )
    row = LatestMeasurement.objects.get(kpi_id=kpi.pk)
    assert (row.period, row.value) == (dt.date(2026, 2, 1), Decimal("1.500000"))


def missing(initiative: Initiative) -> int:
    return InitiativeFigures.objects.get(initiative=initiative).kpis_missing_target


def test_a_primary_kpi_whose_latest_value_misses_is_counted_until_it_meets_or_changes():
    initiative = factories.InitiativeFactory()
    # Higher is better, target 13: 12 misses, 14 meets.
    kpi = factories.KPIFactory(initiative=initiative, target=Decimal("13"))
    lower = factories.KPIFactory(
        initiative=initiative, direction="decrease", baseline=20, target=Decimal("15")
    )
    secondary = factories.KPIFactory(initiative=initiative, is_primary=False)
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 1, 1), value=Decimal("12"))
    factories.MeasurementFactory(kpi=lower, period=dt.date(2026, 1, 1), value=Decimal("16"))
    factories.MeasurementFactory(kpi=secondary, period=dt.date(2026, 1, 1), value=Decimal("1"))
    assert missing(initiative) == 2
    assert LatestMeasurement.objects.get(kpi=kpi).misses_target is True
    assert LatestMeasurement.objects.get(kpi=secondary).misses_target is False

    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, 2, 1), value=Decimal("14"))
    assert missing(initiative) == 1
    # The target raised above the latest value: it misses again.
    kpi.target = Decimal("15")
    kpi.save()
    assert missing(initiative) == 2
    # Made secondary, a KPI no longer counts; deleted, neither.
    type(kpi).objects.filter(pk=kpi.pk).update(is_primary=False)
    assert missing(initiative) == 1
    lower.delete()
    assert missing(initiative) == 0


@pytest.mark.parametrize("direction", ["increase", "decrease"])
@pytest.mark.parametrize("offset", ["-0.000001", "0", "0.000001", "-3", "3"])
def test_the_database_judges_a_miss_exactly_as_the_gate_rules_do(direction, offset):
    baseline, target = (
        (Decimal("10"), Decimal("13")) if direction == "increase" else (Decimal("20"), Decimal("13"))
    )
    kpi = factories.KPIFactory(direction=direction, baseline=baseline, target=target)
    value = target + Decimal(offset)
    factories.MeasurementFactory(kpi=kpi, value=value)
    assert LatestMeasurement.objects.get(kpi=kpi).misses_target is (
        not meets_target(direction, value, target)
    )
