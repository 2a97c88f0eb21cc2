""" "Awaiting my sign-off": the open reviews a committee member can act on, oldest first."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import pgettext

from governance.reviews.facts import policy_rules
from governance.reviews.models import GatePolicy, GateReview, SignOff
from governance.reviews.portfolio import review_checklists
from governance.rules.gates import GateEvaluation, required_functions
from projects.vocabulary import APPROVING_DECISIONS, ReviewStatus, RiskTier, function_name


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
        # Translators: separates the items of a list ("business, legal").
        return pgettext("between the words of a list", ", ").join(function_name(f) for f in self.functions)

    @property
    def requirements_passed(self) -> int:
        return sum(1 for r in self.checklist.requirements if r.passed)

    @property
    def other_requirements_failing(self) -> tuple:
        """What fails besides sign-offs: the reader should know before approving."""
        return tuple(r for r in self.checklist.failing if not r.code.startswith("signoff:"))


PAGE_SIZE = 50
# The fewest reviews read at a time while filling a page. A chunk is as large as the page still
# needs (most candidates do await the member), so a page evaluates about its own length of
# checklists, and never fewer than this when few of them remain to fill.
MIN_CHUNK = 10
# The listed reviews are counted up to this many: beyond it the queue says "more than", and
# counting stops there instead of reading every open review of the portfolio on each page.
COUNTED_UP_TO = 1000


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    number: int
    has_next: bool
    # The reviews listed for the member across all pages (what the footer says), up to the limit.
    listed: int
    more_listed: bool = False  # more than COUNTED_UP_TO of them; `listed` is the limit
    # Open reviews asking for the member's functions that segregation of duties keeps from them.
    withheld: int = 0

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


@dataclass(frozen=True)
class _Asking:
    """Which open reviews ask which of the member's functions, read from the policies at once."""

    any: Q  # the reviews asking one of the functions
    by_function: dict[str, Q]  # the reviews asking each function
    validity: dict[int, list[int]]  # a sign-off's validity in days: the policies that give it


def _asking(functions: frozenset[str]) -> _Asking:
    """The reviews whose policy asks one of `functions` for the initiative's risk tier."""
    asks_mine = Q(pk__in=[])
    by_function = {f: Q(pk__in=[]) for f in functions}
    validity: dict[int, list[int]] = {}
    for policy in GatePolicy.objects.all():
        rules = policy_rules(policy)
        validity.setdefault(rules.signoff_validity_days, []).append(policy.pk)
        tiers = {tier: set(required_functions(rules, tier)) for tier in RiskTier.values}
        if any(functions & asked for asked in tiers.values()):
            asks_mine |= Q(
                policy_id=policy.pk, initiative__risk_tier__in=[t for t, a in tiers.items() if functions & a]
            )
        for function in functions:
            if asking := [tier for tier, asked in tiers.items() if function in asked]:
                by_function[function] |= Q(policy_id=policy.pk, initiative__risk_tier__in=asking)
    return _Asking(asks_mine, by_function, validity)


def _withheld_from(user, functions: frozenset[str]) -> Q:
    """What segregation of duties and one-function-per-person keep from `user`: the initiatives
    they lead or sponsor, the reviews they asked for, those they sign for another function."""
    signed_for_another = SignOff.objects.filter(review=OuterRef("pk"), reviewer=user).exclude(
        function__code__in=functions
    )
    return (
        Q(initiative__owner=user)
        | Q(initiative__sponsor=user)
        | Q(requested_by=user)
        | Q(Exists(signed_for_another))
    )


def _candidates(user, functions: frozenset[str], asking: _Asking):
    """The open reviews asking one of the member's functions that they may sign, oldest first:
    a query, paged by the caller."""
    return (
        GateReview.objects.filter(asking.any, status=ReviewStatus.OPEN)
        .exclude(_withheld_from(user, functions))
        .order_by("opened_at", "id")
    )


def _withheld(user, functions: frozenset[str], asking: _Asking) -> int:
    """How many open reviews ask for the member's functions but are not theirs to sign."""
    withheld = GateReview.objects.filter(
        asking.any, _withheld_from(user, functions), status=ReviewStatus.OPEN
    )
    return min(withheld[: COUNTED_UP_TO + 1].count(), COUNTED_UP_TO)


