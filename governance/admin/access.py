"""What the person behind a request may do in the admin.

One place for the role rules of every page, button and action, so that what a page offers and
what its URL accepts never differ. Each rule needs both the role's declared permission
(governance/roles.py ROLE_PERMISSIONS) and the role itself on the object (a lead's own
initiative, a member's function, the chair); the services check the same again and have the
last word.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from governance import roles
from governance.models import GATES_FROM_STAGE, GateReview, ReviewStatus
from governance.rules.gates import required_functions
from governance.selectors.gates import policy_rules
from projects.models import TERMINAL_STAGES, Initiative, Stage


@dataclass(frozen=True)
class Access:
    user: object
    groups: frozenset[str]

    @property
    def functions(self) -> frozenset[str]:
        """Codes of the committee functions the user sits for."""
        return frozenset(code for code, group in roles.FUNCTION_GROUPS.items() if group in self.groups)

    @property
    def is_lead(self) -> bool:
        return roles.PROJECT_LEADS in self.groups

    @property
    def is_chair(self) -> bool:
        return roles.COMMITTEE_CHAIR in self.groups

    @property
    def is_auditor(self) -> bool:
        return roles.AUDITORS in self.groups

    @property
    def is_governance_admin(self) -> bool:
        return roles.GOVERNANCE_ADMINS in self.groups

    @property
    def sees_whole_portfolio(self) -> bool:
        """As governance.selectors.access.sees_whole_portfolio, from the groups already read."""
        return self.user.is_superuser or bool(self.groups - {roles.PROJECT_LEADS})

    def can(self, permission: str) -> bool:
        return self.user.is_active and self.user.has_perm(permission)

    def owns(self, initiative: Initiative) -> bool:
        return self.is_lead and initiative.owner_id == self.user.pk

    # Project leads --------------------------------------------------------------------------

    def may_register_initiative(self) -> bool:
        return self.is_lead and self.can("projects.add_initiative")

    def may_edit_draft(self, initiative: Initiative) -> bool:
        return (
            self.owns(initiative)
            and initiative.stage == Stage.DRAFT
            and self.can("projects.change_initiative")
        )

    def may_record_business_case(self, initiative: Initiative) -> bool:
        return self.may_edit_draft(initiative) and self.can("projects.change_businesscase")

    def may_define_kpi(self, initiative: Initiative) -> bool:
        return self.may_edit_draft(initiative) and self.can("projects.add_kpi")

    def may_submit(self, initiative: Initiative) -> bool:
        return self.may_edit_draft(initiative)

    def _owns_live(self, initiative: Initiative, permission: str) -> bool:
        return self.owns(initiative) and initiative.stage not in TERMINAL_STAGES and self.can(permission)

    def may_record_measurements(self, initiative: Initiative) -> bool:
        return self._owns_live(initiative, "projects.add_kpimeasurement")

    def may_record_experiment(self, initiative: Initiative) -> bool:
        return self._owns_live(initiative, "projects.add_experiment")

    def may_record_money(self, initiative: Initiative) -> bool:
        return self._owns_live(initiative, "projects.add_financialentry")

    def may_upload_evidence(self, initiative: Initiative) -> bool:
        return self._owns_live(initiative, "projects.add_evidence")

    # Reviews --------------------------------------------------------------------------------

    def may_request_review(self, initiative: Initiative, *, has_open_review: bool) -> bool:
        return (
            (self.owns(initiative) or self.is_chair)
            and self.can("governance.add_gatereview")
            and bool(GATES_FROM_STAGE.get(initiative.stage))
            and not has_open_review
        )

    def functions_to_sign(self, review: GateReview) -> tuple[str, ...]:
        """The user's functions that this open review asks to sign (review.initiative and policy loaded)."""
        if review.status != ReviewStatus.OPEN or not self.can("governance.add_signoff"):
            return ()
        needed = required_functions(policy_rules(review.policy), review.initiative.risk_tier)
        return tuple(f for f in needed if f in self.functions)

    def may_sign(self, review: GateReview) -> bool:
        return bool(self.functions_to_sign(review))

    def may_decide(self, review: GateReview | None = None) -> bool:
        """Hold or kill: the chair."""
        open_review = review is None or review.status == ReviewStatus.OPEN
        return open_review and self.is_chair and self.can("governance.change_gatereview")

    def may_advance(self, review: GateReview) -> bool:
        if review.status != ReviewStatus.OPEN:
            return False
        if self.is_chair and self.can("governance.change_gatereview"):
            return True
        return self.owns(review.initiative) and self.can("projects.change_initiative")

    def may_close_condition(self, condition) -> bool:
        return (
            condition.closed_at is None
            and self.can("governance.change_condition")
            and (condition.owner_id == self.user.pk or self.is_chair)
        )

    # Policies -------------------------------------------------------------------------------

    def may_add_policy_version(self) -> bool:
        return self.is_governance_admin and self.can("governance.add_gatepolicy")

    def may_edit_policy(self) -> bool:
        """Editing a policy saves a new version."""
        return self.is_governance_admin and self.can("governance.change_gatepolicy")


def access(request) -> Access:
    """The request's Access, read once per request (one query for the user's groups)."""
    cached = getattr(request, "_valuegate_access", None)
    if cached is None or cached.user is not request.user:
        user = request.user
        groups = (
            frozenset(user.groups.values_list("name", flat=True))
            if user.is_authenticated and user.is_active
            else frozenset()
        )
        cached = Access(user=user, groups=groups)
        request._valuegate_access = cached
    return cached


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied
