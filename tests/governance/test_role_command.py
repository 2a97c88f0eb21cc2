"""`manage.py role`: grant, revoke and list governance roles from the shell, always as a named
actor, through the same services and ledger as the admin page."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.access import roles
from governance.models import LedgerEvent
from tests import factories

pytestmark = pytest.mark.django_db

CHAIR, AUDITORS, GOVADMINS = roles.COMMITTEE_CHAIR, roles.AUDITORS, roles.GOVERNANCE_ADMINS
LEGAL, RISK = roles.FUNCTION_GROUPS["legal"], roles.FUNCTION_GROUPS["risk_ethics"]


def role(*args: str) -> str:
    out = io.StringIO()
    call_command("role", *args, stdout=out)
    return out.getvalue()


def held(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def membership_events() -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.actor_name, json.loads(e.payload)["user"], json.loads(e.payload)["group"])
        for e in LedgerEvent.objects.filter(action__startswith="membership.").order_by("seq")
    ]


@pytest.fixture
def admin_account():
    return factories.UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def alice():
    return factories.UserFactory(username="alice")


def test_a_superuser_appoints_the_first_chair(admin_account, alice):
    out = role("grant", "--actor", "admin", "--user", "alice", "--role", "chair")

    assert held(alice) == {CHAIR}
    assert membership_events() == [("membership.granted", "admin", "alice", CHAIR)]
    assert LedgerEvent.objects.get().actor == admin_account
    assert out == (
        f"Granted “{CHAIR}” to alice; recorded in the decision ledger as membership.granted by admin.\n"
    )


def test_a_governance_admin_revokes_a_role_named_in_full_or_by_alias(alice):
    factories.user_in(GOVADMINS, username="gina")
    factories.user_in(LEGAL, RISK, username="alice")

    role("revoke", "--actor", "gina", "--user", "alice", "--role", "Committee: legal")
    out = role("revoke", "--actor", "gina", "--user", "alice", "--role", "RISK_ETHICS")

    assert held(alice) == set()
    assert membership_events() == [
        ("membership.revoked", "gina", "alice", LEGAL),
        ("membership.revoked", "gina", "alice", RISK),
    ]
    assert out.startswith(f"Revoked “{RISK}” from alice;")


@pytest.mark.parametrize("group", [CHAIR, AUDITORS, roles.PROJECT_LEADS, LEGAL])
def test_anyone_but_a_governance_admin_is_refused_and_nothing_changes(alice, group):
    factories.user_in(group, username="actor")

    with pytest.raises(CommandError, match="Only governance admins may grant committee roles") as refused:
        role("grant", "--actor", "actor", "--user", "alice", "--role", "auditors")

    assert refused.value.returncode != 0  # the exit status manage.py ends with
    assert held(alice) == set()
    assert membership_events() == []


def test_a_governance_admin_cannot_change_their_own_roles():
    gina = factories.user_in(GOVADMINS, username="gina")

    with pytest.raises(CommandError, match="Nobody changes their own committee roles"):
        role("revoke", "--actor", "gina", "--user", "gina", "--role", "govadmins")

    assert held(gina) == {GOVADMINS}
    assert membership_events() == []


def test_a_role_already_held_is_refused_with_the_reason(admin_account):
    factories.user_in(CHAIR, username="alice")

    with pytest.raises(CommandError, match=f"alice already holds the role “{CHAIR}”"):
        role("grant", "--actor", "admin", "--user", "alice", "--role", "chair")

    assert membership_events() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--actor", "nobody", "--user", "alice", "--role", "chair"], "No user named 'nobody' (the actor)."),
        (["--actor", "admin", "--user", "ghost", "--role", "chair"], "No user named 'ghost'"),
        (["--actor", "admin", "--user", "alice", "--role", "king"], "No governance role 'king'"),
        (["--user", "alice", "--role", "chair"], "--actor"),
    ],
)
def test_unknown_people_and_roles_and_a_missing_actor_are_refused(admin_account, alice, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        role("grant", *args)

    assert held(alice) == set()
    assert membership_events() == []


def test_list_shows_who_holds_which_role(admin_account):
    factories.user_in(CHAIR, username="carla")
    factories.user_in(LEGAL, AUDITORS, username="lena")
    factories.user_in(LEGAL, username="leo", is_active=False)

    listing = role("list").splitlines()

    assert f"{CHAIR}: carla" in listing
    assert f"{LEGAL}: lena, leo (inactive)" in listing
    assert f"{AUDITORS}: lena" in listing
    assert f"{GOVADMINS}: —" in listing
    assert "Superusers (act as governance admins and auditors): admin" in listing
    assert role("list", "--user", "lena") == f"lena: {AUDITORS}, {LEGAL}\n"
    assert role("list", "--user", "admin") == "admin: no governance role\n"
