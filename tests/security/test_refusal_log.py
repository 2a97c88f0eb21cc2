"""Every refused authorization is logged with who tried what on what, control characters escaped."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.errors import NotACommitteeMember, NotAllowed
from governance.reviews.initiatives import initiative_submit
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from tests import factories

pytestmark = pytest.mark.django_db
LOGGER = "valuegate.authorization"


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_a_refused_sign_off_is_logged_with_actor_and_target(members, caplog):
    initiative = factories.proposal_ready_for_pilot_gate(title="Invoice matching")
    review = review_open(actor=initiative.owner, initiative=initiative)
    with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(NotACommitteeMember):
        signoff_record(
            actor=members["finance"], review=review, function="legal", decision="approve", rationale="x"
        )
    (message,) = refusals(caplog)
    assert "finance-member" in message and f"review #{review.pk} of Invoice matching" in message
    assert "sign for legal" in message


def test_control_characters_in_logged_values_are_escaped(members, caplog):
    forger = factories.UserFactory(username="mallory\nWARNING Refused: chair approved\u202e")
    initiative = factories.proposal_ready_for_pilot_gate(title="Copy\x1b[31m pilot")
    with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(NotAllowed):
        initiative_submit(actor=forger, initiative=initiative)
    (message,) = refusals(caplog)
    assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
    assert "mallory\\x0aWARNING" in message and "Copy\\x1b[31m pilot" in message and "\\u202e" in message


def test_a_refused_admin_request_is_logged_with_the_path(client, caplog):
    lead = factories.lead(is_staff=True)
    client.force_login(lead)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        response = client.post(reverse("admin:governance_gatepolicy_add"), {"gate": "scale"})
    assert response.status_code == 403
    assert any(lead.username in m and "/admin/governance/gatepolicy/add/" in m for m in refusals(caplog))


def test_a_refused_api_request_is_logged(caplog):
    lead = factories.lead()
    api = APIClient()
    api.force_authenticate(lead)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        response = api.get("/api/v1/ledger/")
    assert response.status_code == 403
    assert any(lead.username in m and "/api/v1/ledger/" in m for m in refusals(caplog))
