"""Committee membership in the ledger: every grant and revocation, once, with who did it."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from governance.access import roles
from governance.access.matrix import Role, principal
from governance.access.membership import membership_grant, membership_revoke
from governance.errors import InvalidInput, NotAllowed, SegregationOfDuties
from governance.ledger.models import LedgerEvent
from governance.ledger.verification import verify_ledger
from tests import factories

pytestmark = pytest.mark.django_db


def membership_events():
    return [
        (e.action, e.actor_name, json.loads(e.payload)["user"], json.loads(e.payload)["group"])
        for e in LedgerEvent.objects.filter(action__startswith="membership.").order_by("seq")
    ]


@pytest.fixture
def govadmin():
    return factories.user_in(roles.GOVERNANCE_ADMINS, username="govadmin")


@pytest.fixture
def legal():
    return Group.objects.get(name=roles.FUNCTION_GROUPS["legal"])


def test_a_governance_admin_grants_and_revokes_a_role_and_the_ledger_names_them(govadmin, legal):
    member = factories.UserFactory(username="lena")

    membership_grant(actor=govadmin, user=member, group=legal)
    assert principal(member).functions == {"legal"}
    membership_revoke(actor=govadmin, user=member, group=legal)

    assert principal(member).functions == set()
    assert membership_events() == [
        ("membership.granted", "govadmin", "lena", "Committee: legal"),
        ("membership.revoked", "govadmin", "lena", "Committee: legal"),
    ]
    assert LedgerEvent.objects.get(action="membership.granted").actor == govadmin
    assert verify_ledger(strict=True).count == 2


def test_changes_outside_the_services_are_recorded_as_system(legal):
    chair = Group.objects.get(name=roles.COMMITTEE_CHAIR)
    user = factories.UserFactory(username="sam")

    user.groups.add(legal)  # e.g. the user admin's form
    chair.user_set.add(user)  # from the group's side
    chair.user_set.remove(user)
    user.groups.clear()

    assert membership_events() == [
        ("membership.granted", "system", "sam", "Committee: legal"),
        ("membership.granted", "system", "sam", "Committee chair"),
        ("membership.revoked", "system", "sam", "Committee chair"),
        ("membership.revoked", "system", "sam", "Committee: legal"),
    ]


def test_set_records_only_what_changed(legal):
    finance = Group.objects.get(name=roles.FUNCTION_GROUPS["finance"])
    user = factories.UserFactory(username="fin")
    user.groups.add(legal)

    user.groups.set([legal, finance])
    user.groups.add(legal)  # already a member
    user.groups.remove(Group.objects.get(name=roles.AUDITORS))  # never was one

    assert membership_events() == [
        ("membership.granted", "system", "fin", "Committee: legal"),
        ("membership.granted", "system", "fin", "Committee: finance"),
    ]


def test_groups_that_are_not_governance_roles_are_not_recorded():
    other = Group.objects.create(name="Newsletter")
    user = factories.UserFactory()

    user.groups.add(other)
    other.user_set.clear()

    assert membership_events() == []


def test_deleting_an_account_or_a_role_group_revokes_it_in_the_ledger():
    gone = factories.user_in(roles.AUDITORS, username="leaver")
    gone.delete()
    group = Group.objects.get(name=roles.GOVERNANCE_ADMINS)
    factories.user_in(roles.GOVERNANCE_ADMINS, username="stays")
    group.delete()

    assert membership_events() == [
        ("membership.revoked", "system", "leaver", "Auditors"),
        ("membership.revoked", "system", "stays", "Governance admins"),
    ]


@pytest.mark.parametrize("who", ["chair", "auditor", "legal"])
def test_only_governance_admins_change_roles(members, legal, who):
    user = factories.UserFactory()

    with pytest.raises(NotAllowed):
        membership_grant(actor=members[who], user=user, group=legal)

    assert not user.groups.exists()
    assert membership_events() == []


def test_nobody_grants_themselves_a_role(govadmin):
    with pytest.raises(SegregationOfDuties):
        membership_grant(actor=govadmin, user=govadmin, group=Group.objects.get(name=roles.COMMITTEE_CHAIR))
    assert Role.CHAIR not in principal(govadmin).roles


def test_refusals_say_why_and_record_nothing(govadmin, legal):
    user = factories.user_in(roles.FUNCTION_GROUPS["legal"])
    with pytest.raises(InvalidInput, match="already holds"):
        membership_grant(actor=govadmin, user=user, group=legal)
    with pytest.raises(InvalidInput, match="does not hold"):
        membership_revoke(actor=govadmin, user=user, group=Group.objects.get(name=roles.AUDITORS))
    with pytest.raises(InvalidInput, match="not a governance role"):
        membership_grant(actor=govadmin, user=user, group=Group.objects.create(name="Book club"))
    assert membership_events() == []
