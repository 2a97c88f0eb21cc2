"""Bad input: a clear 400 (or 413) in the one error format, never a 500, and nothing stored."""

from __future__ import annotations

import json

import pytest

from governance.ledger.models import LedgerEvent
from projects.models import FinancialEntry, Initiative, KPIMeasurement
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


def measurements_url(world):
    return url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/measurements/")


def post_raw(client, path, body: bytes | str, content_type="application/json", **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def assert_refused(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("NaN", "finite"),
        ("sNaN", "finite"),
        ("-nan", "finite"),
        ("Infinity", "finite"),
        ("-Infinity", "finite"),
        ("1e400", "too large"),
        ("1E+400", "too large"),
        ("12.1234567", "decimal places"),
        ("1e-7", "decimal places"),
        ("12,5", "must be a number"),
        ("", "must be a number"),
        ("0x10", "must be a number"),
        ("1" * 101, "not a number"),
        ("12\x005", "not a number"),
    ],
)
def test_bad_measurement_values_are_refused_by_row_and_nothing_is_stored(world, value, reason):
    client = world.client("integration")
    before = KPIMeasurement.objects.count(), LedgerEvent.objects.count()
    rows = [
        {"period": "2020-01-01", "value": "11", "source": "BI"},
        {"period": "2020-02-01", "value": value, "source": "BI"},
    ]
    error = assert_refused(client.post(measurements_url(world), {"measurements": rows}, format="json"))
    assert error["code"] == "invalid_rows"
    assert list(error["rows"]) == ["1"] and reason in error["rows"]["1"]
    assert (KPIMeasurement.objects.count(), LedgerEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("raw_number", "reason"),
    [("1e400", "too large"), ("12.1234567", "decimal places"), ("123456789012345678901234", "too large")],
)
def test_json_numbers_keep_their_digits_and_are_checked_as_decimals(world, raw_number, reason):
    body = '{"measurements": [{"period": "2020-01-01", "value": VALUE, "source": "BI"}]}'.replace(
        "VALUE", raw_number
    )
    error = assert_refused(post_raw(world.client("integration"), measurements_url(world), body))
    assert reason in error["rows"]["0"]


def test_a_json_number_keeps_every_digit_it_was_sent_with(world):
    body = '{"measurements": [{"period": "2020-01-01", "value": 12345678901234.123456, "source": "BI"}]}'
    response = post_raw(world.client("integration"), measurements_url(world), body)
    assert response.status_code == 201, response.content
    # What the ledger hashed is what was sent: no detour through a binary float.
    event = LedgerEvent.objects.filter(action="kpi.measurements_recorded").latest("seq")
    assert json.loads(event.payload)["measurements"][0]["value"] == "12345678901234.123456"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_malformed_json(world, literal):
    body = '{"measurements": [{"period": "2020-01-01", "value": VALUE, "source": "BI"}]}'.replace(
        "VALUE", literal
    )
    error = assert_refused(post_raw(world.client("integration"), measurements_url(world), body))
    assert error["code"] == "malformed" and "finite number" in error["message"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"period": "2020-01-01", "value": True, "source": "BI"}, "not a boolean"),
        ({"period": "2020-01-01", "value": [1], "source": "BI"}, "not an array"),
        ({"period": "2020-01-01", "value": None, "source": "BI"}, "not null"),
        ({"period": 20200101, "value": "1", "source": "BI"}, "YYYY-MM-DD"),
        ({"period": "2020-02-30", "value": "1", "source": "BI"}, "not a calendar date"),
        ({"period": "20200101", "value": "1", "source": "BI"}, "YYYY-MM-DD"),
        ({"period": "2020-01-01", "value": "1", "source": ""}, "Source is required"),
        ({"period": "2020-01-01", "value": "1", "source": "B\x00I"}, "NUL"),
        ({"period": "2020-01-01", "value": "1", "source": "x" * 201}, "At most 200"),
        ({"period": "2020-01-01", "value": "1", "source": 7}, "Must be a string"),
        ({"period": "2020-01-01", "value": "1", "source": "BI", "sample_size": "10"}, "whole number"),
        ({"period": "2020-01-01", "value": "1", "source": "BI", "sample_size": 1.5}, "whole number"),
        ({"period": "2020-01-01", "value": "1", "source": "BI", "sample_size": 2**31}, "between"),
        ({"period": "2020-01-01", "value": "1", "source": "BI", "sample_size": -1}, "between"),
        ({"period": "2020-01-01", "value": "1", "source": "BI", "recorded_by": 1}, "Unknown field"),
        ({"value": "1", "source": "BI"}, "Missing: period"),
        ("2020-01-01,1,BI", "must be an object"),
    ],
)
def test_malformed_rows_are_named_by_index(world, row, reason):
    good = {"period": "2019-12-01", "value": "10", "source": "BI"}
    response = world.client("owner").post(
        measurements_url(world), {"measurements": [good, row]}, format="json"
    )
    error = assert_refused(response)
    assert set(error["rows"]) == {"1"} and reason in error["rows"]["1"], error
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period="2019-12-01").exists()


