"""Every role against every endpoint: who is let through, who is refused, and how.

Each endpoint is called once per role in the same world; each call is rolled back afterwards, so
every role meets the world as it was built. 404 means "not visible to you" (whether it exists or
not), 403 "visible, but your role may not do this", 401 "who are you?".
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from governance.ledger.models import LedgerEvent
from tests.api.conftest import PDF, build_world, url

pytestmark = pytest.mark.django_db

ROLES = (
    "owner",
    "owner_token",
    "other_lead",
    "business",
    "chair",
    "auditor",
    "govadmin",
    "integration",
    "foreign_integration",
    "anonymous",
)


def expect(owner, other_lead, business, chair, auditor, govadmin, integration, foreign, anonymous=401):
    """Expected status per role; a person's own token (owner_token) gets what the owner gets."""
    return {
        "owner": owner,
        "owner_token": owner,
        "other_lead": other_lead,
        "business": business,
        "chair": chair,
        "auditor": auditor,
        "govadmin": govadmin,
        "integration": integration,
        "foreign_integration": foreign,
        "anonymous": anonymous,
    }


def measurement_batch(w):
    return {"measurements": [{"period": "2020-01-01", "value": "11.5", "source": "BI", "sample_size": 10}]}


def evidence_upload(w):
    return {"kind": "other", "title": "Survey", "file": SimpleUploadedFile("survey.pdf", PDF)}


CASES = {
    # name: (method, path(world), body(world) or None, format, expected)
    "list initiatives": (
        "get",
        lambda w: "initiatives/",
        None,
        expect(200, 200, 200, 200, 200, 200, 200, 200),
    ),
    "create initiative": (
        "post",
        lambda w: "initiatives/",
        lambda w: {"title": "New idea", "department": "Sales"},
        expect(201, 201, 403, 403, 403, 403, 403, 403),
    ),
    "read initiative": (
        "get",
        lambda w: f"initiatives/{w.draft.pk}/",
        None,
        expect(200, 404, 200, 200, 200, 200, 404, 404),
    ),
    "edit draft": (
        "patch",
        lambda w: f"initiatives/{w.draft.pk}/",
        lambda w: {"title": "Renamed"},
        expect(200, 404, 403, 403, 403, 403, 403, 403),
    ),
    "submit draft": (
        "post",
        lambda w: f"initiatives/{w.draft.pk}/submit/",
        lambda w: {},
        expect(200, 404, 403, 403, 403, 403, 403, 403),
    ),
    "read business case": (
        "get",
        lambda w: f"initiatives/{w.draft.pk}/business-case/",
        None,
        expect(200, 404, 200, 200, 200, 200, 403, 403),
    ),
    "record business case": (
        "put",
        lambda w: f"initiatives/{w.draft.pk}/business-case/",
        lambda w: {"budget": "1000", "expected_annual_benefit": "5000", "exit_criteria": "Stop if slow."},
        expect(200, 404, 403, 403, 403, 403, 403, 403),
    ),
    "list KPIs": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/kpis/",
        None,
        expect(200, 404, 200, 200, 200, 200, 200, 404),
    ),
    "define KPI": (
        "post",
        lambda w: f"initiatives/{w.draft.pk}/kpis/",
        lambda w: {
            "name": "NPS",
            "unit": "points",
            "direction": "increase",
            "baseline": "20",
            "target": "30",
            "data_source": "Survey",
        },
        # The integration is bound to the pilot: the draft is not visible to it.
        expect(201, 404, 403, 403, 403, 403, 404, 404),
    ),
    "list measurements": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/kpis/{w.kpi.pk}/measurements/",
        None,
        expect(200, 404, 200, 200, 200, 200, 200, 404),
    ),
    "record measurements": (
        "post",
        lambda w: f"initiatives/{w.pilot.pk}/kpis/{w.kpi.pk}/measurements/",
        measurement_batch,
        expect(201, 404, 403, 403, 403, 403, 201, 404),
    ),
    "list experiments": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/kpis/{w.kpi.pk}/experiments/",
        None,
        expect(200, 404, 200, 200, 200, 200, 200, 404),
    ),
    "record experiment": (
        "post",
        lambda w: f"initiatives/{w.pilot.pk}/kpis/{w.kpi.pk}/experiments/",
        lambda w: {
            "name": "Variant B",
            "success_definition": "converted",
            "control_size": 1000,
            "control_successes": 100,
            "treatment_size": 1000,
            "treatment_successes": 130,
        },
        expect(201, 404, 403, 403, 403, 403, 201, 404),
    ),
    "list costs and benefits": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/financial-entries/",
        None,
        expect(200, 404, 200, 200, 200, 200, 200, 404),
    ),
    "record a cost": (
        "post",
        lambda w: f"initiatives/{w.pilot.pk}/financial-entries/",
        lambda w: {"kind": "cost", "month": "2026-01-01", "amount": "1200.50"},
        expect(201, 404, 403, 403, 403, 403, 201, 404),
    ),
    "list evidence": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/evidence/",
        None,
        expect(200, 404, 200, 200, 200, 200, 200, 404),
    ),
    "upload evidence": (
        "post-multipart",
        lambda w: f"initiatives/{w.pilot.pk}/evidence/",
        evidence_upload,
        expect(201, 404, 403, 403, 403, 403, 201, 404),
    ),
    "next gate checklist": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/checklist/",
        None,
        expect(200, 404, 200, 200, 200, 200, 200, 404),
    ),
    "list reviews": (
        "get",
        lambda w: f"initiatives/{w.pilot.pk}/reviews/",
        None,
        expect(200, 404, 200, 200, 200, 200, 403, 403),
    ),
    "request gate review": (
        "post",
        lambda w: f"initiatives/{w.pilot.pk}/reviews/",
        lambda w: {},
        expect(201, 404, 403, 201, 403, 403, 403, 403),
    ),
    "read review": (
        "get",
        lambda w: f"reviews/{w.review.pk}/",
        None,
        expect(200, 404, 200, 200, 200, 200, 403, 403),
    ),
    "sign off for business": (
        "post",
        lambda w: f"reviews/{w.review.pk}/signoffs/",
        lambda w: {"function": "business", "decision": "approve", "rationale": "Evidence reviewed."},
        expect(403, 404, 201, 403, 403, 403, 403, 403),
    ),
    "my pending sign-offs": (
        "get",
        lambda w: "signoffs/pending/",
        None,
        expect(200, 200, 200, 200, 200, 200, 403, 403),
    ),
    "read the ledger": ("get", lambda w: "ledger/", None, expect(403, 403, 200, 200, 200, 200, 403, 403)),
    "ledger head": ("get", lambda w: "ledger/head/", None, expect(403, 403, 200, 200, 200, 200, 403, 403)),
    "who am I": ("get", lambda w: "me/", None, expect(200, 200, 200, 200, 200, 200, 200, 200)),
}


