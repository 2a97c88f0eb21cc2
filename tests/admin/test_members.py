"""People and roles: governance admins grant and revoke roles on one page, through the services,
and the ledger names them; nobody else opens it, and the user admin no longer edits groups."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.access import membership as membership_services
from governance.access import roles
from governance.errors import InvalidInput
from governance.ledger.models import LedgerEvent
from tests import factories

pytestmark = pytest.mark.django_db

CHAIR, AUDITORS, GOVADMINS = roles.COMMITTEE_CHAIR, roles.AUDITORS, roles.GOVERNANCE_ADMINS
LEGAL = roles.FUNCTION_GROUPS["legal"]


def page(user) -> str:
    return reverse("admin:governance_member_change", args=[user.pk])


LIST = reverse("admin:governance_member_changelist")


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def held(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def membership_events() -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.actor_name, json.loads(e.payload)["user"], json.loads(e.payload)["group"])
        for e in LedgerEvent.objects.filter(action__startswith="membership.").order_by("seq")
    ]


def roles_column(response) -> list[str]:
    """The list's "Governance roles" cells, as the page shows them."""
    return [
        html.unescape(cell)
        for cell in re.findall(r'<td class="field-roles_held">(.*?)</td>', response.content.decode())
    ]


def save_roles(client, person, *, roles_wanted, roles_shown):
    return client.post(page(person), {"roles": roles_wanted, "shown": roles_shown}, follow=True)


@pytest.mark.parametrize("who", ["govadmin", "superuser"])
def test_a_governance_admin_grants_the_chair_role_and_the_ledger_names_them(people, as_user, who):
    alice = factories.UserFactory(username="alice", is_staff=True)
    client = as_user(people[who])

    form = client.get(page(alice)).content.decode()
    assert f'value="{CHAIR}"' in form and f'value="{LEGAL}"' in form
    response = save_roles(client, alice, roles_wanted=[CHAIR], roles_shown=[])

    assert held(alice) == {CHAIR}
    assert membership_events() == [("membership.granted", people[who].username, "alice", CHAIR)]
    assert LedgerEvent.objects.get(action="membership.granted").actor == people[who]
    confirmation, receipt = shown(response)
    assert confirmation == f"alice: granted “{CHAIR}”. Recorded in the decision ledger."
    assert receipt.startswith("Ledger receipt: membership.granted: event ")


def test_one_save_grants_and_revokes_and_the_list_shows_the_result(people, as_user):
    lena = factories.user_in(AUDITORS, username="lena")
    client = as_user(people["govadmin"])

    response = save_roles(client, lena, roles_wanted=[LEGAL, CHAIR], roles_shown=[AUDITORS])

    assert held(lena) == {LEGAL, CHAIR}
    assert sorted(membership_events()) == [
        ("membership.granted", "govadmin", "lena", CHAIR),
        ("membership.granted", "govadmin", "lena", LEGAL),
        ("membership.revoked", "govadmin", "lena", AUDITORS),
    ]
    assert roles_column(client.get(LIST, {"q": "lena"})) == [f"{CHAIR}, {LEGAL}"]
    assert response.redirect_chain[-1][0].startswith(LIST)


def test_an_auditor_reads_who_holds_which_role_and_who_granted_it_when_but_changes_nothing(people, as_user):
    person = factories.user_in(username="person")
    govadmin = as_user(people["govadmin"])
    save_roles(govadmin, person, roles_wanted=[CHAIR], roles_shown=[])
    save_roles(govadmin, person, roles_wanted=[LEGAL], roles_shown=[CHAIR])
    client = as_user(people["auditor"])

    listed = client.get(LIST)
    assert listed.status_code == 200 and "person" in listed.content.decode()
    detail = client.get(page(person)).content.decode()
    history = re.findall(r"<tr><td>[^<]*</td><td>(Role \w+)</td><td>([^<]*)</td><td>([^<]*)</td>", detail)
    assert history == [
        ("Role granted", CHAIR, "govadmin"),
        ("Role granted", LEGAL, "govadmin"),  # one save: its grants, then its revocations
        ("Role revoked", CHAIR, "govadmin"),
    ]
    assert 'name="roles"' not in detail  # a reader gets no form

    assert client.post(page(person), {"roles": [AUDITORS], "shown": [LEGAL]}).status_code == 403
    assert held(person) == {LEGAL}
    assert "People and roles" in client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize("who", ["chair", "lead", "legal", "nobody"])
