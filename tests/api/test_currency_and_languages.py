"""A business case names its currency; the API speaks the request's language and keeps its codes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects.models import BusinessCase
from tests import factories

pytestmark = pytest.mark.django_db


def put_case(client, initiative, language="en", **extra):
    body = {"budget": "150000", "expected_annual_benefit": "380000.50", "exit_criteria": "Stop below 55%."}
    return client.put(
        f"/api/v1/initiatives/{initiative.pk}/business-case/",
        {**body, **extra},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_a_lead_records_the_currency_of_a_business_case():
    lead = factories.lead(username="lead-cny")
    initiative = factories.InitiativeFactory(owner=lead)
    client = APIClient()
    client.force_login(lead)
    assert put_case(client, initiative, currency="cny").status_code == 200
    assert BusinessCase.objects.get(initiative=initiative).currency == "CNY"
    assert client.get(f"/api/v1/initiatives/{initiative.pk}/business-case/").json()["currency"] == "CNY"


def test_an_unknown_currency_is_refused_in_the_request_s_language_and_nothing_is_stored():
    lead = factories.lead(username="lead-xyz")
    initiative = factories.InitiativeFactory(owner=lead)
    client = APIClient()
    client.force_login(lead)
    english = put_case(client, initiative, currency="XYZ")
    chinese = put_case(client, initiative, language="zh-hans", currency="XYZ")
    assert english.status_code == chinese.status_code == 400
    assert english.json()["error"]["code"] == chinese.json()["error"]["code"]
    assert "XYZ is not an ISO 4217 currency code" in english.json()["error"]["message"]
    assert "XYZ" in chinese.json()["error"]["message"] and "ISO 4217" in chinese.json()["error"]["message"]
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]
    assert not BusinessCase.objects.filter(initiative=initiative).exists()


def test_a_refused_submission_lists_each_requirement_with_its_code_and_its_words():
    lead = factories.lead(username="lead-submit")
    initiative = factories.InitiativeFactory(owner=lead)
    client = APIClient()
    client.force_login(lead)
    answer = client.post(
        f"/api/v1/initiatives/{initiative.pk}/submit/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert answer.status_code == 409
    requirements = {r["code"]: r for r in answer.json()["error"]["requirements"]}
    kpi = requirements["primary_kpi"]
    assert kpi["reason_code"] == {"code": "primary_kpi.none", "params": {}}
    assert kpi["reason"] == "未定义主要 KPI。"
