""" "Awaiting my sign-off": the open reviews a committee member can act on, oldest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from governance.models import GateReview, ReviewStatus, SignOff
from governance.rules.gates import FUNCTION_LABELS, GateEvaluation, required_functions
from governance.selectors.gates import policy_rules
from governance.selectors.portfolio import review_checklists


@dataclass(frozen=True)
class QueueItem:
    review: GateReview
    functions: tuple[str, ...]  # the member's functions this review still awaits
    checklist: GateEvaluation
    age: dt.timedelta
    sign_again: bool  # the member's own approval went stale or expired

    @property
    def age_days(self) -> int:
        return self.age.days

    @property
    def function_labels(self) -> str:
        return ", ".join(FUNCTION_LABELS.get(f, f) for f in self.functions)

    @property
    def requirements_passed(self) -> int:
        return sum(1 for r in self.checklist.requirements if r.passed)

    @property
    def other_requirements_failing(self) -> tuple:
        """What fails besides sign-offs: the reader should know before approving."""
        return tuple(r for r in self.checklist.failing if not r.code.startswith("signoff:"))


def awaiting_signoff(user, functions: frozenset[str], *, now: dt.datetime) -> list[QueueItem]:
    """Open reviews asking one of `functions` for a sign-off that is missing, stale or expired,
    which `user` may give: not the initiative's lead, sponsor or the review's requester, and not
    already signing the review for another function. Oldest first.

    Eleven queries whatever the number of reviews, initiatives, KPIs and sign-offs.
    """
    if not functions:
        return []
    candidates: list[tuple[GateReview, tuple[str, ...]]] = []
    for review in (
        GateReview.objects.filter(status=ReviewStatus.OPEN)
        .select_related("initiative", "policy")
        .order_by("opened_at", "id")
    ):
        initiative = review.initiative
        if user.pk in (initiative.owner_id, initiative.sponsor_id, review.requested_by_id):
            continue  # segregation of duties: they may not sign it
        needed = required_functions(policy_rules(review.policy), initiative.risk_tier)
        mine = tuple(f for f in needed if f in functions)
        if mine:
            candidates.append((review, mine))
    if not candidates:
        return []

    signed_by_me = dict(
        SignOff.objects.filter(
            review__in=[r.pk for r, _ in candidates], reviewer=user, superseded_at__isnull=True
        ).values_list("review_id", "function__code")
    )
    checklists = review_checklists([r for r, _ in candidates], now=now)
    items = []
    for review, mine in candidates:
        my_function = signed_by_me.get(review.pk)
        if my_function is not None and my_function not in mine:
            continue  # signing this review for another function: one person, one function
        checklist = checklists[review.pk]
        failing = {r.code for r in checklist.failing}
        awaited = tuple(f for f in mine if f"signoff:{f}" in failing)
        if my_function is not None:
            awaited = tuple(f for f in awaited if f == my_function)
        if not awaited:
            continue
        items.append(
            QueueItem(
                review=review,
                functions=awaited,
                checklist=checklist,
                age=now - review.opened_at,
                sign_again=my_function is not None,
            )
        )
    return items
