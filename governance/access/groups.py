"""Who is who: the roles of the permission matrix and the Django groups that hold them.

A person's roles are the groups they belong to: one group per role, and one per committee function
(each of those holds the committee-member role for its function). Declared here, below both the
matrix (governance/access/matrix.py), which reads a person's roles from their groups, and the
groups' installation (governance/access/roles.py), which gives each group the Django permissions
the matrix derives for its role.
"""

from __future__ import annotations

from enum import StrEnum

from projects.vocabulary import FunctionCode


class Role(StrEnum):
    PROJECT_LEAD = "project lead"
    COMMITTEE_MEMBER = "committee member"
    CHAIR = "committee chair"
    AUDITOR = "auditor"
    GOVERNANCE_ADMIN = "governance admin"
    SCHEDULER = "scheduler"  # ValueGate's own background jobs, acting for the committee


PROJECT_LEADS = "Project leads"
COMMITTEE_CHAIR = "Committee chair"
AUDITORS = "Auditors"
GOVERNANCE_ADMINS = "Governance admins"

FUNCTION_GROUPS: dict[str, str] = {
    FunctionCode.BUSINESS: "Committee: business",
    FunctionCode.LEGAL: "Committee: legal",
    FunctionCode.FINANCE: "Committee: finance",
    FunctionCode.TECHNICAL: "Committee: technical",
    FunctionCode.RISK_ETHICS: "Committee: risk & ethics",
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
