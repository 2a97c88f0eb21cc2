"""Experiments through the API: proportions and means, later looks, and the verdict the gate gives.

The verdict is the admin's: the API's numbers are compared with the initiative page's rows for the
same experiment, never with constants typed here.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from governance.ledger.models import LedgerEvent
from governance.reasons import say
from governance.reviews.policies import policy_version_create
from governance.reviews.portfolio import initiative_page
from governance.reviews.services import review_open
from governance.value.services import experiment_look_record, experiment_record
from projects.models import Experiment, ExperimentLook
from tests import factories
from tests.api.conftest import url

pytestmark = pytest.mark.django_db

MEAN = {
    "name": "Suggested replies",
    "metric": "mean",
    "success_definition": "orders handled per agent per day",
    "control_size": 400,
    "control_mean": "20.5",
    "control_variance": "36",
    "treatment_size": 400,
    "treatment_mean": "22.0",
    "treatment_variance": "40",
}
PROPORTION = {
    "name": "Variant B",
    "success_definition": "converted",
    "control_size": 1000,
    "control_successes": 100,
    "treatment_size": 1000,
    "treatment_successes": 130,
}


def later_counts(**change) -> dict:
    """Today's cumulative counts of a proportion experiment, above any first look recorded here."""
    return {
        "looked_on": today().isoformat(),
        "control_size": 9000,
        "control_successes": 900,
        "treatment_size": 9000,
        "treatment_successes": 1170,
        **change,
    }


def today() -> dt.date:
    return timezone.now().date()


