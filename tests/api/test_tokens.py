"""API tokens: stored hashed, shown once, revocable in the admin, bound tokens kept to their
initiative, throttled."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.api.models import ApiToken
from governance.api.tokens import token_issue
from governance.errors import NotAllowed
from governance.ledger.models import LedgerEvent
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_only_the_hash_of_a_token_is_stored_and_the_issue_is_in_the_ledger(world):
    token, secret = token_issue(actor=world.users["owner"], name="Nightly BI")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}
    event = LedgerEvent.objects.latest("seq")
    assert event.action == "api_token.issued" and secret not in event.payload
    me = bearer(secret).get(url("me/")).json()
    assert me["username"] == "lead-owner" and me["token"]["initiative"] is None


def test_a_bound_token_acts_as_the_lead_but_for_its_initiative_only(world):
    me = world.client("integration").get(url("me/")).json()
    assert me["username"] == "lead-owner" and me["token"]["initiative"] == world.pilot.pk
    assert world.client("integration").get(url(f"initiatives/{world.draft.pk}/")).status_code == 404
    assert world.client("integration").get(url(f"initiatives/{world.pilot.pk}/")).status_code == 200


def test_only_an_initiative_s_lead_may_bind_a_token_to_it(world):
    with pytest.raises(NotAllowed):
        token_issue(actor=world.users["other_lead"], name="Sneaky", initiative=world.pilot)


@pytest.mark.parametrize(
    "header",
    ["Bearer vg_not-a-real-token", "Bearer", "Bearer a b", "Token " + "x" * 500],
)
def test_unknown_or_malformed_tokens_are_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(url("initiatives/"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_and_an_inactive_owner_are_401(world):
    from governance.api.tokens import token_revoke

    token = ApiToken.objects.get(name="BI export")
    token_revoke(actor=world.users["owner"], token=token)
    response = world.client("integration").get(url("me/"))
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]

    # Deactivating the owner revokes their tokens (governance/api/lifecycle.py).
    world.users["owner"].is_active = False
    world.users["owner"].save()
    response = world.client("owner_token").get(url("me/"))
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_last_use_is_noted(world):
    world.client("integration").get(url("me/"))
    assert ApiToken.objects.get(name="BI export").last_used_at is not None


def test_tokens_are_throttled_and_people_in_a_browser_are_not(world, settings):
    settings.VALUEGATE_API_TOKEN_RATE = "3/minute"
    client = world.client("integration")
    statuses = [client.get(url("me/")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = client.get(url("me/"))
    assert throttled.json()["error"]["code"] == "throttled" and int(throttled["Retry-After"]) >= 1
    session = world.client("owner")
    assert {session.get(url("me/")).status_code for _ in range(5)} == {200}


# The admin: issue (secret shown once), list, revoke --------------------------------------------


def admin_client(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_a_lead_issues_a_bound_token_in_the_admin_and_sees_the_secret_once(world):
    client = admin_client(world.users["owner"])
    form = client.get("/admin/api/apitoken/add/")
    assert form.status_code == 200
    choices = form.context["adminform"].form.fields["initiative"].queryset
    assert set(choices) == {world.draft, world.proposal, world.pilot}  # only the lead's own

    response = client.post("/admin/api/apitoken/add/", {"name": "Looker", "initiative": world.pilot.pk})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("vg_") and secret in response.content.decode()
    token = ApiToken.objects.get(name="Looker")
    assert token.initiative == world.pilot and token.user == world.users["owner"]
    assert bearer(secret).get(url(f"initiatives/{world.pilot.pk}/kpis/")).status_code == 200

    detail = client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    listing = client.get("/admin/api/apitoken/").content.decode()
    assert token.prefix in listing and secret not in listing and secret not in detail


def test_a_lead_cannot_bind_a_token_to_someone_else_s_initiative_in_the_admin(world):
    client = admin_client(world.users["owner"])
    response = client.post("/admin/api/apitoken/add/", {"name": "Sneaky", "initiative": world.other_pilot.pk})
    assert response.status_code == 200 and "secret" not in response.context
    assert not ApiToken.objects.filter(name="Sneaky").exists()


def test_owners_see_and_revoke_their_own_tokens_governance_admins_all(world):
    owner = admin_client(world.users["owner"])
    other = admin_client(world.users["other_lead"])
    govadmin = admin_client(world.users["govadmin"])
    mine = ApiToken.objects.get(name="BI export")

    assert "CRM sync" not in owner.get("/admin/api/apitoken/").content.decode()
    assert other.get(f"/admin/api/apitoken/{mine.pk}/change/").status_code in (302, 403, 404)
    listing = govadmin.get("/admin/api/apitoken/").content.decode()
    assert "BI export" in listing and "CRM sync" in listing

    # The other lead's revoke action cannot reach a token it does not see.
    other.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.revoked_at is None

    owner.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert world.client("integration").get(url("me/")).status_code == 401
    assert LedgerEvent.objects.latest("seq").action == "api_token.revoked"

    theirs = ApiToken.objects.get(name="CRM sync")
    govadmin.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None


def test_tokens_cannot_be_edited_or_deleted_in_the_admin(world):
    client = admin_client(world.users["owner"])
    token = ApiToken.objects.get(name="BI export")
    client.post(f"/admin/api/apitoken/{token.pk}/change/", {"name": "Renamed"})
    assert client.post(f"/admin/api/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    token.refresh_from_db()
    assert token.name == "BI export"


def test_a_committee_member_s_personal_token_signs_off(world):
    _, secret = token_issue(actor=world.users["business"], name="Review bot")
    response = bearer(secret).post(
        url(f"reviews/{world.review.pk}/signoffs/"),
        {"function": "business", "decision": "approve", "rationale": "Reviewed."},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["signoff"]["reviewer"] == "business-member"
