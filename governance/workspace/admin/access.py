"""What the person behind a request may do in the admin.

Every page, button and action asks the permission matrix (governance/access/matrix.py) here, with
the object's state (a draft, an open review), so that what a page offers and what its URL
accepts never differ; the services ask the same matrix again and have the last word.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import PermissionDenied

from governance.access.matrix import Operation, Principal, allowed, principal_from_groups
from governance.access.selectors import sees_whole_portfolio
from governance.reviews.facts import policy_rules
from governance.reviews.models import GateReview
from governance.rules.gates import required_functions
from projects.models import Initiative
from projects.vocabulary import GATES_FROM_STAGE, TERMINAL_STAGES, ReviewStatus, Stage


@dataclass(frozen=True)
class Access:
    user: object
    groups: frozenset[str]

    @cached_property
    def principal(self) -> Principal:
        return principal_from_groups(self.user, self.groups)

    def allows(
        self, operation: Operation, *, owner_id: int | None = None, function: str | None = None
    ) -> bool:
        return allowed(self.principal, operation, owner_id=owner_id, function=function)

    @property
    def functions(self) -> frozenset[str]:
        """Codes of the committee functions the user sits for."""
        return self.principal.functions

    @property
    def sees_whole_portfolio(self) -> bool:
        return sees_whole_portfolio(self.principal)  # from the groups already read: no query

    def _on(self, operation: Operation, initiative: Initiative) -> bool:
        return self.allows(operation, owner_id=initiative.owner_id)

    # Project leads --------------------------------------------------------------------------

    def may_register_initiative(self) -> bool:
        return self.allows(Operation.REGISTER_INITIATIVE)

    def may_edit_draft(self, initiative: Initiative) -> bool:
        return initiative.stage == Stage.DRAFT and self._on(Operation.EDIT_DRAFT, initiative)

    def may_record_business_case(self, initiative: Initiative) -> bool:
        return self.may_edit_draft(initiative)

    def may_define_kpi(self, initiative: Initiative) -> bool:
        return self.may_edit_draft(initiative)

    def may_submit(self, initiative: Initiative) -> bool:
        return initiative.stage == Stage.DRAFT and self._on(Operation.SUBMIT_INITIATIVE, initiative)

    def _live(self, operation: Operation, initiative: Initiative) -> bool:
        return initiative.stage not in TERMINAL_STAGES and self._on(operation, initiative)

    def may_record_measurements(self, initiative: Initiative) -> bool:
        return self._live(Operation.RECORD_MEASUREMENTS, initiative)

    def may_record_experiment(self, initiative: Initiative) -> bool:
        return self._live(Operation.RECORD_EXPERIMENT, initiative)

    def may_record_money(self, initiative: Initiative) -> bool:
        return self._live(Operation.RECORD_MONEY, initiative)

    def may_upload_evidence(self, initiative: Initiative) -> bool:
        return self._live(Operation.UPLOAD_EVIDENCE, initiative)

    # Reviews --------------------------------------------------------------------------------

    def may_request_review(self, initiative: Initiative, *, has_open_review: bool) -> bool:
        return (
            bool(GATES_FROM_STAGE.get(initiative.stage))
            and not has_open_review
            and self._on(Operation.REQUEST_REVIEW, initiative)
        )

    def functions_to_sign(self, review: GateReview) -> tuple[str, ...]:
        """The user's functions that this open review asks to sign (review.initiative and policy loaded)."""
        if review.status != ReviewStatus.OPEN or not self.allows(Operation.SIGN_OFF):
            return ()
        needed = required_functions(policy_rules(review.policy), review.initiative.risk_tier)
        return tuple(f for f in needed if self.allows(Operation.SIGN_OFF, function=f))

    def may_sign(self, review: GateReview) -> bool:
        return bool(self.functions_to_sign(review))

    def may_decide(self, review: GateReview | None = None) -> bool:
        """Hold or kill."""
        open_review = review is None or review.status == ReviewStatus.OPEN
        return open_review and self.allows(Operation.DECIDE_REVIEW)

    def may_advance(self, review: GateReview) -> bool:
        return review.status == ReviewStatus.OPEN and self._on(
            Operation.ADVANCE_INITIATIVE, review.initiative
        )

    def may_close_condition(self, condition) -> bool:
        return condition.closed_at is None and self.allows(
            Operation.CLOSE_CONDITION, owner_id=condition.owner_id
        )

    # Policies -------------------------------------------------------------------------------

    def may_audit_ledger(self) -> bool:
        """Export the ledger for an audit and verify it (the auditor's pages of the ledger)."""
        return self.allows(Operation.EXPORT_LEDGER)

    def may_add_policy_version(self) -> bool:
        return self.allows(Operation.EDIT_POLICY)

    def may_edit_policy(self) -> bool:
        """Editing a policy saves a new version."""
        return self.allows(Operation.EDIT_POLICY)


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