def days_ago(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


def experiments_url(initiative, kpi) -> str:
    return url(f"initiatives/{initiative.pk}/kpis/{kpi.pk}/experiments/")


def looks_url(initiative, kpi, experiment_id: int) -> str:
    return url(f"initiatives/{initiative.pk}/kpis/{kpi.pk}/experiments/{experiment_id}/looks/")


def created(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


def admin_verdict(initiative, experiment_id: int):
    """The verdict the initiative page in the admin shows for this experiment."""
    page = initiative_page(initiative.pk, now=timezone.now())
    row = next(row for _, row in page.experiments if row.experiment.pk == experiment_id)
    assert row.verdict is not None, row.problem
    return row.verdict


def assert_same_as_the_admin(shown: dict, initiative) -> None:
    verdict = admin_verdict(initiative, shown["id"])
    body = shown["verdict"]
    fixed, valid = verdict.fixed, verdict.always_valid
    assert body["method"] == verdict.method
    assert body["significant"] is verdict.significant
    assert body["fixed_horizon"] == {
        "lift": fixed.lift,
        "relative_lift": fixed.relative_lift,
        "ci_low": fixed.ci_low,
        "ci_high": fixed.ci_high,
        "confidence": fixed.confidence,
        "p_value": fixed.p_value,
        "enough_data": fixed.large_sample,
        "significant": verdict.fixed_significant,
    }
    assert body["always_valid"] == {
        "difference": valid.difference,
        "ci_low": valid.cs_low,
        "ci_high": valid.cs_high,
        "confidence": valid.confidence,
        "p_value": valid.p_value,
        "looks": valid.looks,
        "first_significant_look": valid.first_significant_look,
        "enough_data": valid.enough_data,
        "looks_with_enough_data": valid.looks_with_enough_data,
        "contradictory": valid.contradictory,
        "significant": verdict.always_valid_significant,
    }
    assert say(verdict.describe()) in body["summary"]


# A lead's experiment on means, look by look ----------------------------------------------------


def test_a_lead_records_an_experiment_on_means_and_sees_both_intervals(world):
    lead = world.client("owner")
    shown = created(
        lead.post(experiments_url(world.pilot, world.kpi), {**MEAN, "looked_on": days_ago(60)}, format="json")
    )
    assert shown["metric"] == "mean"
    assert shown["control_mean"] == "20.500000" and shown["treatment_variance"] == "40.000000"
    assert shown["control_successes"] is None and shown["treatment_successes"] is None
    assert shown["look_count"] == 1 and shown["latest_look_on"] == days_ago(60)
    assert shown["result"] is None, "the two-proportion result does not apply to means"
    verdict = shown["verdict"]
    assert verdict["method"] == "always_valid", "the default scale policy decides by the always-valid test"
    assert verdict["gate"] == "scale"
    fixed, valid = verdict["fixed_horizon"], verdict["always_valid"]
    assert fixed["ci_low"] < fixed["lift"] < fixed["ci_high"]
    assert valid["ci_low"] < valid["difference"] < valid["ci_high"]
    assert verdict["summary"].startswith(
        "Suggested replies on Conversion rate: decided by the always-valid test"
    )
    assert_same_as_the_admin(shown, world.pilot)

    listed = world.client("auditor").get(experiments_url(world.pilot, world.kpi)).json()
    assert listed[-1] == shown


def test_later_looks_narrow_the_always_valid_interval_and_count_up(world):
    lead = world.client("owner")
    shown = created(
        lead.post(experiments_url(world.pilot, world.kpi), {**MEAN, "looked_on": days_ago(60)}, format="json")
    )
    widths = [shown["verdict"]["always_valid"]["ci_high"] - shown["verdict"]["always_valid"]["ci_low"]]
    later = [
        (
            days_ago(30),
            {"control_size": 800, "control_mean": "20.6", "treatment_size": 800, "treatment_mean": "22.1"},
        ),
        (
            today().isoformat(),
            {"control_size": 1600, "control_mean": "20.5", "treatment_size": 1600, "treatment_mean": "22.0"},
        ),
    ]
    for count, (day, figures) in enumerate(later, start=2):
        body = {"looked_on": day, "control_variance": "36", "treatment_variance": "40", **figures}
        answer = created(lead.post(looks_url(world.pilot, world.kpi, shown["id"]), body, format="json"))
        assert answer["look"]["looked_on"] == day
        assert answer["look"]["experiment"] == shown["id"]
        assert Decimal(answer["look"]["control_mean"]) == Decimal(figures["control_mean"])
        assert answer["look"]["control_successes"] is None
        experiment = answer["experiment"]
        assert experiment["look_count"] == count and experiment["latest_look_on"] == day
        assert experiment["control_size"] == figures["control_size"], "the experiment shows its latest look"
        assert experiment["verdict"]["always_valid"]["looks"] == count
        valid = experiment["verdict"]["always_valid"]
        widths.append(valid["ci_high"] - valid["ci_low"])
        assert_same_as_the_admin(experiment, world.pilot)
    assert widths[0] > widths[1] > widths[2]

    looks = world.client("business").get(looks_url(world.pilot, world.kpi, shown["id"]))
    assert looks.status_code == 200
    assert [look["looked_on"] for look in looks.json()] == [days_ago(60), days_ago(30), today().isoformat()]
    assert [look["control_size"] for look in looks.json()] == [400, 800, 1600]
    assert {look["recorded_by"] for look in looks.json()} == {"lead-owner"}


def test_the_deciding_method_follows_the_scale_gate_policy(world):
    lead = world.client("owner")
    shown = created(lead.post(experiments_url(world.pilot, world.kpi), MEAN, format="json"))
    assert shown["verdict"]["method"] == "always_valid"
    before = shown["verdict"]["policy_version"]

    policy_version_create(actor=world.users["govadmin"], gate="scale", experiment_method="fixed_horizon")

    listed = lead.get(experiments_url(world.pilot, world.kpi)).json()
    again = next(e for e in listed if e["id"] == shown["id"])
    verdict = again["verdict"]
    assert verdict["method"] == "fixed_horizon" and verdict["policy_version"] == before + 1
    assert verdict["significant"] is verdict["fixed_horizon"]["significant"]
    assert "decided by the fixed-horizon test" in verdict["summary"]
    assert_same_as_the_admin(again, world.pilot)


def test_an_open_review_keeps_judging_by_the_policy_it_was_opened_under(world):
    lead = world.client("owner")
    shown = created(lead.post(experiments_url(world.pilot, world.kpi), MEAN, format="json"))
    review_open(actor=world.users["owner"], initiative=world.pilot)
    policy_version_create(actor=world.users["govadmin"], gate="scale", experiment_method="fixed_horizon")

    again = next(
        e for e in lead.get(experiments_url(world.pilot, world.kpi)).json() if e["id"] == shown["id"]
    )
    assert again["verdict"]["method"] == "always_valid"
    assert again["verdict"]["policy_version"] == shown["verdict"]["policy_version"]
    assert_same_as_the_admin(again, world.pilot)


def test_a_proportion_experiment_keeps_its_two_proportion_result(world):
    shown = created(
        world.client("integration").post(experiments_url(world.pilot, world.kpi), PROPORTION, format="json")
    )
    assert shown["metric"] == "proportion"
    assert shown["control_successes"] == 100 and shown["control_mean"] is None
    fixed = shown["verdict"]["fixed_horizon"]
    assert shown["result"]["lift"] == fixed["lift"] and shown["result"]["p_value"] == fixed["p_value"]
    assert shown["result"]["control_rate"] == pytest.approx(0.1)
    assert_same_as_the_admin(shown, world.pilot)


def test_an_interval_the_data_cannot_bound_yet_is_null_not_an_error(world):
    """No success in either arm: no spread, so the always-valid interval is unbounded."""
    body = {**PROPORTION, "control_successes": 0, "treatment_successes": 0}
    shown = created(world.client("owner").post(experiments_url(world.pilot, world.kpi), body, format="json"))
    valid = shown["verdict"]["always_valid"]
    assert valid["ci_low"] is None and valid["ci_high"] is None
    assert shown["verdict"]["significant"] is False


def test_looks_that_contradict_each_other_are_flagged_to_the_integration(world):
    """5.0% against 3.0% at the first look, then 4.0% against 4.4% over twenty times the traffic."""
    client = world.client("owner")
    first = {**PROPORTION, "control_size": 5000, "control_successes": 250, "treatment_size": 5000}
    first.update(treatment_successes=150, looked_on=days_ago(20))
    shown = created(client.post(experiments_url(world.pilot, world.kpi), first, format="json"))
    later = {"looked_on": days_ago(1), "control_size": 100_000, "control_successes": 4000}
    later.update(treatment_size=100_000, treatment_successes=4400)
    answer = created(client.post(looks_url(world.pilot, world.kpi, shown["id"]), later, format="json"))

    valid = answer["experiment"]["verdict"]["always_valid"]
    assert valid["contradictory"] is True and valid["looks_with_enough_data"] == 2
    assert valid["significant"] is False


# Looks that cannot be, and experiments that are not the caller's -------------------------------


def test_a_look_dated_before_the_last_one_is_refused_and_nothing_is_stored(world):
    lead = world.client("owner")
    shown = created(
        lead.post(experiments_url(world.pilot, world.kpi), {**MEAN, "looked_on": days_ago(10)}, format="json")
    )
    events, looks = LedgerEvent.objects.count(), ExperimentLook.objects.count()
    body = {
        "looked_on": days_ago(20),
        "control_size": 800,
        "control_mean": "20.6",
        "control_variance": "36",
        "treatment_size": 800,
        "treatment_mean": "22.1",
        "treatment_variance": "40",
    }
    error = refused(lead.post(looks_url(world.pilot, world.kpi, shown["id"]), body, format="json"))
    assert error["message"] == f"A new look must come after the last one ({days_ago(10)})."
    assert LedgerEvent.objects.count() == events and ExperimentLook.objects.count() == looks
    assert Experiment.objects.get(pk=shown["id"]).control_size == 400


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"looked_on": lambda: (today() + dt.timedelta(days=400)).isoformat()},
            lambda: (
                f"Looked on {today() + dt.timedelta(days=400)} is in the future; "
                f"allowed: 2000-01-01 to {today()} (today)."
            ),
        ),
        ({"control_size": 399}, "Counts are cumulative and cannot decrease: control size."),
        ({"control_variance": "-1"}, "A variance cannot be negative."),
    ],
)
def test_the_service_refuses_impossible_looks(world, change, message):
    lead = world.client("owner")
    shown = created(
        lead.post(experiments_url(world.pilot, world.kpi), {**MEAN, "looked_on": days_ago(10)}, format="json")
    )
    events = LedgerEvent.objects.count()
    body = {
        **{k: v for k, v in MEAN.items() if k.startswith(("control", "treatment"))},
        "looked_on": days_ago(1),
    }
    change = {k: v() if callable(v) else v for k, v in change.items()}  # dates: on the test's clock
    error = refused(
        lead.post(looks_url(world.pilot, world.kpi, shown["id"]), {**body, **change}, format="json")
    )
    assert error["message"] == (message() if callable(message) else message)
    assert LedgerEvent.objects.count() == events
    assert ExperimentLook.objects.filter(experiment_id=shown["id"]).count() == 1


