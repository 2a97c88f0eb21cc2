"""The admin's forms refuse a figure dated in the future or before 2000 with the services' words:
the field, and the range it accepts; never a server error, whatever year is typed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from projects.models import ExperimentLook, FinancialEntry, KPIMeasurement
from projects.vocabulary import Stage
from tests import factories

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)
COUNTS = {
    "control_size": "100",
    "control_successes": "10",
    "treatment_size": "100",
    "treatment_successes": "15",
}

MONTHS = [
    ("2026-03", None),
    ("2000-01", None),
    ("2026-04", "2026-04 has not happened yet; allowed: 2000-01 to 2026-03 (the current month)."),
    ("9999-12", "9999-12 has not happened yet; allowed: 2000-01 to 2026-03 (the current month)."),
    ("1999-12", "1999-12 is before 2000-01; allowed: 2000-01 to 2026-03 (the current month)."),
    ("0001-01", "0001-01 is before 2000-01; allowed: 2000-01 to 2026-03 (the current month)."),
]
DAYS = [
    ("2026-03-15", None),
    ("2000-01-01", None),
    ("2026-03-16", "2026-03-16 is in the future; allowed: 2000-01-01 to 2026-03-15 (today)."),
    ("9999-12-31", "9999-12-31 is in the future; allowed: 2000-01-01 to 2026-03-15 (today)."),
    ("1999-12-31", "1999-12-31 is before 2000-01-01; allowed: 2000-01-01 to 2026-03-15 (today)."),
    ("0001-01-01", "0001-01-01 is before 2000-01-01; allowed: 2000-01-01 to 2026-03-15 (today)."),
]


@pytest.fixture
def lead_in_march(people, as_user):
    """The lead of a pilot with a KPI and an experiment not looked at yet, on 15 March 2026."""
    with time_machine.travel(NOW, tick=True):
        initiative = factories.InitiativeFactory(stage=Stage.PILOT, owner=people["lead"])
        kpi = factories.KPIFactory(initiative=initiative)
        experiment = factories.ExperimentFactory(kpi=kpi)
        yield as_user(people["lead"]), initiative, kpi, experiment


def post(client, name: str, initiative, data: dict):
    return client.post(reverse(f"admin:projects_initiative_{name}", args=[initiative.pk]), data)


def assert_outcome(response, refusal: str | None, *, field: str, stored) -> None:
    if refusal is None:
        assert response.status_code == 302, response.content.decode()
        assert stored()
    else:
        assert response.status_code == 200
        assert f"{field} {refusal}" in response.content.decode()
        assert not stored()


@pytest.mark.parametrize(("month", "refusal"), MONTHS)
def test_a_measurement_form_refuses_a_period_out_of_range(lead_in_march, month, refusal):
    client, initiative, kpi, _ = lead_in_march
    response = post(
        client,
        "measurements",
        initiative,
        {
            "rows-TOTAL_FORMS": "1",
            "rows-INITIAL_FORMS": "0",
            "kpi": str(kpi.pk),
            "rows-0-period": month,
            "rows-0-value": "14.5",
            "rows-0-source": "BI",
        },
    )
    assert_outcome(response, refusal, field="Period", stored=KPIMeasurement.objects.filter(kpi=kpi).exists)


@pytest.mark.parametrize(("month", "refusal"), MONTHS)
def test_the_money_form_refuses_a_month_out_of_range(lead_in_march, month, refusal):
    client, initiative, _, _ = lead_in_march
    response = post(client, "money", initiative, {"kind": "benefit", "month": month, "amount": "1000"})
    assert_outcome(
        response, refusal, field="Month", stored=FinancialEntry.objects.filter(initiative=initiative).exists
    )


@pytest.mark.parametrize(("day", "refusal"), DAYS)
def test_the_experiment_form_refuses_a_first_look_out_of_range(lead_in_march, day, refusal):
    client, initiative, kpi, _ = lead_in_march
    response = post(
        client,
        "experiment",
        initiative,
        {
            "kpi": str(kpi.pk),
            "name": "Copy test",
            "metric": "proportion",
            "success_definition": "clicked",
            "looked_on": day,
            **COUNTS,
        },
    )
    assert_outcome(
        response, refusal, field="Looked on", stored=kpi.experiments.filter(name="Copy test").exists
    )


@pytest.mark.parametrize(("day", "refusal"), DAYS)
def test_the_look_form_refuses_a_later_look_out_of_range(lead_in_march, day, refusal):
    client, initiative, _, experiment = lead_in_march
    response = post(
        client,
        "experiment_look",
        initiative,
        {"experiment": str(experiment.pk), "looked_on": day, **COUNTS},
    )
    assert_outcome(
        response,
        refusal,
        field="Looked on",
        stored=ExperimentLook.objects.filter(experiment=experiment).exists,
    )
