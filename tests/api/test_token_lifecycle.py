"""API tokens expire, rotate with an overlap, and die with their owner's account or role; each
step is a ledger event, and an expired or revoked token answers 401."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from governance.access import roles
from governance.access.membership import membership_revoke
from governance.api.models import ApiToken
from governance.api.tokens import token_issue, token_rotate
from governance.errors import InvalidInput, WrongStage
from governance.ledger.models import LedgerEvent
from tests import factories
from tests.api.conftest import url
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


def answer(secret: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get(url("me/"))


def later(**delta):
    return time_machine.travel(configured_clock() + dt.timedelta(**delta), tick=False)


def payloads(action: str) -> list[dict]:
    return [
        json.loads(p)
        for p in LedgerEvent.objects.filter(action=action).order_by("id").values_list("payload", flat=True)
    ]


def test_a_token_expires_after_its_lifetime_and_says_so(settings):
    settings.VALUEGATE_API_TOKEN_DAYS = 30
    lead = factories.lead(username="rosa")
    token, secret = token_issue(actor=lead, name="BI export")

    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    assert payloads("api_token.issued")[-1]["expires_at"].startswith(f"{token.expires_at:%Y-%m-%d}")
    with later(days=29, hours=23):
        assert answer(secret).status_code == 200
    with later(days=30, minutes=1):
        response = answer(secret)
    assert response.status_code == 401
    assert f"expired at {token.expires_at:%Y-%m-%d %H:%M} UTC" in response.json()["error"]["message"]


def test_a_lifetime_beyond_the_maximum_is_refused_with_nothing_issued(settings):
    settings.VALUEGATE_API_TOKEN_MAX_DAYS = 180
    lead = factories.lead(username="rosa")
    for days in (0, 181):
        with pytest.raises(InvalidInput, match="A token lives from 1 to 180 days."):
            token_issue(actor=lead, name="Forever", days=days)
    assert not ApiToken.objects.exists()
    token, _ = token_issue(actor=lead, name="Half a year", days=180)
    assert token.expires_at - token.created_at == dt.timedelta(days=180)


def test_a_rotated_token_keeps_working_for_the_overlap_beside_its_replacement(settings):
    settings.VALUEGATE_API_TOKEN_OVERLAP_HOURS = 24
    lead = factories.lead(username="rosa")
    old, old_secret = token_issue(actor=lead, name="CRM sync")

    new, new_secret = token_rotate(actor=lead, token=old)

    assert (new.name, new.user_id, new.initiative_id) == (old.name, old.user_id, old.initiative_id)
    assert new_secret != old_secret
    rotated = payloads("api_token.rotated")[-1]
    assert (rotated["token"], rotated["replaced_by"]) == (old.pk, new.pk)
    with later(hours=23):
        assert answer(old_secret).status_code == 200 and answer(new_secret).status_code == 200
    with later(hours=25):
        assert answer(old_secret).status_code == 401 and answer(new_secret).status_code == 200
    with pytest.raises(WrongStage, match="already revoked|expired"), later(hours=25):
        token_rotate(actor=lead, token=old)


def test_only_its_owner_or_a_governance_admin_rotates_a_token():
    from governance.errors import NotAllowed

    rosa, sam = factories.lead(username="rosa"), factories.lead(username="sam")
    token, _ = token_issue(actor=rosa, name="CRM sync")
    with pytest.raises(NotAllowed):
        token_rotate(actor=sam, token=token)
    admin = factories.user_in(roles.GOVERNANCE_ADMINS, username="gov")
    token_rotate(actor=admin, token=token)
    assert LedgerEvent.objects.filter(action="api_token.rotated", actor=admin).exists()


def test_deactivating_the_owner_revokes_their_tokens_and_the_ledger_says_why():
    lead = factories.lead(username="rosa")
    _, secret = token_issue(actor=lead, name="BI export")

    lead.is_active = False
    lead.save()

    assert answer(secret).status_code == 401
    assert payloads("api_token.revoked")[-1]["reason"] == "its owner's account was deactivated"


def test_a_lead_who_loses_the_role_loses_the_tokens_it_made_useful():
    admin = factories.user_in(roles.GOVERNANCE_ADMINS, username="gov")
    lead = factories.user_in(roles.PROJECT_LEADS, roles.AUDITORS, username="rosa")
    pilot = factories.pilot_ready_for_scale_gate(owner=lead)
    _, bound = token_issue(actor=lead, name="BI export", initiative=pilot)
    _, personal = token_issue(actor=lead, name="Laptop")

    membership_revoke(actor=admin, user=lead, group=Group.objects.get(name=roles.PROJECT_LEADS))

    assert answer(bound).status_code == 401  # it acted as the initiative's lead
    assert answer(personal).status_code == 200  # still an auditor
    revoked = LedgerEvent.objects.filter(action="api_token.revoked").get()
    assert (
        revoked.actor == admin
        and json.loads(revoked.payload)["reason"] == "its owner is no longer a project lead"
    )

    membership_revoke(actor=admin, user=lead, group=Group.objects.get(name=roles.AUDITORS))
    assert answer(personal).status_code == 401
    assert payloads("api_token.revoked")[-1]["reason"] == "its owner holds no governance role any more"


def test_an_owner_rotates_a_token_in_the_admin_and_sees_the_new_secret_once(client):
    lead = factories.lead(username="rosa", is_staff=True)
    token, old_secret = token_issue(actor=lead, name="CRM sync")
    client.force_login(lead)

    page = client.post(
        reverse("admin:api_apitoken_changelist"), {"action": "rotate", "_selected_action": [token.pk]}
    ).content.decode()

    new = ApiToken.objects.exclude(pk=token.pk).get()
    assert "was rotated" in page and new.prefix in page and token.prefix in page
    secret = page.split('id="api-token-secret"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert answer(secret).status_code == 200 and answer(old_secret).status_code == 200
