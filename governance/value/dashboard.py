"""The portfolio dashboard: where the money goes, what it returns, and what waits too long."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from governance.access.matrix import principal
from governance.access.selectors import of_visible_initiatives
from governance.reviews.models import GatePolicy, GateReview, SignOff
from projects.models import KPI, Initiative, InitiativeFigures
from projects.money import default_currency
from projects.vocabulary import ReviewStatus, Stage

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

LIST_LENGTH = 10
# The stages whose money and KPIs the committee watches: the initiatives spending and measuring.
WATCHED_STAGES = (Stage.PILOT, Stage.SCALE)
ZERO = Decimal(0)


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


def portfolio_dashboard(viewer, *, now: dt.datetime) -> Dashboard:
    """The dashboard over what `viewer` may see: a lead's own initiatives, the committee's all.

    Nine queries whatever the number of initiatives, KPIs, measurements and reviews. The money,
    the counts by stage and the KPIs missing their target come from the running figures the
    database keeps (`InitiativeFigures`, `LatestMeasurement`): one narrow row per initiative,
    never the portfolio's financial entries and measurements themselves.
    """
    today = now.date()
    viewer = principal(viewer)  # its roles read once
    initiatives = of_visible_initiatives(viewer, Initiative.objects.all())
    figures = of_visible_initiatives(viewer, InitiativeFigures.objects.all(), initiative="initiative")
    by_stage: dict[str, StageMoney] = {}
    currencies: set[str] = set()
    kpis_missing_target_total = 0
    labels = dict(Stage.choices)
    for row in (
        figures.order_by()
        .values("stage", "currency")
        .annotate(
            n=Count("pk"),
            budget=Sum("budget"),
            cost=Sum("cost"),
            benefit=Sum("benefit"),
            missing=Sum("kpis_missing_target"),
        )
    ):
        stage = row["stage"]
        before = by_stage.get(stage) or StageMoney(stage, labels[stage], 0, ZERO, ZERO, ZERO)
        by_stage[stage] = StageMoney(
            stage=stage,
            label=before.label,
            initiatives=before.initiatives + row["n"],
            budget=before.budget + row["budget"],
            cost=before.cost + row["cost"],
            benefit=before.benefit + row["benefit"],
        )
        if row["currency"] is not None:  # NULL: no business case yet
            currencies.add(row["currency"] or default_currency())
        if stage in WATCHED_STAGES:
            kpis_missing_target_total += row["missing"]
    stages = tuple(
        by_stage.get(stage) or StageMoney(stage, label, 0, ZERO, ZERO, ZERO) for stage, label in Stage.choices
    )

    top_investments = tuple(
        initiatives.filter(figures__stage__in=WATCHED_STAGES, figures__cost__gt=0)
        .annotate(cost=F("figures__cost"), benefit=F("figures__benefit"))
        # Ties broken by the index's second column, so the list is read from its top.
        .order_by("-figures__cost", "-figures__initiative_id")[:LIST_LENGTH]
    )

    overdue = initiatives.filter(stage=Stage.PILOT, pilot_deadline__lt=today)
    overdue_pilots = tuple(overdue.select_related("owner").order_by("pilot_deadline", "id")[:LIST_LENGTH])

    # The misses, the oldest latest period first, from the index that holds only them.
    kpis_missing_target = tuple(
        of_visible_initiatives(viewer, KPI.objects.all(), initiative="initiative")
        .filter(latest__misses_target=True, initiative__stage__in=WATCHED_STAGES)
        .annotate(latest_value=F("latest__value"), latest_period=F("latest__period"))
        .select_related("initiative")
        .order_by("latest__period", "latest__kpi_id")[:LIST_LENGTH]
    )

    # Only the reviews shown are read as rows: the totals are counted by the database, so that
    # thousands of open reviews cost two short lists and one count, not thousands of objects.
    open_reviews = of_visible_initiatives(
        viewer, GateReview.objects.filter(status=ReviewStatus.OPEN), initiative="initiative"
    )
    # Every policy version (a few dozen rows), not only those of open reviews: finding those would
    # read every open review.
    escalation_days = dict(GatePolicy.objects.values_list("pk", "escalation_days"))
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
        kpis_missing_target_total=kpis_missing_target_total,
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
