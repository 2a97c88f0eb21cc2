"""Every dated figure comes from a day that has happened, and not from before 2000.

The same rule for a KPI measurement's period, a cost's or benefit's month, an experiment's first
look and its later looks; the refusal names the field and the range it accepts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from governance.errors import InvalidInput
from governance.ledger.models import LedgerEvent
from governance.reasons import say
from governance.reviews.facts import next_gate_checklist
from governance.value.services import (
    MeasurementErrors,
    MeasurementInput,
    experiment_look_record,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from projects.models import ExperimentLook, FinancialEntry, KPIMeasurement
from projects.periods import check_figure_date
from projects.vocabulary import EntryKind, Stage
from tests import factories

NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)

# (month, None when accepted, else the refusal)
MONTHS = [
    (dt.date(2026, 3, 1), None),
    (dt.date(2000, 1, 1), None),
    (dt.date(2026, 4, 1), "2026-04 has not happened yet; allowed: 2000-01 to 2026-03 (the current month)."),
    (dt.date(9999, 12, 1), "9999-12 has not happened yet; allowed: 2000-01 to 2026-03 (the current month)."),
    (dt.date(1999, 12, 1), "1999-12 is before 2000-01; allowed: 2000-01 to 2026-03 (the current month)."),
    (dt.date(1, 1, 1), "0001-01 is before 2000-01; allowed: 2000-01 to 2026-03 (the current month)."),
]
DAYS = [
    (dt.date(2026, 3, 15), None),
    (dt.date(2000, 1, 1), None),
    (dt.date(2026, 3, 16), "2026-03-16 is in the future; allowed: 2000-01-01 to 2026-03-15 (today)."),
    (dt.date(9999, 12, 31), "9999-12-31 is in the future; allowed: 2000-01-01 to 2026-03-15 (today)."),
    (dt.date(1999, 12, 31), "1999-12-31 is before 2000-01-01; allowed: 2000-01-01 to 2026-03-15 (today)."),
    (dt.date(1, 1, 1), "0001-01-01 is before 2000-01-01; allowed: 2000-01-01 to 2026-03-15 (today)."),
]
COUNTS = {"control_size": 100, "control_successes": 10, "treatment_size": 100, "treatment_successes": 15}


def test_the_rule_keeps_the_calendar_of_the_deployment(settings):
    """Just after midnight in Sydney it is already the next day there, still the last in UTC."""
    settings.TIME_ZONE = "Australia/Sydney"
    late_in_utc = dt.datetime(2026, 3, 31, 14, 0, tzinfo=dt.UTC)  # 1 April, 01:00 in Sydney
    assert check_figure_date(dt.date(2026, 4, 1), what="Month", now=late_in_utc, monthly=True)
    with pytest.raises(ValueError, match="Looked on 2026-04-02 is in the future"):
        check_figure_date(dt.date(2026, 4, 2), what="Looked on", now=late_in_utc)


@pytest.fixture
def kpi(db):
    return factories.KPIFactory(initiative=factories.InitiativeFactory(stage=Stage.PILOT))


@pytest.mark.parametrize(("month", "refusal"), MONTHS)
def test_a_measurement_period_is_a_month_that_happened_since_2000(kpi, month, refusal):
    rows = [MeasurementInput(month, "12.5", "BI")]
    if refusal is None:
        measurements_record(actor=kpi.initiative.owner, kpi=kpi, measurements=rows, now=NOW)
        assert KPIMeasurement.objects.get(kpi=kpi).period == month
        return
    with pytest.raises(MeasurementErrors) as refused:
        measurements_record(actor=kpi.initiative.owner, kpi=kpi, measurements=rows, now=NOW)
    assert refused.value.errors == {0: f"Period {refusal}"}
    assert not KPIMeasurement.objects.exists() and not LedgerEvent.objects.exists()


@pytest.mark.parametrize("kind", EntryKind.values)
@pytest.mark.parametrize(("month", "refusal"), MONTHS)
def test_a_cost_or_benefit_is_of_a_month_that_happened_since_2000(kpi, kind, month, refusal):
    initiative = kpi.initiative
    record = {"kind": kind, "month": month, "amount": "1000", "now": NOW}
    if refusal is None:
        financial_entry_record(actor=initiative.owner, initiative=initiative, **record)
        assert FinancialEntry.objects.get(initiative=initiative).month == month
        return
    with pytest.raises(InvalidInput) as refused:
        financial_entry_record(actor=initiative.owner, initiative=initiative, **record)
    assert refused.value.message == f"Month {refusal}"
    assert not FinancialEntry.objects.exists() and not LedgerEvent.objects.exists()


@pytest.mark.parametrize(("day", "refusal"), DAYS)
def test_an_experiment_first_look_is_of_a_day_that_happened_since_2000(kpi, day, refusal):
    def record():
        return experiment_record(
            actor=kpi.initiative.owner,
            kpi=kpi,
            name="Copy test",
            success_definition="clicked",
            looked_on=day,
            now=NOW,
            **COUNTS,
        )

    if refusal is None:
        assert record().looks.get().looked_on == day
        return
    with pytest.raises(InvalidInput) as refused:
        record()
    assert refused.value.message == f"Looked on {refusal}"
    assert not kpi.experiments.exists() and not LedgerEvent.objects.exists()


def test_an_experiment_first_look_is_today_when_no_day_is_given(kpi):
    experiment = experiment_record(
        actor=kpi.initiative.owner, kpi=kpi, name="Copy test", success_definition="clicked", now=NOW, **COUNTS
    )
    assert experiment.looks.get().looked_on == dt.date(2026, 3, 15)


@pytest.mark.parametrize(("day", "refusal"), DAYS)
def test_a_later_look_is_of_a_day_that_happened_since_2000(kpi, day, refusal):
    experiment = factories.ExperimentFactory(kpi=kpi, **COUNTS)  # no look yet: any day may come next

    def record():
        return experiment_look_record(
            actor=kpi.initiative.owner, experiment=experiment, looked_on=day, now=NOW, **COUNTS
        )

    if refusal is None:
        assert record().looked_on == day
        return
    with pytest.raises(InvalidInput) as refused:
        record()
    assert refused.value.message == f"Looked on {refusal}"
    assert not ExperimentLook.objects.exists() and not LedgerEvent.objects.exists()


def test_a_benefit_from_2099_cannot_carry_a_losing_pilot_through_the_scale_gate(db):
    """The issue's case: ROI −98% became +19,995,902% with one 'realised benefit' dated 2099."""
    with time_machine.travel(NOW, tick=True):  # the service's own clock, as admin and API use it
        initiative = factories.pilot_ready_for_scale_gate()
        benefits = FinancialEntry.objects.filter(initiative=initiative, kind=EntryKind.BENEFIT)
        benefits.update(amount=Decimal("200"))

        def roi_line():
            checklist = next_gate_checklist(initiative.pk, now=NOW)
            return next(r for r in checklist.requirements if r.code == "roi")

        assert roi_line().passed is False and "-98.0%" in say(roi_line().reason)
        with pytest.raises(InvalidInput, match="Month 2099-01 has not happened yet"):
            financial_entry_record(
                actor=initiative.owner,
                initiative=initiative,
                kind=EntryKind.BENEFIT,
                month=dt.date(2099, 1, 1),
                amount="600000000",
            )
        assert roi_line().passed is False