@contextmanager
def _one_snapshot():
    """Read the page's reviews and their checklists as the database stood at one moment, so that
    a review decided meanwhile is either on the page with the checklist it had or not on it.

    PostgreSQL: a read-only REPEATABLE READ transaction, which holds up no writer. SQLite: a
    transaction, which holds the database's lock (config/settings.py) for the page's reads.
    Inside a caller's transaction, that transaction is the snapshot.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def awaiting_signoff(
    user, functions: frozenset[str], *, now: dt.datetime, page: int = 1, page_size: int = PAGE_SIZE
) -> QueuePage:
    """Open reviews asking one of `functions` for a sign-off that is missing, stale or expired,
    which `user` may give: not the initiative's lead, sponsor or the review's requester, and not
    already signing the review for another function. Oldest first, a page at a time.

    The candidates are a query read a chunk at a time (keyset, as many rows as the page lacks); checklists are
    evaluated only for as many of them as the page needs, in a fixed number of queries per chunk,
    so a member facing thousands of open reviews gets the first page as fast as one with ten, and
    no list of every open review is held. All of it is read from one snapshot (_one_snapshot).
    """
    page = max(page, 1)
    if not functions:
        return QueuePage([], page, False, 0)
    with _one_snapshot():
        return _page(user, functions, now=now, page=page, page_size=page_size)


def _page(user, functions: frozenset[str], *, now: dt.datetime, page: int, page_size: int) -> QueuePage:
    asking = _asking(functions)
    candidates = _candidates(user, functions, asking)
    wanted = page * page_size + 1  # one more than needed tells whether a next page exists
    awaited: list[QueueItem] = []
    after: GateReview | None = None
    while len(awaited) < wanted:
        chunk_query = candidates.select_related("initiative", "policy")
        if after is not None:
            chunk_query = chunk_query.filter(
                Q(opened_at__gt=after.opened_at) | Q(opened_at=after.opened_at, pk__gt=after.pk)
            )
        size = max(wanted - len(awaited), MIN_CHUNK)
        chunk = list(chunk_query[:size])
        if not chunk:
            break
        after = chunk[-1]
        awaited.extend(_awaited(user, functions, chunk, now=now))
        if len(chunk) < size:
            break
    items = awaited[(page - 1) * page_size : page * page_size]
    # The candidates evaluated are counted by their checklists; those beyond the last one read
    # are counted by the database. One query either way, so the page's queries stay fixed.
    rest = _awaiting(user, functions, asking, candidates, now=now)
    if after is not None:
        rest = rest.filter(Q(opened_at__gt=after.opened_at) | Q(opened_at=after.opened_at, pk__gt=after.pk))
    listed = len(awaited) + rest[: max(COUNTED_UP_TO + 1 - len(awaited), 0)].count()
    return QueuePage(
        items,
        page,
        len(awaited) > page * page_size,
        min(listed, COUNTED_UP_TO),
        more_listed=listed > COUNTED_UP_TO,
        withheld=_withheld(user, functions, asking),
    )


def _awaiting(user, functions: frozenset[str], asking: _Asking, candidates, *, now: dt.datetime):
    """The candidates the checklist would list, told by the database: those asking one of the
    member's functions that has no approval counting yet (none, not approving, or expired) and
    that the member does not sign for another function. An approval gone stale since (the
    evidence changed) is seen only by the checklist; the queue evaluates every candidate it lists,
    so this only counts those beyond the page."""
    awaits = Q(pk__in=[])
    for function in functions:
        mine = SignOff.objects.filter(review=OuterRef("pk"), reviewer=user).exclude(function__code=function)
        approved = Q(pk__in=[])
        for days, policies in asking.validity.items():
            counting = SignOff.objects.filter(
                review=OuterRef("pk"),
                function__code=function,
                superseded_at__isnull=True,
                decision__in=APPROVING_DECISIONS,
                signed_at__gte=now - dt.timedelta(days=days),
            )
            approved |= Q(policy_id__in=policies) & Q(Exists(counting))
        awaits |= asking.by_function[function] & ~Q(Exists(mine)) & ~approved
    return candidates.filter(awaits)


def _awaited(
    user, functions: frozenset[str], chunk: list[GateReview], *, now: dt.datetime
) -> list[QueueItem]:
    """The chunk's reviews that still await one of the member's functions, with their checklists."""
    signed_for: dict[int, str] = {}  # superseded sign-offs included: one person, one function
    signed_now: set[int] = set()  # the member's active sign-offs: to be given again if listed
    for review_id, code, superseded_at in SignOff.objects.filter(review__in=chunk, reviewer=user).values_list(
        "review_id", "function__code", "superseded_at"
    ):
        signed_for[review_id] = code
        if superseded_at is None:
            signed_now.add(review_id)
    checklists = review_checklists(chunk, now=now)
    items = []
    for review in chunk:
        mine = tuple(
            f
            for f in required_functions(policy_rules(review.policy), review.initiative.risk_tier)
            if f in functions
        )
        if review.pk in signed_for:
            mine = tuple(f for f in mine if f == signed_for[review.pk])
        checklist = checklists.get(review.pk)
        if not mine or checklist is None:
            continue
        failing = {r.code for r in checklist.failing}
        functions_awaited = tuple(f for f in mine if f"signoff:{f}" in failing)
        if functions_awaited:
            items.append(
                QueueItem(
                    review=review,
                    functions=functions_awaited,
                    checklist=checklist,
                    age=now - review.opened_at,
                    sign_again=review.pk in signed_now,
                )
            )
    return items
