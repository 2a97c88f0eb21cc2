"""Auditors read the ledger and can verify it from the API alone; the schema and docs are served."""

from __future__ import annotations

import pytest
import yaml

from governance.ledger.chain import GENESIS_HASH, event_hash
from governance.models import LedgerEvent
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


def test_an_auditor_pages_through_the_ledger_and_recomputes_every_hash(world, django_assert_max_num_queries):
    client = world.client("auditor")
    events, next_url = [], url("ledger/?page_size=7")
    while next_url:
        with django_assert_max_num_queries(6):
            page = client.get(next_url).json()
        events += page["results"]
        next_url = page["next"]
    assert [e["seq"] for e in events] == list(range(1, LedgerEvent.objects.count() + 1))
    prev = GENESIS_HASH
    for event in events:
        assert event["prev_hash"] == prev
        recomputed = event_hash(
            seq=event["seq"],
            recorded_at=event["recorded_at"],
            actor=event["actor"],
            action=event["action"],
            initiative=event["initiative"],
            payload=event["payload"],
            prev_hash=event["prev_hash"],
        )
        assert recomputed == event["hash"]
        prev = event["hash"]
    head = client.get(url("ledger/head/")).json()
    assert head == {"seq": events[-1]["seq"], "hash": events[-1]["hash"]}


def test_ledger_fields_are_read_only(world):
    response = world.client("auditor").post(url("ledger/"), {"seq": 1, "hash": "0" * 64}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_schema_describes_every_endpoint_and_the_error_format(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    assert "/api/v1/initiatives/{initiative_id}/kpis/{kpi_id}/measurements/" in paths
    assert "/api/v1/ledger/head/" in paths and "/api/v1/signoffs/pending/" in paths
    post = paths["/api/v1/initiatives/{initiative_id}/kpis/{kpi_id}/measurements/"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "413", "429"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    experiment_request = schema["components"]["schemas"]["ExperimentRequest"]["properties"]
    assert "result" not in experiment_request and "p_value" not in experiment_request
    initiative_request = schema["components"]["schemas"]["InitiativeRequest"]["properties"]
    assert "stage" not in initiative_request and "owner" not in initiative_request


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_their_assets_from_our_own_static_files(client, page):
    html = client.get(page).content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