def test_an_experiment_of_another_lead_is_not_found(world):
    foreign = world.other_pilot.kpis.get().experiments.get()
    lead = world.client("owner")
    events = LedgerEvent.objects.count()
    body = later_counts()
    for client in (lead, world.client("integration")):
        # The lead's own initiative and KPI in the path, someone else's experiment id.
        assert refused(client.get(looks_url(world.pilot, world.kpi, foreign.pk)), 404)["code"] == "not_found"
        refused(client.post(looks_url(world.pilot, world.kpi, foreign.pk), body, format="json"), 404)
        # The other lead's initiative in the path.
        refused(client.get(looks_url(world.other_pilot, foreign.kpi, foreign.pk)), 404)
        refused(client.post(looks_url(world.other_pilot, foreign.kpi, foreign.pk), body, format="json"), 404)
    refused(
        world.client("other_lead").get(looks_url(world.pilot, world.kpi, world.kpi.experiments.get().pk)), 404
    )
    assert LedgerEvent.objects.count() == events
    assert not ExperimentLook.objects.filter(experiment=foreign).exists()


def test_an_experiment_of_another_kpi_of_the_same_initiative_is_not_found(world):
    other_kpi = factories.KPIFactory(initiative=world.pilot, name="Handling time")
    experiment = world.kpi.experiments.get()
    refused(world.client("owner").get(looks_url(world.pilot, other_kpi, experiment.pk)), 404)


@pytest.mark.parametrize("role", ["auditor", "business", "chair"])
def test_auditors_and_the_committee_read_experiments_and_looks_but_record_none(world, role):
    client = world.client(role)
    experiment = world.kpi.experiments.get()
    assert client.get(experiments_url(world.pilot, world.kpi)).status_code == 200
    assert client.get(looks_url(world.pilot, world.kpi, experiment.pk)).status_code == 200
    events, count = LedgerEvent.objects.count(), Experiment.objects.count()
    refused(client.post(experiments_url(world.pilot, world.kpi), MEAN, format="json"), 403)
    body = later_counts()
    refused(client.post(looks_url(world.pilot, world.kpi, experiment.pk), body, format="json"), 403)
    assert LedgerEvent.objects.count() == events and Experiment.objects.count() == count
    assert not experiment.looks.exists()


def test_an_integration_records_a_look_once_however_often_it_retries(world):
    integration = world.client("integration")
    shown = created(
        integration.post(
            experiments_url(world.pilot, world.kpi), {**PROPORTION, "looked_on": days_ago(7)}, format="json"
        )
    )
    body = {
        "looked_on": days_ago(0),
        "control_size": 2000,
        "control_successes": 200,
        "treatment_size": 2000,
        "treatment_successes": 262,
    }
    first = integration.post(
        looks_url(world.pilot, world.kpi, shown["id"]), body, format="json", HTTP_IDEMPOTENCY_KEY="look-1"
    )
    retry = integration.post(
        looks_url(world.pilot, world.kpi, shown["id"]), body, format="json", HTTP_IDEMPOTENCY_KEY="look-1"
    )
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert ExperimentLook.objects.filter(experiment_id=shown["id"]).count() == 2


# Bad input: 400, nothing stored ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"control_mean": "NaN"}, "control_mean"),
        ({"control_mean": "Infinity"}, "control_mean"),
        ({"treatment_variance": "-Infinity"}, "treatment_variance"),
        ({"control_mean": "1e400"}, "control_mean"),
        ({"control_mean": "20.1234567"}, "control_mean"),
        ({"control_mean": None}, "control_mean"),
        ({"control_mean": True}, "control_mean"),
        ({"control_successes": 10}, "control_successes"),
        ({"colour": "blue"}, "colour"),
        ({"metric": "median"}, "metric"),
        ({"looked_on": "2020-02-30"}, "looked_on"),
        ({"verdict": {"significant": True}}, "verdict"),
        ({"look_count": 5}, "look_count"),
    ],
)
def test_bad_figures_of_an_experiment_on_means_are_refused(world, change, field):
    events, count = LedgerEvent.objects.count(), Experiment.objects.count()
    error = refused(
        world.client("owner").post(experiments_url(world.pilot, world.kpi), {**MEAN, **change}, format="json")
    )
    assert field in error["fields"], error
    assert LedgerEvent.objects.count() == events and Experiment.objects.count() == count


def test_a_first_look_dated_in_the_future_is_refused_by_the_service_and_nothing_stored(world):
    events, count = LedgerEvent.objects.count(), Experiment.objects.count()
    ahead = (today() + dt.timedelta(days=400)).isoformat()
    error = refused(
        world.client("owner").post(
            experiments_url(world.pilot, world.kpi), {**MEAN, "looked_on": ahead}, format="json"
        )
    )
    assert (
        error["message"] == f"Looked on {ahead} is in the future; allowed: 2000-01-01 to {today()} (today)."
    )
    assert LedgerEvent.objects.count() == events and Experiment.objects.count() == count


def test_a_missing_mean_and_a_mean_sent_for_a_proportion_are_named(world):
    lead = world.client("owner")
    body = {k: v for k, v in MEAN.items() if k != "treatment_variance"}
    error = refused(lead.post(experiments_url(world.pilot, world.kpi), body, format="json"))
    assert error["fields"] == {"treatment_variance": ["This field is required."]}
    error = refused(
        lead.post(experiments_url(world.pilot, world.kpi), {**PROPORTION, "control_mean": "3"}, format="json")
    )
    assert error["fields"]["control_mean"] == [
        'Only for an experiment on means (metric "mean"); an experiment on a proportion sends each arm\'s successes.'
    ]
    error = refused(
        lead.post(experiments_url(world.pilot, world.kpi), {**MEAN, "treatment_successes": 1}, format="json")
    )
    assert (
        "an experiment on means sends each arm's mean and variance"
        in error["fields"]["treatment_successes"][0]
    )
    assert not Experiment.objects.filter(name__in=[MEAN["name"], PROPORTION["name"]]).exists()


def mean_as_json_text(**literals: str) -> str:
    """MEAN as JSON text, some values replaced by literal JSON text."""
    return (
        "{" + ", ".join(f"{json.dumps(k)}: {literals.get(k, json.dumps(v))}" for k, v in MEAN.items()) + "}"
    )


@pytest.mark.parametrize(
    ("literals", "code"),
    [
        ({"control_mean": "NaN"}, "malformed"),
        ({"control_mean": "Infinity"}, "malformed"),
        ({"control_mean": "1e400"}, "invalid"),
        ({"control_variance": "-1e400"}, "invalid"),
        ({"treatment_mean": "0.1234567"}, "invalid"),
    ],
)
def test_numbers_json_cannot_hold_or_no_column_can_are_refused(world, literals, code):
    events = LedgerEvent.objects.count()
    response = world.client("owner").post(
        experiments_url(world.pilot, world.kpi),
        mean_as_json_text(**literals),
        content_type="application/json",
    )
    assert refused(response)["code"] == code
    assert LedgerEvent.objects.count() == events and not Experiment.objects.filter(name=MEAN["name"]).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"control_variance": "-0.5"}, "A variance cannot be negative."),
        (
            {"control_size": 1, "treatment_size": 1},
            "Each arm needs at least two observations for a variance.",
        ),
    ],
)
def test_the_service_refuses_impossible_means(world, change, message):
    events = LedgerEvent.objects.count()
    error = refused(
        world.client("owner").post(experiments_url(world.pilot, world.kpi), {**MEAN, **change}, format="json")
    )
    assert error["message"] == message
    assert LedgerEvent.objects.count() == events and not Experiment.objects.filter(name=MEAN["name"]).exists()


def test_more_successes_than_observations_is_refused(world):
    body = {**PROPORTION, "treatment_successes": 1001}
    error = refused(world.client("owner").post(experiments_url(world.pilot, world.kpi), body, format="json"))
    assert error["message"] == "The treatment arm cannot have more successes than observations."
    assert not Experiment.objects.filter(name=PROPORTION["name"]).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"control_successes": "NaN"}, "control_successes"),
        ({"control_successes": 9001}, None),
        ({"control_mean": "1.5"}, "control_mean"),
        ({"name": "Renamed"}, "name"),
        ({"looked_on": None}, "looked_on"),
    ],
)
def test_bad_figures_of_a_look_are_refused(world, change, field):
    experiment = world.kpi.experiments.get()
    events = LedgerEvent.objects.count()
    body = later_counts(**change)
    error = refused(
        world.client("owner").post(looks_url(world.pilot, world.kpi, experiment.pk), body, format="json")
    )
    if field is None:
        assert error["message"] == "The control arm cannot have more successes than observations."
    else:
        assert field in error["fields"], error
    assert LedgerEvent.objects.count() == events and not experiment.looks.exists()