def test_other_roles_are_refused_the_page_and_change_nothing(people, as_user, who):
    person = factories.user_in(AUDITORS, username="person")
    client = as_user(people[who])

    assert client.get(LIST).status_code == 403
    assert client.get(page(person)).status_code == 403
    assert client.post(page(person), {"roles": [CHAIR], "shown": [AUDITORS]}).status_code == 403
    assert "People and roles" not in client.get(reverse("admin:index")).content.decode()

    assert held(person) == {AUDITORS}
    assert membership_events() == []


def test_the_admin_index_offers_the_page_to_governance_admins(people, as_user):
    index = as_user(people["govadmin"]).get(reverse("admin:index")).content.decode()
    assert "People and roles" in index and LIST in index


def test_a_governance_admin_cannot_change_their_own_roles(people, as_user):
    govadmin = people["govadmin"]
    client = as_user(govadmin)

    response = save_roles(client, govadmin, roles_wanted=[CHAIR], roles_shown=[GOVADMINS])

    assert shown(response) == ["Nobody changes their own committee roles; ask another governance admin."]
    assert response.redirect_chain == [(page(govadmin), 302)]
    assert held(govadmin) == {GOVADMINS}
    assert membership_events() == []


def test_a_refusal_of_any_change_leaves_every_role_as_it_was(people, as_user, monkeypatch):
    lena = factories.user_in(AUDITORS, username="lena")

    def refuse(**kwargs):
        raise InvalidInput("Refused for the test.")

    # Grants run before revocations: the grant succeeds, then the revocation is refused.
    monkeypatch.setattr(membership_services, "membership_revoke", refuse)
    response = save_roles(as_user(people["govadmin"]), lena, roles_wanted=[CHAIR], roles_shown=[AUDITORS])

    assert shown(response) == ["Refused for the test."]
    assert held(lena) == {AUDITORS}
    assert membership_events() == []


def test_granting_a_role_to_an_inactive_account_is_refused_with_the_reason(people, as_user):
    gone = factories.UserFactory(username="gone", is_active=False)

    response = save_roles(as_user(people["govadmin"]), gone, roles_wanted=[CHAIR], roles_shown=[])

    assert shown(response) == ["gone's account is inactive."]
    assert held(gone) == set()


def test_a_save_from_an_outdated_page_is_refused(people, as_user):
    lena = factories.UserFactory(username="lena")
    client = as_user(people["govadmin"])
    client.get(page(lena))  # shows no role
    factories.user_in(AUDITORS, username="lena")  # someone grants one meanwhile

    response = save_roles(client, lena, roles_wanted=[CHAIR], roles_shown=[])

    assert shown(response) == [
        "lena's roles changed after this page was opened; the page now shows them as they are. "
        "Make your change again."
    ]
    assert held(lena) == {AUDITORS}
    # A post that carries no form at all is such a save too: it revokes nothing.
    client.post(page(lena), {"title": "Edited"})
    assert held(lena) == {AUDITORS}
    assert membership_events() == []


