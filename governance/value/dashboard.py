"""The portfolio dashboard: where the money goes, what it returns, and what waits too long."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from governance.reviews.models import GatePolicy, GateReview, SignOff
from projects.models import KPI, BusinessCase, FinancialEntry, Initiative, KPIMeasurement
from projects.money import default_currency
from projects.vocabulary import MISSES_TARGET_LOOKUP, EntryKind, ReviewStatus, Stage

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

LIST_LENGTH = 10
ZERO = Decimal(0)
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)


class InvestmentFigures(TypedDict):
    cost: Decimal
    benefit: Decimal


@dataclass(frozen=True)
class StageMoney:
    stage: str
    label: str
    initiatives: int
    budget: Decimal
    cost: Decimal
    benefit: Decimal


@dataclass(frozen=True)
class WaitingReview:
    review: GateReview
    waiting: dt.timedelta
    escalation_days: int
    active_signoffs: int

    @property
    def overdue(self) -> bool:
        return self.waiting > dt.timedelta(days=self.escalation_days)

    @property
    def waiting_days(self) -> int:
        return self.waiting.days


@dataclass(frozen=True)
class Dashboard:
    stages: tuple[StageMoney, ...]
    top_investments: tuple[WithAnnotations[Initiative, InvestmentFigures], ...]
    overdue_pilots: tuple[Initiative, ...]
    overdue_pilots_total: int
    kpis_missing_target: tuple[KPI, ...]  # annotated with latest_value and latest_period
    kpis_missing_target_total: int
    waiting_reviews: tuple[WaitingReview, ...]
    escalations: tuple[WaitingReview, ...]
    escalations_total: int
    open_reviews_total: int
    totals: dict = field(default_factory=dict)
    # The currencies of the business cases shown (the deployment's for a case that names none):
    # totals are in the one currency when there is one; amounts in several are added as they are.
    currencies: tuple[str, ...] = ()

    @property
    def currency(self) -> str:
        return self.currencies[0] if len(self.currencies) == 1 else default_currency()


def portfolio_dashboard(initiatives: QuerySet[Initiative], *, now: dt.datetime) -> Dashboard:
    """The dashboard over `initiatives` (what the viewer may see).

    Twelve queries whatever the number of initiatives, KPIs, measurements and reviews.
    """
    today = now.date()
    counts = dict(initiatives.order_by().values_list("stage").annotate(n=Count("id")))
    budgets: dict[str, Decimal] = {}
    currencies: set[str] = set()
    for stage, currency, budget in (
        BusinessCase.objects.filter(initiative__in=initiatives)
        .order_by()
        .values_list("initiative__stage", "currency")
        .annotate(total=Sum("budget"))
    ):
        budgets[stage] = budgets.get(stage, ZERO) + budget
        currencies.add(currency or default_currency())
    money: dict[tuple[str, str], Decimal] = {
        (stage, kind): total
        for stage, kind, total in FinancialEntry.objects.filter(initiative__in=initiatives)
        .order_by()
        .values_list("initiative__stage", "kind")
        .annotate(total=Sum("amount"))
    }
    stages = tuple(
        StageMoney(
            stage=stage,
            label=label,
            initiatives=counts.get(stage, 0),
            budget=budgets.get(stage) or ZERO,
            cost=money.get((stage, EntryKind.COST)) or ZERO,
            benefit=money.get((stage, EntryKind.BENEFIT)) or ZERO,
        )
        for stage, label in Stage.choices
    )

    def total(kind: str) -> Coalesce:
        return Coalesce(
            Sum("financial_entries__amount", filter=Q(financial_entries__kind=kind)),
            Value(ZERO),
            output_field=MONEY,
        )

    top_investments = tuple(
        initiatives.filter(stage__in=[Stage.PILOT, Stage.SCALE])
        .annotate(cost=total(EntryKind.COST), benefit=total(EntryKind.BENEFIT))
        .filter(cost__gt=0)
        .order_by("-cost", "id")[:LIST_LENGTH]
    )

    overdue = initiatives.filter(stage=Stage.PILOT, pilot_deadline__lt=today)
    overdue_pilots = tuple(overdue.select_related("owner").order_by("pilot_deadline", "id")[:LIST_LENGTH])

    latest = KPIMeasurement.objects.filter(kpi=OuterRef("pk")).order_by("-period")
    missing = (
        KPI.objects.filter(
            initiative__in=initiatives.filter(stage__in=[Stage.PILOT, Stage.SCALE]), is_primary=True
        )
        .annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_period=Subquery(latest.values("period")[:1]),
        )
        .filter(
            reduce(
                operator.or_,
                (
                    Q(direction=direction, **{f"latest_value__{lookup}": F("target")})
                    for direction, lookup in MISSES_TARGET_LOOKUP.items()
                ),
            )
        )
    )
    kpis_missing_target = tuple(
        missing.select_related("initiative").order_by("latest_period", "id")[:LIST_LENGTH]
    )

    # Only the reviews shown are read as rows: the totals are counted by the database, so that
    # thousands of open reviews cost two short lists and one count, not thousands of objects.
    open_reviews = GateReview.objects.filter(status=ReviewStatus.OPEN, initiative__in=initiatives)
    escalation_days = dict(
        GatePolicy.objects.filter(pk__in=open_reviews.values("policy_id")).values_list(
            "pk", "escalation_days"
        )
    )
    past_escalation = Q()
    for policy_id, days in escalation_days.items():
        past_escalation |= Q(policy_id=policy_id, opened_at__lt=now - dt.timedelta(days=days))
    # No open review, no policy to escalate by: an empty filter would count every row.
    totals = open_reviews.aggregate(
        open=Count("id"), overdue=Count("id", filter=past_escalation if escalation_days else Q(pk__in=[]))
    )
    # A correlated count, so that only the listed rows are counted (a join and GROUP BY would
    # count the sign-offs of every open review before the list is cut).
    active = (
        SignOff.objects.filter(review=OuterRef("pk"), superseded_at__isnull=True)
        .order_by()
        .values("review")
        .annotate(n=Count("id"))
        .values("n")
    )
    listed = (
        open_reviews.select_related("initiative", "policy")
        .annotate(active_signoffs=Coalesce(Subquery(active), Value(0)))
        .order_by("opened_at", "id")
    )

    def waiting(reviews) -> tuple[WaitingReview, ...]:
        return tuple(
            WaitingReview(
                review=review,
                waiting=now - review.opened_at,
                escalation_days=review.policy.escalation_days,
                active_signoffs=review.active_signoffs,
            )
            for review in reviews[:LIST_LENGTH]
        )

    waiting_reviews = waiting(listed)
    escalations = waiting(listed.filter(past_escalation)) if escalation_days else ()
    return Dashboard(
        stages=stages,
        top_investments=top_investments,
        overdue_pilots=overdue_pilots,
        overdue_pilots_total=overdue.count(),
        kpis_missing_target=kpis_missing_target,
        kpis_missing_target_total=missing.count(),
        waiting_reviews=waiting_reviews,
        escalations=escalations,
        escalations_total=totals["overdue"],
        open_reviews_total=totals["open"],
        totals={
            "initiatives": sum(s.initiatives for s in stages),
            "budget": sum((s.budget for s in stages), ZERO),
            "cost": sum((s.cost for s in stages), ZERO),
            "benefit": sum((s.benefit for s in stages), ZERO),
        },
        currencies=tuple(sorted(currencies)),
    )
