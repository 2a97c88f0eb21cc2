"""The API refuses a figure dated in the future or before 2000 with a 400 in the services' words:
the field, and the range it accepts; never a server error, whatever year is sent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from projects.models import ExperimentLook, FinancialEntry, KPIMeasurement
from tests import factories
from tests.api.conftest import build_world, url

NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)
COUNTS = {"control_size": 100, "control_successes": 10, "treatment_size": 100, "treatment_successes": 15}

MONTHS = [
    ("2026-03-01", None),
    ("2000-01-01", None),
    ("2026-04-01", "2026-04 has not happened yet; allowed: 2000-01 to 2026-03 (the current month)."),
    ("9999-12-01", "9999-12 has not happened yet; allowed: 2000-01 to 2026-03 (the current month)."),
    ("1999-12-01", "1999-12 is before 2000-01; allowed: 2000-01 to 2026-03 (the current month)."),
    ("0001-01-01", "0001-01 is before 2000-01; allowed: 2000-01 to 2026-03 (the current month)."),
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
def world(db):
    """The API tests' world on 15 March 2026, with a fresh KPI and an experiment not looked at yet."""
    with time_machine.travel(NOW, tick=True):
        world = build_world()
        world.kpi = factories.KPIFactory(initiative=world.pilot, name="Handling time")
        world.experiment = factories.ExperimentFactory(kpi=world.kpi)
        yield world


def base(world) -> str:
    return f"initiatives/{world.pilot.pk}/"


def assert_outcome(response, refusal: str | None, *, field: str, stored) -> dict:
    body = response.json()
    if refusal is None:
        assert response.status_code == 201, body
        assert stored()
    else:
        assert response.status_code == 400, body
        assert body["error"]["code"] in ("invalid", "invalid_rows")
        assert f"{field} {refusal}" in body["error"]["message"]
        assert not stored()
    return body


@pytest.mark.parametrize(("period", "refusal"), MONTHS)
def test_a_measurement_batch_refuses_a_period_out_of_range(world, period, refusal):
    response = world.client("integration").post(
        url(base(world) + f"kpis/{world.kpi.pk}/measurements/"),
        {"measurements": [{"period": period, "value": "14.5", "source": "BI"}]},
        format="json",
    )
    body = assert_outcome(
        response, refusal, field="Period", stored=KPIMeasurement.objects.filter(kpi=world.kpi).exists
    )
    if refusal is not None:
        assert body["error"]["rows"] == {"0": f"Period {refusal}"}


@pytest.mark.parametrize("kind", ["cost", "benefit"])
@pytest.mark.parametrize(("month", "refusal"), MONTHS)
def test_a_cost_or_benefit_out_of_range_is_refused(world, kind, month, refusal):
    before = set(FinancialEntry.objects.values_list("pk", flat=True))
    response = world.client("integration").post(
        url(base(world) + "financial-entries/"),
        {"kind": kind, "month": month, "amount": "1000"},
        format="json",
    )
    assert_outcome(
        response,
        refusal,
        field="Month",
        stored=FinancialEntry.objects.exclude(pk__in=before).filter(month=month).exists,
    )


@pytest.mark.parametrize(("day", "refusal"), DAYS)
def test_an_experiment_first_look_out_of_range_is_refused(world, day, refusal):
    response = world.client("integration").post(
        url(base(world) + f"kpis/{world.kpi.pk}/experiments/"),
        {"name": "Copy test", "success_definition": "clicked", "looked_on": day, **COUNTS},
        format="json",
    )
    assert_outcome(
        response, refusal, field="Looked on", stored=world.kpi.experiments.filter(name="Copy test").exists
    )


@pytest.mark.parametrize(("day", "refusal"), DAYS)
def test_a_later_look_out_of_range_is_refused(world, day, refusal):
    response = world.client("integration").post(
        url(base(world) + f"kpis/{world.kpi.pk}/experiments/{world.experiment.pk}/looks/"),
        {"looked_on": day, **COUNTS},
        format="json",
    )
    assert_outcome(
        response,
        refusal,
        field="Looked on",
        stored=ExperimentLook.objects.filter(experiment=world.experiment).exists,
    )
