"""Inputs found by fuzzing the live API: each is accepted properly or refused with a clear 4xx."""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest
from django.core import signals
from django.urls import reverse

from governance.models import Condition, LedgerEvent
from projects.models import Initiative
from tests import factories
from tests.api.conftest import PDF, url

pytestmark = pytest.mark.django_db


def refused(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


# Users named by username -------------------------------------------------------------------


def test_a_new_initiative_takes_its_sponsor_by_username(world):
    body = {"title": "Claims triage", "department": "Claims", "sponsor": "chair"}
    response = world.client("owner").post(url("initiatives/"), body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["sponsor"] == "chair"
    assert Initiative.objects.get(pk=response.json()["id"]).sponsor == world.users["chair"]


def test_a_draft_s_sponsor_is_changed_by_username_and_a_misspelt_one_is_refused(world):
    path = url(f"initiatives/{world.draft.pk}/")
    client = world.client("owner")
    error = refused(client.patch(path, {"sponsor": "busines-member"}, format="json"))
    assert "No active user is called 'busines-member'" in error["fields"]["sponsor"][0]
    response = client.patch(path, {"sponsor": "business-member"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["sponsor"] == "business-member"
    world.draft.refresh_from_db()
    assert world.draft.sponsor == world.users["business"]


def signoff_with_condition_owner(world, owner: str):
    body = {
        "function": "legal",
        "decision": "approve_with_conditions",
        "rationale": "Fine if the DPIA is refreshed.",
        "conditions": [{"text": "Refresh the DPIA", "due_on": "2099-01-31", "owner": owner}],
    }
    return world.client("legal").post(url(f"reviews/{world.review.pk}/signoffs/"), body, format="json")


def test_a_condition_owner_is_named_by_username_and_a_misspelt_one_is_refused(world):
    error = refused(signoff_with_condition_owner(world, "lead-othr"))
    assert "No active user is called 'lead-othr'" in " ".join(error["fields"]["conditions"])
    assert not Condition.objects.exists() and not world.review.signoffs.exists()
    response = signoff_with_condition_owner(world, "lead-other")
    assert response.status_code == 201, response.content
    assert response.json()["signoff"]["conditions"][0]["owner"] == "lead-other"
    assert Condition.objects.get().owner == world.users["other_lead"]


# Ledger cursors ----------------------------------------------------------------------------


def crafted(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        crafted("r=1&p=abc"),
        crafted("p=1e5"),
        crafted("p=-3"),
        crafted("p=99999999999999999999999999"),
        crafted("p=%C2%B9"),  # a superscript one
        crafted("o=-1&p=2"),
        "not-a-cursor",
        "\u00e9t\u00e9",
    ],
)
def test_a_cursor_the_api_did_not_hand_out_is_a_400_naming_the_cursor(world, cursor):
    response = world.client("auditor").get(url("ledger/"), {"cursor": cursor})
    error = refused(response, 400)
    assert error["code"] == "invalid"
    assert "follow the next or previous link" in error["fields"]["cursor"][0]


def test_the_cursor_the_api_hands_out_still_pages_through_the_ledger(world):
    client = world.client("auditor")
    first = client.get(url("ledger/"), {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert [e["seq"] for e in first["results"]] == [1, 2]
    assert [e["seq"] for e in second["results"]] == [3, 4]
    back = client.get(second["previous"]).json()
    assert [e["seq"] for e in back["results"]] == [1, 2]


# A defect answers in the error format, and is still reported -------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "broken"),
    [
        (
            "post",
            "initiatives/",
            {"title": "Claims", "department": "Claims"},
            "initiatives.initiative_create",
        ),
        ("get", "me/", None, "ledger.principal"),
    ],
)
def test_a_defect_under_the_api_is_a_json_500_that_is_still_reported(
    world, monkeypatch, caplog, method, path, body, broken
):
    module, name = broken.split(".")

    def defect(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(f"governance.api.views.{module}.{name}", defect)
    reported = []

    def receiver(sender, request, **kwargs):
        reported.append(request.path)

    signals.got_request_exception.connect(receiver)
    client = world.client("owner")
    client.raise_request_exception = False
    try:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            response = getattr(client, method)(url(path), body, format="json")
    finally:
        signals.got_request_exception.disconnect(receiver)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "server_error" and error["message"]
    assert "secret internals" not in response.content.decode()
    assert reported == [url(path)]
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


def test_a_defect_outside_the_api_keeps_django_s_own_500_page(world, monkeypatch):
    def defect(*args, **kwargs):
        raise RuntimeError("secret internals")

    auditor = world.users["auditor"]
    auditor.is_staff = True  # the admin's pages are for staff
    auditor.save()
    client = world.client("auditor")
    client.raise_request_exception = False
    monkeypatch.setattr("governance.workspace.views.evidence.visible_initiatives", defect)
    response = client.get("/evidence/1/download/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


# Evidence file names, checked as they were sent ---------------------------------------------


def multipart_upload(fields: dict[str, str], *, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body whose file name is sent exactly as given (the test client would strip it)."""
    boundary = "vgBoundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def api_upload(world, file_name: str):
    body, content_type = multipart_upload(
        {"kind": "other", "title": "Numbers"}, file_name=file_name, content=PDF
    )
    return world.client("integration").generic(
        "POST", url(f"initiatives/{world.pilot.pk}/evidence/"), body, content_type=content_type
    )


@pytest.mark.parametrize(("file_name", "reason"), factories.FORGED_FILE_NAMES)
def test_a_forged_evidence_file_name_is_refused_by_the_api_as_by_the_admin(world, file_name, reason):
    before = world.pilot.evidence.count(), LedgerEvent.objects.count()
    error = refused(api_upload(world, file_name))
    assert reason in error["message"]
    assert (world.pilot.evidence.count(), LedgerEvent.objects.count()) == before


def test_an_honest_evidence_file_name_is_stored_through_the_api(world):
    response = api_upload(world, "pilot report.pdf")
    assert response.status_code == 201, response.content
    assert world.pilot.evidence.filter(title="Numbers").count() == 1


# Evidence downloads keep the type it was accepted as ----------------------------------------

CSV = b"month,first_response_minutes\n2026-01,51\n2026-02,44\n"


def test_a_csv_uploaded_through_the_api_downloads_as_csv(world):
    body, content_type = multipart_upload(
        {"kind": "other", "title": "KPI export"}, file_name="kpi.csv", content=CSV
    )
    response = world.client("integration").generic(
        "POST", url(f"initiatives/{world.pilot.pk}/evidence/"), body, content_type=content_type
    )
    assert response.status_code == 201, response.content
    auditor = world.users["auditor"]
    auditor.is_staff = True  # the download is served by the admin site
    auditor.save()
    download = world.client("auditor").get(reverse("evidence-download", args=[response.json()["id"]]))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    pk = response.json()["id"]
    assert download["Content-Disposition"] == f'attachment; filename="kpi-export-{pk}.csv"'
    assert b"".join(download.streaming_content) == CSV


# Decimals: exactly what the published schema's pattern says ---------------------------------

# Sent as strings; each is a number Python's Decimal would read, but not how the schema writes one.
OFF_PATTERN_DECIMALS = [
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\uff11\uff12",  # full-width digits
    "1_000",
    " 12 ",
    "12\n",
    "1e2",
    "-0",
    "-0.00",
    "+12",
    "007",
    "12.",
    ".5",
]
ON_PATTERN_DECIMALS = ["0", "12", "12.50", "0.00", "1000000", "-3", "-0.5", "-10.25"]


def money(world, amount):
    body = {"kind": "cost", "month": "2026-01-01", "amount": amount}
    return world.client("integration").post(
        url(f"initiatives/{world.pilot.pk}/financial-entries/"), body, format="json"
    )


def measurement(world, value, period="2020-01-01"):
    rows = [{"period": period, "value": value, "source": "BI"}]
    return world.client("integration").post(
        url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/measurements/"),
        {"measurements": rows},
        format="json",
    )


@pytest.mark.parametrize("amount", OFF_PATTERN_DECIMALS)
def test_a_decimal_written_off_the_schema_s_pattern_is_refused(world, amount):
    before = world.pilot.financial_entries.count(), LedgerEvent.objects.count()
    error = refused(money(world, amount))
    assert "plain ASCII digits" in error["fields"]["amount"][0]
    rows = refused(measurement(world, amount))["rows"]
    assert "plain ASCII digits" in rows["0"]
    assert (world.pilot.financial_entries.count(), LedgerEvent.objects.count()) == before


@pytest.mark.parametrize("value", ON_PATTERN_DECIMALS)
def test_a_decimal_on_the_schema_s_pattern_is_stored_as_sent(world, value):
    assert measurement(world, value).status_code == 201
    event = LedgerEvent.objects.filter(action="kpi.measurements_recorded").latest("seq")
    assert json.loads(event.payload)["measurements"][0]["value"] == value
    if not value.startswith("-"):  # money is recorded as positive amounts
        response = money(world, value)
        assert response.status_code == 201, response.content
        assert response.json()["amount"] == value


def test_the_published_pattern_accepts_exactly_what_the_api_accepts(world):
    schema = world.client("auditor").get("/api/schema/", {"format": "json"}).json()
    pattern = schema["components"]["schemas"]["FinancialEntryRequest"]["properties"]["amount"]["pattern"]
    for year, value in enumerate(ON_PATTERN_DECIMALS + OFF_PATTERN_DECIMALS, start=2000):
        # As a JSON Schema validator reads it: ECMA-262, where \d and friends are ASCII.
        published = re.fullmatch(pattern, value, re.ASCII) is not None
        accepted = measurement(world, value, period=f"{year}-01-01").status_code == 201
        assert published == accepted, value


@pytest.mark.parametrize(("raw_number", "echoed"), [("12.5", "12.5"), ("1e2", "100"), ("3", "3")])
def test_a_decimal_sent_as_a_json_number_is_echoed_in_the_schema_s_form(world, raw_number, echoed):
    body = f'{{"kind": "cost", "month": "2026-01-01", "amount": {raw_number}}}'
    response = world.client("integration").generic(
        "POST", url(f"initiatives/{world.pilot.pk}/financial-entries/"), body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == echoed


def test_negative_zero_sent_as_a_json_number_is_refused(world):
    body = '{"kind": "cost", "month": "2026-01-01", "amount": -0.0}'
    response = world.client("integration").generic(
        "POST", url(f"initiatives/{world.pilot.pk}/financial-entries/"), body, content_type="application/json"
    )
    assert "plain ASCII digits" in refused(response)["fields"]["amount"][0]
