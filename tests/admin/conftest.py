"""People for the admin tests: one of each role, all allowed into the admin (is_staff)."""

from __future__ import annotations

import pytest

from governance.access import roles
from tests import factories


def staff(*groups: str, username: str, **kwargs):
    return factories.user_in(*groups, username=username, is_staff=True, **kwargs)


@pytest.fixture
def people(db):
    """Every role, plus a second project lead and a staff account with no role."""
    people = {
        "lead": staff(roles.PROJECT_LEADS, username="lead"),
        "other_lead": staff(roles.PROJECT_LEADS, username="other-lead"),
        "chair": staff(roles.COMMITTEE_CHAIR, username="chair"),
        "auditor": staff(roles.AUDITORS, username="auditor"),
        "govadmin": staff(roles.GOVERNANCE_ADMINS, username="govadmin"),
        "nobody": staff(username="nobody"),
        "superuser": factories.UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    for code, group in roles.FUNCTION_GROUPS.items():
        people[code] = staff(group, username=f"{code}-member")
    return people


@pytest.fixture
def as_user(client):
    """Log the client in as a user; return the client."""

    def login(user):
        client.force_login(user)
        return client

    return login
