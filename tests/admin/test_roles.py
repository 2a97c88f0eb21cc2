"""The roles' permissions: declared once, applied after every migrate, nothing more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from governance.access import roles

pytestmark = pytest.mark.django_db


def codes(group_name: str) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_auditors_may_only_view_and_may_view_every_model_but_the_roles_page():
    granted = codes(roles.AUDITORS)
    assert granted and all(c.split(".")[1].startswith("view_") for c in granted)
    every_view = {
        f"{app}.{code}"
        for app, code in Permission.objects.filter(
            content_type__app_label__in=("projects", "governance"), codename__startswith="view_"
        ).values_list("content_type__app_label", "codename")
    }
    # People and roles is the governance admins' page (the matrix's MANAGE_MEMBERSHIP); notification
    # deliveries are the chair's and the operators' (SEE_DELIVERIES); channel choices are each
    # person's own, on a page that asks the matrix; so are language and time zone (My preferences).
    assert granted == every_view - {
        "governance.view_member",
        "governance.view_notificationdelivery",
        "governance.view_notificationpreference",
        "governance.view_userpreferences",
    }


def test_project_leads_cannot_sign_decide_edit_policies_or_read_the_whole_ledger():
    granted = codes(roles.PROJECT_LEADS)
    assert "projects.add_initiative" in granted and "projects.add_evidence" in granted
    for forbidden in (
        "governance.add_signoff",
        "governance.change_gatereview",
        "governance.change_gatepolicy",
        "governance.add_gatepolicy",
        "governance.view_ledgerevent",
        "governance.view_notificationdelivery",  # (their own notifications they do see)
        "projects.delete_initiative",
        "projects.change_evidence",
    ):
        assert forbidden not in granted


def test_only_committee_functions_sign_only_the_chair_decides_admins_and_the_chair_edit_policies():
    for group in roles.ROLE_PERMISSIONS:
        granted = codes(group)
        assert ("governance.add_signoff" in granted) == (group in roles.FUNCTION_GROUPS.values())
        assert ("governance.change_gatereview" in granted) == (group == roles.COMMITTEE_CHAIR)
        assert ("governance.change_gatepolicy" in granted) == (
            group in (roles.GOVERNANCE_ADMINS, roles.COMMITTEE_CHAIR)
        )
        assert not any(c.split(".")[1].startswith("delete_") for c in granted)


def test_applying_the_roles_again_removes_a_permission_granted_by_hand():
    auditors = Group.objects.get(name=roles.AUDITORS)
    auditors.permissions.add(Permission.objects.get(codename="add_signoff"))
    roles.ensure_roles()
    assert "governance.add_signoff" not in codes(roles.AUDITORS)


def test_a_declared_permission_that_does_not_exist_is_an_error(monkeypatch):
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.AUDITORS, frozenset({"governance.fly_gatepolicy"}))
    with pytest.raises(LookupError, match="fly_gatepolicy"):
        roles.grant_role_permissions()