def test_nothing_but_the_roles_is_editable_and_there_is_no_add_or_delete(people, as_user):
    lena = factories.UserFactory(username="lena", email="lena@example.test")
    client = as_user(people["govadmin"])

    form = client.get(page(lena)).content.decode()
    for field in ("username", "email", "first_name", "is_active", "is_staff", "password"):
        assert f'name="{field}"' not in form
    assert "lena@example.test" in form
    client.post(page(lena), {"roles": [], "shown": [], "username": "renamed", "is_superuser": "on"})
    lena.refresh_from_db()
    assert (lena.username, lena.is_superuser) == ("lena", False)
    assert client.get(reverse("admin:governance_member_add")).status_code == 403
    assert (
        client.post(reverse("admin:governance_member_delete", args=[lena.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert User.objects.filter(pk=lena.pk).exists()


def test_the_list_filters_by_role_and_searches_names_and_e_mail(people, as_user):
    factories.user_in(CHAIR, username="carla", first_name="Carla", last_name="Nowak")
    factories.user_in(LEGAL, username="lena", email="lena.legal@example.test")
    client = as_user(people["govadmin"])

    def listed(**query) -> set[str]:
        return {person.username for person in client.get(LIST, query).context["cl"].result_list}

    assert listed(role=CHAIR) == {"carla", "chair"}
    assert listed(q="Nowak") == {"carla"}
    assert listed(q="lena.legal@") == {"lena"}


def add_people(count: int, first: int) -> None:
    new = User.objects.bulk_create(
        [User(username=f"person-{first + i:04d}", first_name="P", last_name=str(i)) for i in range(count)]
    )
    groups = list(Group.objects.filter(name__in=[CHAIR, LEGAL, AUDITORS]))
    User.groups.through.objects.bulk_create(
        [User.groups.through(user=person, group=group) for person in new for group in groups]
    )


def test_the_list_takes_the_same_queries_for_5_and_50_people(people, as_user):
    client = as_user(people["govadmin"])
    client.get(LIST)  # the session and content types are read once, before either count

    add_people(5, first=0)
    with CaptureQueriesContext(connection) as five:
        response = client.get(LIST)
    assert roles_column(response).count(f"{AUDITORS}, {CHAIR}, {LEGAL}") == 5

    add_people(45, first=5)
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(LIST)
    assert roles_column(response).count(f"{AUDITORS}, {CHAIR}, {LEGAL}") == 50

    assert len(fifty) == len(five)


# The user admin: accounts only --------------------------------------------------------------


def test_the_user_admin_no_longer_offers_groups_or_permissions(people, as_user):
    alice = factories.UserFactory(username="alice")
    client = as_user(people["superuser"])

    form = client.get(reverse("admin:auth_user_change", args=[alice.pk])).content.decode()

    assert 'name="groups"' not in form and 'name="user_permissions"' not in form
    assert f'href="{page(alice)}"' in form


def test_a_forged_groups_field_on_the_user_admin_changes_no_role(people, as_user):
    alice = factories.UserFactory(username="alice")
    chair = Group.objects.get(name=CHAIR)

    response = as_user(people["superuser"]).post(
        reverse("admin:auth_user_change", args=[alice.pk]),
        {
            "username": "alice",
            "first_name": "Alice",
            "email": "alice@example.test",
            "is_active": "on",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
            "groups": [chair.pk],
        },
    )

    assert response.status_code == 302  # the account was saved
    alice.refresh_from_db()
    assert alice.first_name == "Alice"
    assert held(alice) == set()
    assert membership_events() == []


def account_events() -> list[tuple[str, dict]]:
    return [
        (e.actor_name, json.loads(e.payload))
        for e in LedgerEvent.objects.filter(action="account.changed").order_by("seq")
    ]


def account_form(user, **flags) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
    }
    return data | {flag: "on" for flag, on in flags.items() if on}


def test_deactivating_an_account_or_making_it_superuser_is_recorded_with_who_did_it(people, as_user):
    lead = people["lead"]
    client = as_user(people["superuser"])
    change = reverse("admin:auth_user_change", args=[lead.pk])

    assert client.post(change, account_form(lead, is_active=False, is_staff=True)).status_code == 302
    lead.refresh_from_db()
    assert not lead.is_active
    alice = factories.UserFactory(username="alice", is_staff=True)
    client.post(
        reverse("admin:auth_user_change", args=[alice.pk]),
        account_form(alice, is_active=True, is_staff=True, is_superuser=True),
    )

    assert account_events() == [
        ("root", {"user": "lead", "changed": {"is_active": {"from": True, "to": False}}}),
        ("root", {"user": "alice", "changed": {"is_superuser": {"from": False, "to": True}}}),
    ]


def test_saving_an_account_without_changing_its_flags_records_nothing(people, as_user):
    alice = factories.UserFactory(username="alice", is_staff=True)
    response = as_user(people["superuser"]).post(
        reverse("admin:auth_user_change", args=[alice.pk]),
        {**account_form(alice, is_active=True, is_staff=True), "first_name": "Alice"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.first_name == "Alice"
    assert account_events() == []