# Queries ----------------------------------------------------------------------------------------


def _experiments_with_three_looks(kpi, owner, count: int) -> None:
    for number in range(count):
        experiment = experiment_record(
            actor=owner,
            kpi=kpi,
            name=f"Variant {number}",
            success_definition="converted",
            control_size=1000,
            control_successes=100,
            treatment_size=1000,
            treatment_successes=120,
            looked_on=today() - dt.timedelta(days=60),
        )
        for days, size in ((30, 2000), (0, 4000)):
            experiment_look_record(
                actor=owner,
                experiment=experiment,
                looked_on=today() - dt.timedelta(days=days),
                control_size=size,
                control_successes=size // 10,
                treatment_size=size,
                treatment_successes=size * 12 // 100,
            )


# Session, user, the user's roles, the initiative, the KPI, the open review (none), the scale
# policy, the experiments, their looks.
LIST_QUERIES = 9


@pytest.mark.parametrize("count", [1, 10])
def test_listing_experiments_costs_the_same_queries_whatever_their_number_and_looks(
    world, count, django_assert_num_queries
):
    kpi = factories.KPIFactory(initiative=world.pilot, name="Handling time")
    _experiments_with_three_looks(kpi, world.users["owner"], count)
    client = world.client("owner")
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(experiments_url(world.pilot, kpi))
    assert response.status_code == 200
    assert len(response.json()) == count
    assert {e["look_count"] for e in response.json()} == {3}
    assert {e["verdict"]["always_valid"]["looks"] for e in response.json()} == {3}


# Whatever the figures, an answer: stored (201) or refused (400) with nothing stored ------------

ARM_FIELDS = (
    "control_size",
    "control_successes",
    "treatment_size",
    "treatment_successes",
    "control_mean",
    "control_variance",
    "treatment_mean",
    "treatment_variance",
)
json_literal = st.one_of(
    st.integers(min_value=0, max_value=5000).map(str),
    st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: json.dumps(str(d))),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "null", "true", "[]", "{}"]
    ),
    st.sampled_from(['"12.5"', '"-3"', '"NaN"', '"1e400"', '"0.0000001"', '"Infinity"', '" 7 "']),
    st.text(max_size=20).map(json.dumps),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)).map(
        lambda d: json.dumps(d.isoformat())
    ),
)


def json_text(values: dict[str, str]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in values.items()) + "}"


def figures_of(metric: str) -> dict[str, str]:
    body = MEAN if metric == "mean" else {**PROPORTION, "metric": "proportion"}
    return {k: json.dumps(v) for k, v in body.items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    metric=st.sampled_from(["mean", "proportion"]),
    first=st.dictionaries(st.sampled_from((*ARM_FIELDS, "looked_on", "metric")), json_literal, max_size=3),
    later=st.dictionaries(st.sampled_from((*ARM_FIELDS, "looked_on")), json_literal, max_size=3),
)
def test_no_figures_break_the_experiment_endpoints(world, metric, first, later):
    lead = world.client("owner")
    events = LedgerEvent.objects.count()
    response = lead.post(
        experiments_url(world.pilot, world.kpi),
        json_text({**figures_of(metric), "looked_on": json.dumps(days_ago(30)), **first}),
        content_type="application/json",
    )
    assert response.status_code in (201, 400), response.content
    event(f"experiment {response.status_code}")
    if response.status_code == 400:
        assert response.json()["error"]["message"] and LedgerEvent.objects.count() == events
        return
    experiment = response.json()
    events = LedgerEvent.objects.count()
    arms = {k: v for k, v in figures_of(experiment["metric"]).items() if k in ARM_FIELDS}
    looks = looks_url(world.pilot, world.kpi, experiment["id"])
    response = lead.post(
        looks,
        json_text({**arms, "looked_on": json.dumps(today().isoformat()), **later}),
        content_type="application/json",
    )
    assert response.status_code in (201, 400), response.content
    event(f"look {response.status_code}")
    if response.status_code == 400:
        assert response.json()["error"]["message"] and LedgerEvent.objects.count() == events
    assert lead.get(experiments_url(world.pilot, world.kpi)).status_code == 200
    assert lead.get(looks).status_code == 200
