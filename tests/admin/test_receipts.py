"""Whoever signs off gets the ledger's signed receipt of it, in the admin and in the API, and the
receipt proves the sign-off to an auditor holding only the public key."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from governance.ledger.content import signed_message
from governance.ledger.models import LedgerEvent
from governance.ledger.signing import ledger_signing_key
from governance.reviews.services import review_open
from tests import factories

pytestmark = pytest.mark.django_db

FORM = {"decision": "approve", "rationale": "Evidence reviewed.", "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0"}  # fmt: skip


def genuine(receipt: dict) -> bool:
    message = signed_message(receipt["hash"], receipt["recorded_at"])
    return ledger_signing_key().verifier.verify(message, base64.b64decode(receipt["signature"]))


RECEIPT = re.compile(
    r"([a-z_.]+): event ([0-9a-f]{64}) recorded at (\S+), signed by key (\w+) \(signature ([A-Za-z0-9+/=]+)\)"
)


def receipts_shown(response) -> list[dict]:
    """The receipts the last request handed over (earlier ones wait, unread, in the session)."""
    message = [str(m) for m in get_messages(response.wsgi_request) if str(m).startswith("Ledger receipt")][-1]
    names = ("action", "hash", "recorded_at", "key_id", "signature")
    return [dict(zip(names, found, strict=True)) for found in RECEIPT.findall(message)]


def test_the_sign_off_page_confirms_with_the_receipt_of_the_sign_off(people, as_user):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)

    response = as_user(people["legal"]).post(
        reverse("admin:governance_gatereview_sign", args=[review.pk]), {**FORM, "function": "legal"}
    )

    (receipt,) = receipts_shown(response)
    event = LedgerEvent.objects.get(hash=receipt["hash"])
    assert event.action == receipt["action"] == "signoff.recorded"
    assert event.actor_name == people["legal"].username
    assert genuine(receipt) and receipt["key_id"] == ledger_signing_key().key_id


def test_the_last_approval_hands_over_the_receipt_of_every_event_it_wrote(people, as_user):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    for function in ("business", "legal", "finance", "technical"):
        response = as_user(people[function]).post(
            reverse("admin:governance_gatereview_sign", args=[review.pk]), {**FORM, "function": function}
        )

    shown = receipts_shown(response)
    assert [r["action"] for r in shown] == ["signoff.recorded", "review.decided", "initiative.transitioned"]
    assert all(genuine(r) for r in shown)


def test_a_refused_decision_hands_over_no_receipt(people, as_user):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    response = as_user(people["chair"]).post(
        reverse("admin:governance_gatereview_sign", args=[review.pk]), {**FORM, "function": "legal"}
    )
    assert not [m for m in get_messages(response.wsgi_request) if str(m).startswith("Ledger receipt")]


def test_the_api_returns_the_receipt_and_it_proves_the_sign_off_to_an_auditor(members, tmp_path):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    client = APIClient()
    client.force_authenticate(members["legal"])

    response = client.post(
        f"/api/v1/reviews/{review.pk}/signoffs/",
        {"function": "legal", "decision": "approve", "rationale": "Fine."},
        format="json",
    )

    assert response.status_code == 201, response.content
    receipt = response.json()["receipt"]
    assert receipt["action"] == "signoff.recorded" and genuine(receipt)
    assert json.loads(response["Ledger-Receipts"]) == [receipt]
    kept = tmp_path / "receipt.json"
    kept.write_text(json.dumps(receipt))
    public_key = tmp_path / "ledger.pub"
    public_key.write_text(ledger_signing_key().verifier.text + "\n")
    out = io.StringIO()
    call_command(
        "verify_ledger",
        "--public-key",
        str(public_key),
        "--receipt",
        str(kept),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "1 receipt found in the ledger." in out.getvalue()
