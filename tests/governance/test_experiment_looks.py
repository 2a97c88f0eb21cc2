"""Experiments keep every look, so any verdict can be recomputed for any look later."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.errors import InvalidInput
from governance.ledger.models import LedgerEvent
from governance.reasons import say
from governance.reviews.facts import next_gate_checklist
from governance.value.services import experiment_look_record, experiment_record
from projects.models import ExperimentLook
from projects.vocabulary import Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


# The day every test starts on (tests/clock.py), never today's date.
TODAY = configured_clock().date()


@pytest.fixture
def kpi():
    return factories.KPIFactory(initiative=factories.InitiativeFactory(stage=Stage.PILOT))


def record(kpi, **counts):
    counts = {
        "control_size": 2000,
        "control_successes": 80,
        "treatment_size": 2000,
        "treatment_successes": 100,
        **counts,
    }
    return experiment_record(
        actor=kpi.initiative.owner,
        kpi=kpi,
        name="Copy test",
        success_definition="clicked",
        looked_on=TODAY - dt.timedelta(days=60),
        **counts,
    )


def test_an_experiment_starts_with_its_first_look_and_shows_the_latest(kpi):
    experiment = record(kpi)
    look = experiment_look_record(
        actor=kpi.initiative.owner,
        experiment=experiment,
        looked_on=TODAY - dt.timedelta(days=30),
        control_size=4000,
        control_successes=160,
        treatment_size=4000,
        treatment_successes=210,
    )
    experiment.refresh_from_db()
    assert experiment.control_size == 4000 and experiment.treatment_successes == 210
    assert list(
        ExperimentLook.objects.filter(experiment=experiment).values_list("control_size", flat=True)
    ) == [
        2000,
        4000,
    ]
    event = LedgerEvent.objects.get(action="experiment.look_recorded")
    assert f'"experiment":{experiment.pk}' in event.payload and look.pk


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"control_size": 1999}, "cannot decrease: control size"),
        ({"treatment_successes": 99}, "cannot decrease: treatment successes"),
        ({"looked_on": -60}, "must come after"),
        ({"looked_on": +1}, "future"),
        ({"control_successes": 2500}, "more successes than observations"),
    ],
)
def test_bad_looks_are_refused_and_nothing_changes(kpi, change, message):
    experiment = record(kpi)
    arguments = {
        "control_size": 2000,
        "control_successes": 80,
        "treatment_size": 2000,
        "treatment_successes": 100,
        **change,
        "looked_on": TODAY + dt.timedelta(days=change.get("looked_on", 0)),  # days from today
    }
    with pytest.raises(InvalidInput, match=message):
        experiment_look_record(actor=kpi.initiative.owner, experiment=experiment, **arguments)
    assert experiment.looks.count() == 1
    assert not LedgerEvent.objects.filter(action="experiment.look_recorded").exists()


def test_a_look_with_no_new_data_is_accepted(kpi):
    experiment = record(kpi)
    experiment_look_record(
        actor=kpi.initiative.owner,
        experiment=experiment,
        looked_on=TODAY,
        control_size=2000,
        control_successes=80,
        treatment_size=2000,
        treatment_successes=100,
    )
    assert experiment.looks.count() == 2


def test_a_time_experiment_records_means_and_variances(kpi):
    experiment = experiment_record(
        actor=kpi.initiative.owner,
        kpi=kpi,
        name="Reply drafts",
        success_definition="minutes to first reply",
        metric="mean",
        control_size=1200,
        treatment_size=1200,
        control_mean="58.2",
        control_variance="400",
        treatment_mean="40.1",
        treatment_variance="380.5",
    )
    assert experiment.looks.get().treatment_mean == Decimal("40.1")
    with pytest.raises(InvalidInput, match="finite"):
        experiment_record(
            actor=kpi.initiative.owner,
            kpi=kpi,
            name="Bad",
            success_definition="minutes",
            metric="mean",
            control_size=10,
            treatment_size=10,
            control_mean="NaN",
            control_variance="1",
            treatment_mean="1",
            treatment_variance="1",
        )


def test_the_scale_gate_judges_experiments_over_all_their_looks_by_default(members):
    initiative = factories.pilot_ready_for_scale_gate()
    checklist = next_gate_checklist(initiative.pk, now=timezone.now())
    experiments = next(r for r in checklist.requirements if r.code == "experiments")
    assert "always-valid test" in say(experiments.label)
    assert "decided by the always-valid test" in say(experiments.reason)
