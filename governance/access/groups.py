"""Who is who: the roles of the permission matrix and the Django groups that hold them.

A person's roles are the groups they belong to: one group per role, and one per committee function
(each of those holds the committee-member role for its function). Declared here, below both the
matrix (governance/access/matrix.py), which reads a person's roles from their groups, and the
groups' installation (governance/access/roles.py), which gives each group the Django permissions
the matrix derives for its role.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext, gettext_noop

from projects.vocabulary import FunctionCode


class Role(StrEnum):
    # The values are the roles' stable names (in logs and tests); gettext_noop only marks them so
    # that `label` can show them translated.
    PROJECT_LEAD = gettext_noop("project lead")
    COMMITTEE_MEMBER = gettext_noop("committee member")
    CHAIR = gettext_noop("committee chair")
    AUDITOR = gettext_noop("auditor")
    GOVERNANCE_ADMIN = gettext_noop("governance admin")
    SCHEDULER = gettext_noop("scheduler")  # ValueGate's own background jobs, acting for the committee

    @property
    def label(self) -> str:
        """The role's name as a person reads it, in the active language."""
        return gettext(self.value)


# The group names identify the role groups (in the database, the ledger's membership payloads and
# `manage.py role --role`): they never change with the language. gettext_noop only marks them, so
# that group_label() can show a person the name in their language.
PROJECT_LEADS = gettext_noop("Project leads")
COMMITTEE_CHAIR = gettext_noop("Committee chair")
AUDITORS = gettext_noop("Auditors")
GOVERNANCE_ADMINS = gettext_noop("Governance admins")

FUNCTION_GROUPS: dict[str, str] = {
    FunctionCode.BUSINESS: gettext_noop("Committee: business"),
    FunctionCode.LEGAL: gettext_noop("Committee: legal"),
    FunctionCode.FINANCE: gettext_noop("Committee: finance"),
    FunctionCode.TECHNICAL: gettext_noop("Committee: technical"),
    FunctionCode.RISK_ETHICS: gettext_noop("Committee: risk & ethics"),
}


# Each role group is one role of the permission matrix; every committee function's group is the
# committee-member role for that function.
GROUP_ROLES: dict[str, Role] = {
    PROJECT_LEADS: Role.PROJECT_LEAD,
    COMMITTEE_CHAIR: Role.CHAIR,
    AUDITORS: Role.AUDITOR,
    GOVERNANCE_ADMINS: Role.GOVERNANCE_ADMIN,
    **{group: Role.COMMITTEE_MEMBER for group in FUNCTION_GROUPS.values()},
}


def group_label(name: str) -> str:
    """A role group's name as a person reads it, in the active language; any other group's name as
    it is (only the role groups' names are in the catalogue)."""
    return gettext(name) if name in GROUP_ROLES else name
