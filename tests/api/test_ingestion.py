"""Feeding value data: bulk measurements, idempotent retries, experiments with computed statistics."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from governance.api.models import IdempotencyKey
from governance.ledger.models import LedgerEvent
from projects.models import Experiment, KPIMeasurement
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


def months_back(count: int, *, until: dt.date = dt.date(2019, 12, 1)) -> list[str]:
    index = until.year * 12 + until.month - 1
    return [dt.date((index - i) // 12, (index - i) % 12 + 1, 1).isoformat() for i in range(count)]


def batch(periods, value="11.5"):
    return {
        "measurements": [{"period": p, "value": value, "source": "BI", "sample_size": 100} for p in periods]
    }


def measurements_url(world):
    return url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/measurements/")


def test_an_integration_records_every_month_since_2000_in_one_request_and_one_ledger_event(world):
    periods = months_back(240)  # 2000-01 to 2019-12
    events = LedgerEvent.objects.count()
    response = world.client("integration").post(measurements_url(world), batch(periods), format="json")
    assert response.status_code == 201, response.content[:500]
    assert response.json() == {
        "kpi": world.kpi.pk,
        "recorded": 240,
        "first_period": "2000-01-01",
        "last_period": "2019-12-01",
    }
    assert KPIMeasurement.objects.filter(kpi=world.kpi, period__lte="2019-12-01").count() == 240
    assert LedgerEvent.objects.count() == events + 1
    event = LedgerEvent.objects.latest("seq")
    assert event.action == "kpi.measurements_recorded" and event.actor_name == "lead-owner"


def test_a_full_batch_of_10000_rows_is_checked_in_one_request_and_rows_before_2000_are_named(world):
    periods = months_back(10_000)  # back to the 12th century: one KPI has one row a month
    response = world.client("integration").post(measurements_url(world), batch(periods), format="json")
    assert response.status_code == 400
    rows = response.json()["error"]["rows"]
    assert len(rows) == 10_000 - 240 and "239" not in rows
    assert rows["240"].startswith("Period 1999-12 is before 2000-01; allowed: 2000-01 to ")
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period__lte="2019-12-01").exists()


def test_one_bad_row_among_many_stores_nothing_and_names_the_row(world):
    periods = months_back(500)
    body = batch(periods)
    body["measurements"][321]["value"] = "NaN"
    response = world.client("integration").post(measurements_url(world), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["rows"] == {"321": "Value must be a finite number, not NaN."}
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period__lte="2019-12-01").exists()


def test_the_service_s_row_errors_come_back_by_index(world):
    taken = world.kpi.measurements.order_by("period").first().period.isoformat()
    future = (dt.date.today().replace(day=1) + dt.timedelta(days=62)).replace(day=1).isoformat()
    body = batch(["2019-01-01", taken, "2019-02-15", future, "2019-01-01"])
    response = world.client("owner").post(measurements_url(world), body, format="json")
    assert response.status_code == 400
    rows = response.json()["error"]["rows"]
    assert set(rows) == {"1", "2", "3", "4"}
    assert "already has a measurement" in rows["1"] and "already has a measurement" in rows["4"]
    assert rows["2"] == "Period must be the first day of a month."
    assert "has not happened yet" in rows["3"]
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period="2019-01-01").exists()


def test_a_retry_with_the_same_idempotency_key_replays_the_response_and_stores_once(world):
    client = world.client("integration")
    body = batch(months_back(3))
    first = client.post(
        measurements_url(world), body, format="json", HTTP_IDEMPOTENCY_KEY="nightly-2026-01-31"
    )
    events = LedgerEvent.objects.count()
    retry = client.post(
        measurements_url(world), body, format="json", HTTP_IDEMPOTENCY_KEY="nightly-2026-01-31"
    )
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert LedgerEvent.objects.count() == events
    assert KPIMeasurement.objects.filter(kpi=world.kpi, period__lte="2019-12-01").count() == 3


def test_reusing_a_key_for_another_body_is_a_409_and_stores_nothing(world):
    client = world.client("integration")
    client.post(measurements_url(world), batch(["2019-12-01"]), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = client.post(
        measurements_url(world), batch(["2019-11-01"]), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period="2019-11-01").exists()


def test_keys_are_scoped_to_the_caller(world):
    body = batch(["2019-12-01"])
    world.client("integration").post(
        measurements_url(world), body, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    # The owner's own session with the same key is another caller: it runs (and meets the duplicate).
    response = world.client("owner").post(
        measurements_url(world), body, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 400
    assert "already has a measurement" in response.json()["error"]["rows"]["0"]


def test_a_refused_request_keeps_its_key_free_for_the_corrected_retry(world):
    client = world.client("integration")
    bad = batch(["2019-12-01"], value="NaN")
    assert (
        client.post(measurements_url(world), bad, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code
        == 400
    )
    assert not IdempotencyKey.objects.exists()
    good = batch(["2019-12-01"])
    assert (
        client.post(measurements_url(world), good, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code
        == 201
    )


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_a_400(world, key):
    response = world.client("integration").post(
        measurements_url(world), batch(["2019-12-01"]), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period="2019-12-01").exists()


def test_an_idempotent_evidence_upload_is_stored_once(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.api.conftest import PDF

    client = world.client("owner")
    path = url(f"initiatives/{world.pilot.pk}/evidence/")

    def upload():
        return client.post(
            path,
            {"kind": "other", "title": "Survey", "file": SimpleUploadedFile("survey.pdf", PDF)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first, retry = upload(), upload()
    assert first.status_code == retry.status_code == 201, first.content
    assert retry.json() == first.json()
    assert world.pilot.evidence.filter(title="Survey").count() == 1


def test_an_experiment_comes_back_with_lift_interval_and_p_value_computed_by_valuegate(world):
    body = {
        "name": "Reply drafts vs none",
        "success_definition": "ticket waited over 30 minutes",
        "control_size": 4000,
        "control_successes": 2520,
        "treatment_size": 4000,
        "treatment_successes": 1880,
    }
    response = world.client("integration").post(
        url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/experiments/"), body, format="json"
    )
    assert response.status_code == 201, response.content
    result = response.json()["result"]
    assert result["control_rate"] == pytest.approx(0.63)
    assert result["treatment_rate"] == pytest.approx(0.47)
    assert result["lift"] == pytest.approx(-0.16)
    assert result["ci_low"] < -0.16 < result["ci_high"] < 0
    assert result["p_value"] < 1e-6
    assert "p = 0.0000" in result["summary"]
    listed = world.client("auditor").get(
        url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/experiments/")
    )
    assert listed.json()[-1]["result"] == result
    assert Experiment.objects.filter(name="Reply drafts vs none").count() == 1


def test_listing_measurements_is_paginated_oldest_first(world):
    world.client("integration").post(measurements_url(world), batch(months_back(120)), format="json")
    page = world.client("auditor").get(measurements_url(world) + "?page_size=100").json()
    assert page["count"] == 120 + world.kpi.measurements.filter(period__gt="2019-12-01").count()
    periods = [row["period"] for row in page["results"]]
    assert periods == sorted(periods) and len(periods) == 100
    assert json.loads(json.dumps(page["results"][0]))["value"] == "11.500000"


def test_a_batch_costs_the_same_queries_whatever_its_size(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("integration")
    client.get(url("me/"))  # notes the token's last use, which is written at most once a minute

    def queries_for(periods) -> int:
        kpi = world.pilot.kpis.create(
            name=f"K{len(periods)}", unit="%", direction="increase", baseline=1, target=2, data_source="BI"
        )
        path = url(f"initiatives/{world.pilot.pk}/kpis/{kpi.pk}/measurements/")
        with CaptureQueriesContext(connection) as captured:
            assert client.post(path, batch(periods), format="json").status_code == 201
        return len(captured)

    # Both batches fit one INSERT on every database; the count must not grow with the rows.
    assert queries_for(months_back(10)) == queries_for(months_back(100))
