""" "Awaiting my sign-off": the open reviews a committee member can act on, oldest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from governance.reviews.facts import policy_rules
from governance.reviews.models import GatePolicy, GateReview, SignOff
from governance.reviews.portfolio import review_checklists
from governance.rules.gates import GateEvaluation, required_functions
from projects.vocabulary import ReviewStatus, function_name


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
        return ", ".join(function_name(f) for f in self.functions)

    @property
    def requirements_passed(self) -> int:
        return sum(1 for r in self.checklist.requirements if r.passed)

    @property
    def other_requirements_failing(self) -> tuple:
        """What fails besides sign-offs: the reader should know before approving."""
        return tuple(r for r in self.checklist.failing if not r.code.startswith("signoff:"))


PAGE_SIZE = 50
CHUNK = 100  # reviews evaluated at a time while filling a page


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    number: int
    has_next: bool
    candidates: int  # open reviews asking one of the member's functions that they may sign

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def functions_signed_for(user) -> dict[int, str]:
    """For each open review `user` signed, the function they signed it for: the only one they may
    sign it for again. Superseded sign-offs count, so nobody signs one review for two functions."""
    return dict(
        SignOff.objects.filter(review__status=ReviewStatus.OPEN, reviewer=user).values_list(
            "review_id", "function__code"
        )
    )


def _candidates(user, functions: frozenset[str]) -> list[tuple[int, tuple[str, ...]]]:
    """(review id, the member's functions it asks for), oldest first, from plain values: the
    reviews the member may sign, by segregation of duties and one-function-per-person."""
    policies = {p.pk: policy_rules(p) for p in GatePolicy.objects.all()}
    rows = (
        GateReview.objects.filter(status=ReviewStatus.OPEN)
        .exclude(initiative__owner=user)
        .exclude(initiative__sponsor=user)
        .exclude(requested_by=user)
        .order_by("opened_at", "id")
        .values_list("id", "policy_id", "initiative__risk_tier")
    )
    signed_by_me = functions_signed_for(user)
    candidates = []
    for review_id, policy_id, risk_tier in rows:
        mine = tuple(f for f in required_functions(policies[policy_id], risk_tier) if f in functions)
        signed_for = signed_by_me.get(review_id)
        if signed_for is not None:
            mine = tuple(f for f in mine if f == signed_for)  # one person, one function per review
        if mine:
            candidates.append((review_id, mine))
    return candidates


def awaiting_signoff(
    user, functions: frozenset[str], *, now: dt.datetime, page: int = 1, page_size: int = PAGE_SIZE
) -> QueuePage:
    """Open reviews asking one of `functions` for a sign-off that is missing, stale or expired,
    which `user` may give: not the initiative's lead, sponsor or the review's requester, and not
    already signing the review for another function. Oldest first, a page at a time.

    Candidates are found from plain values; checklists are evaluated only for as many reviews as
    the page needs (a fixed number of queries per chunk of CHUNK reviews), so a member facing
    thousands of open reviews gets the first page as fast as one with ten.
    """
    page = max(page, 1)
    if not functions:
        return QueuePage([], page, False, 0)
    candidates = _candidates(user, functions)
    signed_by_me: dict[int, str] = {}
    wanted = page * page_size + 1  # one more than needed tells whether a next page exists
    awaited: list[QueueItem] = []
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        reviews = {
            r.pk: r
            for r in GateReview.objects.filter(pk__in=[pk for pk, _ in chunk]).select_related(
                "initiative", "policy"
            )
        }
        signed_by_me.update(
            SignOff.objects.filter(
                review__in=list(reviews), reviewer=user, superseded_at__isnull=True
            ).values_list("review_id", "function__code")
        )
        checklists = review_checklists(list(reviews.values()), now=now)
        for review_id, mine in chunk:
            review, checklist = reviews[review_id], checklists[review_id]
            failing = {r.code for r in checklist.failing}
            functions_awaited = tuple(f for f in mine if f"signoff:{f}" in failing)
            if functions_awaited:
                awaited.append(
                    QueueItem(
                        review=review,
                        functions=functions_awaited,
                        checklist=checklist,
                        age=now - review.opened_at,
                        sign_again=review_id in signed_by_me,
                    )
                )
        if len(awaited) >= wanted:
            break
    items = awaited[(page - 1) * page_size : page * page_size]
    return QueuePage(items, page, len(awaited) > page * page_size, len(candidates))