def call(world, role, method, path, body):
    client = world.client(role)
    if method == "post-multipart":
        return client.post(url(path), body, format="multipart")
    if body is None:
        return getattr(client, method)(url(path))
    return getattr(client, method)(url(path), body, format="json")


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_every_role_against_every_endpoint(case):
    method, path, body, expected = CASES[case]
    world = build_world()
    actual, messages = {}, {}
    for role in ROLES:
        events_before = LedgerEvent.objects.count()
        with transaction.atomic():
            response = call(world, role, method, path(world), body(world) if body else None)
            transaction.set_rollback(True)
        actual[role] = response.status_code
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"], (role, response.content)
            messages[role] = error["message"]
        assert LedgerEvent.objects.count() == events_before
    assert actual == expected, messages


def test_refused_writes_change_nothing_and_say_why(world):
    events = LedgerEvent.objects.count()
    response = world.client("business").post(
        url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/measurements/"),
        {"measurements": [{"period": "2020-01-01", "value": "99", "source": "BI"}]},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "not_allowed",
        "message": "Only the initiative's project lead may record its KPI measurements.",
    }
    assert LedgerEvent.objects.count() == events
    assert not world.kpi.measurements.filter(period="2020-01-01").exists()


def test_a_lead_lists_only_own_initiatives_and_the_committee_sees_all(world):
    def titles(role, query=""):
        response = world.client(role).get(url(f"initiatives/{query}"))
        assert response.status_code == 200
        return {row["title"] for row in response.json()["results"]}

    own = {"Draft of the owner", "Proposal of the owner", "Pilot of the owner"}
    assert titles("owner") == own
    assert titles("other_lead") == {"Pilot of the other lead"}
    assert titles("auditor") == own | {"Pilot of the other lead"}
    assert titles("integration") == {"Pilot of the owner"}
    assert titles("auditor", "?stage=pilot") == {"Pilot of the owner", "Pilot of the other lead"}
    assert titles("auditor", "?owner=lead-other") == {"Pilot of the other lead"}
    assert titles("other_lead", "?owner=lead-owner") == set()  # a filter never widens what you see
    assert titles("auditor", "?department=customer%20service&stage=draft") == {"Draft of the owner"}


def test_the_initiative_list_is_paginated_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    from tests import factories

    for i in range(30):
        factories.InitiativeFactory(owner=world.users["owner"], title=f"Extra {i}")
    client = world.client("auditor")
    with django_assert_max_num_queries(8):
        first = client.get(url("initiatives/?page_size=20")).json()
    assert first["count"] == 34 and len(first["results"]) == 20 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 14 and second["next"] is None


def test_an_unknown_filter_value_is_a_clear_400(world):
    response = world.client("auditor").get(url("initiatives/?stage=purgatory"))
    assert response.status_code == 400
    assert "stage" in response.json()["error"]["fields"]