@pytest.mark.parametrize(
    ("body", "content_type", "code", "status"),
    [
        (b'{"measurements": [', "application/json", "malformed", 400),
        (b"{'measurements': []}", "application/json", "malformed", 400),
        (b'{"measurements": [], "measurements": []}', "application/json", "malformed", 400),
        (b"\xff\xfe not utf-8", "application/json", "malformed", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "malformed", 400),
        (
            b'{"measurements": [{"period": "2020-01-01", "value": 1%s, "source": "x"}]}' % (b"0" * 5000),
            "application/json",
            "malformed",
            400,
        ),
        (b"measurements=1", "application/x-www-form-urlencoded", "unsupported_media_type", 415),
        (b"<xml/>", "text/xml", "unsupported_media_type", 415),
    ],
    ids=[
        "truncated",
        "single-quotes",
        "duplicate-key",
        "not-utf8",
        "deep-nesting",
        "huge-integer",
        "form",
        "xml",
    ],
)
def test_malformed_bodies_are_refused_in_the_error_format(world, body, content_type, code, status):
    response = post_raw(world.client("owner"), measurements_url(world), body, content_type=content_type)
    assert assert_refused(response, status)["code"] == code


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({}, "measurements", "required"),
        ({"measurements": []}, "measurements", "at least one"),
        ({"measurements": {}}, "measurements", "array"),
        ({"measurements": [], "kpi": 3}, "kpi", "Unknown field"),
    ],
)
def test_batch_shape_errors_name_the_field(world, body, field, reason):
    error = assert_refused(world.client("owner").post(measurements_url(world), body, format="json"))
    assert reason in " ".join(error["fields"][field])


def test_a_batch_of_more_than_10000_rows_is_refused_whole(world):
    rows = [{"period": "2020-01-01", "value": "1", "source": "BI"}] * 10_001
    error = assert_refused(
        world.client("integration").post(measurements_url(world), {"measurements": rows}, format="json")
    )
    assert "At most 10000 measurements" in error["message"]


def test_an_oversized_body_is_413_json_before_it_is_read(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"measurements": [{"period": "2020-01-01", "value": "1", "source": "x" * 2000}]})
    error = assert_refused(post_raw(world.client("integration"), measurements_url(world), body), 413)
    assert error["code"] == "too_large"
    assert not KPIMeasurement.objects.filter(kpi=world.kpi, period="2020-01-01").exists()


def test_an_oversized_upload_is_413_json(world, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.VALUEGATE_API_MAX_UPLOAD_BYTES = 1000
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 5000)
    response = world.client("owner").post(
        url(f"initiatives/{world.pilot.pk}/evidence/"),
        {"kind": "other", "title": "Big", "file": upload},
        format="multipart",
    )
    assert assert_refused(response, 413)["code"] == "too_large"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"title": "", "department": "Sales"}, "title", "blank"),
        ({"title": "   ", "department": "Sales"}, "title", "blank"),
        ({"title": "A\x00B", "department": "Sales"}, "title", "NUL"),
        ({"title": "x" * 201, "department": "Sales"}, "title", "At most 200"),
        ({"title": "Ok", "department": "Sales", "pain_point": "p" * 5001}, "pain_point", "At most 5000"),
        ({"title": 42, "department": "Sales"}, "title", "Must be a string"),
        ({"title": ["a"], "department": "Sales"}, "title", "Must be a string"),
        (
            {"title": "Ok", "department": "Sales", "uses_personal_data": "yes"},
            "uses_personal_data",
            "true or false",
        ),
        ({"title": "Ok", "department": "Sales", "risk_tier": "none"}, "risk_tier", "one of"),
        ({"title": "Ok", "department": "Sales", "stage": "scale"}, "stage", "Read-only"),
        ({"title": "Ok", "department": "Sales", "owner": "chair"}, "owner", "Read-only"),
        ({"title": "Ok", "department": "Sales", "budget_override": 1}, "budget_override", "Unknown field"),
        ({"title": "Ok", "department": "Sales", "sponsor": "nobody-here"}, "sponsor", "No active user"),
        ({"department": "Sales"}, "title", "required"),
    ],
)
def test_bad_initiative_input_is_refused_field_by_field_and_nothing_is_created(world, body, field, reason):
    before = Initiative.objects.count(), LedgerEvent.objects.count()
    error = assert_refused(world.client("owner").post(url("initiatives/"), body, format="json"))
    assert field in error["fields"] and reason in " ".join(error["fields"][field]), error
    assert (Initiative.objects.count(), LedgerEvent.objects.count()) == before


def test_a_lone_surrogate_is_refused_not_a_server_error(world):
    body = '{"title": "caf\\ud800", "department": "Sales"}'
    error = assert_refused(post_raw(world.client("owner"), url("initiatives/"), body))
    assert "title" in error["fields"]


def test_a_non_object_body_is_refused(world):
    error = assert_refused(post_raw(world.client("owner"), url("initiatives/"), "[1, 2]"))
    assert error["code"] == "invalid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "cost", "month": "2026-01-01", "amount": "NaN"}, "amount"),
        ({"kind": "cost", "month": "2026-01-01", "amount": "1.005"}, "amount"),
        ({"kind": "cost", "month": "2026-01-01", "amount": "1e400"}, "amount"),
        ({"kind": "cost", "month": "2026-01-01", "amount": "123456789012345"}, "amount"),
        ({"kind": "cost", "month": "2026-01-01T00:00:00", "amount": "1"}, "month"),
        ({"kind": "gift", "month": "2026-01-01", "amount": "1"}, "kind"),
        ({"kind": "cost", "month": "2026-01-01", "amount": "1", "recorded_by": "chair"}, "recorded_by"),
    ],
)
def test_bad_money_is_refused(world, body, field):
    before = FinancialEntry.objects.count()
    error = assert_refused(
        world.client("integration").post(
            url(f"initiatives/{world.pilot.pk}/financial-entries/"), body, format="json"
        )
    )
    assert field in error["fields"]
    assert FinancialEntry.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"control_size": "1000"}, "control_size"),
        ({"control_size": 1000.0}, "control_size"),
        ({"control_size": True}, "control_size"),
        ({"control_size": 0}, "control_size"),
        ({"control_size": 2**40}, "control_size"),
        ({"p_value": 0.001}, "p_value"),
        ({"lift": 0.3}, "lift"),
    ],
)
def test_bad_experiment_counts_and_posted_statistics_are_refused(world, body, field):
    full = {
        "name": "Variant B",
        "success_definition": "converted",
        "control_size": 1000,
        "control_successes": 100,
        "treatment_size": 1000,
        "treatment_successes": 130,
        **body,
    }
    error = assert_refused(
        world.client("integration").post(
            url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/experiments/"), full, format="json"
        )
    )
    assert field in error["fields"]
    assert not world.kpi.experiments.filter(name="Variant B").exists()


def test_more_successes_than_observations_is_the_service_s_400(world):
    body = {
        "name": "Impossible",
        "success_definition": "converted",
        "control_size": 10,
        "control_successes": 11,
        "treatment_size": 10,
        "treatment_successes": 1,
    }
    error = assert_refused(
        world.client("owner").post(
            url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/experiments/"), body, format="json"
        )
    )
    assert error["message"] == "The control arm cannot have more successes than observations."


@pytest.mark.parametrize(
    "path",
    [
        "initiatives/99999999999999999999999999/",
        "initiatives/-1/",
        "initiatives/abc/",
        "nowhere/",
        "initiatives/%00/",
    ],
)
def test_unknown_paths_and_absurd_ids_are_json_404s(world, path):
    assert_refused(world.client("auditor").get(url(path)), 404)


@pytest.mark.parametrize(
    "query", ["?page=0", "?page=abc", "?page=999", "?owner=%00", "?department=" + "d" * 500]
)
def test_bad_query_strings_are_4xx_never_500(world, query):
    response = world.client("auditor").get(url(f"initiatives/{query}"))
    assert response.status_code in (400, 404), response.content
    assert_refused(response, response.status_code)


def test_a_bad_ledger_cursor_is_a_400_in_the_error_format(world):
    assert_refused(world.client("auditor").get(url("ledger/?cursor=not-a-cursor")), 400)
