"""Auditors read the ledger and can verify it from the API alone; the schema and docs are served."""

from __future__ import annotations

import base64
import hashlib

import pytest
import yaml

from governance.ledger.canonical import canonical_json
from governance.ledger.checkpoints import ledger_checkpoint
from governance.ledger.content import leaf_hash_hex, signed_content, signed_message
from governance.ledger.merkle import TreeBuilder, verify_inclusion
from governance.ledger.models import LedgerEvent
from governance.ledger.notes import open_checkpoint
from governance.ledger.signing import ledger_signing_key
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


def test_an_auditor_pages_through_the_ledger_and_checks_every_event_against_the_checkpoint(
    world, django_assert_max_num_queries
):
    client = world.client("auditor")
    events, next_url = [], url("ledger/?page_size=7")
    while next_url:
        with django_assert_max_num_queries(6):
            page = client.get(next_url).json()
        events += page["results"]
        next_url = page["next"]
    assert [e["seq"] for e in events] == list(range(1, LedgerEvent.objects.count() + 1))
    public_key = ledger_signing_key().verifier
    tree = TreeBuilder()
    for event in events:
        content = signed_content(
            recorded_at=event["recorded_at"],
            actor_id=event["actor_id"],
            actor=event["actor"],
            action=event["action"],
            initiative=event["initiative"],
            nonce=event["nonce"],
            payload=canonical_json(event["payload"]),
        )
        assert leaf_hash_hex(event["initiative"], hashlib.sha256(content).hexdigest()) == event["hash"]
        signature = base64.b64decode(event["signature"])
        assert public_key.verify(signed_message(event["hash"], event["recorded_at"]), signature)
        tree.append(bytes.fromhex(event["hash"]))
    ledger_checkpoint()
    head = client.get(url("ledger/head/")).json()
    checkpoint, _ = open_checkpoint(head["checkpoint"], [public_key])
    assert (head["seq"], head["hash"]) == (len(events), tree.root().hex())
    assert (checkpoint.size, checkpoint.root) == (len(events), tree.root())
    middle = events[len(events) // 2]
    proof = client.get(url(f"ledger/proof/?hash={middle['hash']}")).json()
    assert verify_inclusion(
        bytes.fromhex(middle["hash"]),
        middle["seq"] - 1,
        checkpoint.size,
        [bytes.fromhex(node) for node in proof["proof"]],
        checkpoint.root,
    )


def test_a_proof_of_an_event_the_checkpoint_does_not_hold_is_a_clear_404(world):
    ledger_checkpoint()
    response = world.client("auditor").get(url("ledger/proof/?seq=999999"))
    assert response.status_code == 404
    assert "not in the checkpoint" in response.json()["error"]["message"]
    assert world.client("auditor").get(url("ledger/proof/?seq=x")).status_code == 400


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
