"""Pre-registered experiment plans: what a pilot's experiment must show, pinned before its data.

A lead registers a KPI's plan (minimum effect, split, looks, traffic) before its experiment starts;
the ledger pins it, the sign-offs' digests cover it, and the gates read it: the pilot gate asks
whether the traffic can ever show the effect, the scale gate whether the arms hold the planned
split. Before the first look a new registration replaces the plan; after it, a change needs a
reason and stays visible as a change after data arrived.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.access import roles
from governance.access.checks import lock_live_initiative_for
from governance.access.matrix import Operation
from governance.errors import InvalidInput
from governance.ledger.chain import ledger_append
from governance.ledger.events import EXPERIMENT_PLAN_CHANGED, EXPERIMENT_PLAN_REGISTERED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notify
from governance.reasons import say
from governance.reviews.models import ReviewStatus, SignOff
from governance.rules.plans import PlanFacts, power_plan, problem_of
from governance.rules.reasons import Reason
from projects.models import KPI, KPI_DECIMAL_PLACES, Experiment, ExperimentLook, ExperimentPlan
from projects.values import parse_decimal
from projects.vocabulary import Metric

# The figures a plan consists of, as the ledger pins them.
PLAN_FIGURES = (
    "metric",
    "baseline",
    "minimum_effect",
    "treatment_share",
    "planned_looks",
    "traffic_per_month",
    "standard_deviation",
    "notes",
)
# Ten years of monthly looks, as far as the time box's calculation goes (projects/power.py).
MAX_PLANNED_LOOKS = 120
_EFFECT_PLACES = Decimal(1).scaleb(-KPI_DECIMAL_PLACES)


@dataclass(frozen=True)
class PlanInput:
    """A plan as a person or a pipeline sends it; checked by `experiment_plan_register`.

    The minimum effect is given either absolute, in the KPI's unit (`minimum_effect`), or as a
    lift relative to the KPI's baseline (`relative_lift`, 0.3 for +30%), converted here.
    """

    treatment_share: object
    planned_looks: object
    traffic_per_month: object
    minimum_effect: object = None
    relative_lift: object = None
    metric: str = Metric.PROPORTION
    standard_deviation: object = None
    baseline: object = None  # the control arm's level in the experiment's terms; None: the KPI's
    notes: str = ""


def _whole(value: object, what: str, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        if high:
            # Translators: %(field)s names a field, e.g. "Planned looks"; low and high are numbers.
            message = _("%(field)s must be a whole number from %(low)s to %(high)s.")
        else:
            # Translators: %(field)s names a field, e.g. "Traffic per month"; low is a number.
            message = _("%(field)s must be a whole number of at least %(low)s.")
        raise InvalidInput(message % {"field": what, "low": low, "high": high})
    return value


def _positive(raw: object, what: str, **places) -> Decimal:
    try:
        value = parse_decimal(raw, what=what, **places)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if value <= 0:
        # Translators: %(field)s names a field, e.g. "Minimum effect".
        raise InvalidInput(_("%(field)s must be a positive number.") % {"field": what})
    return value


def _minimum_effect(baseline: Decimal, given: PlanInput) -> Decimal:
    if (given.minimum_effect is None) == (given.relative_lift is None):
        raise InvalidInput(
            _(
                "Give the minimum effect either in the KPI's unit or as a lift relative to its baseline, not both."
            )
        )
    if given.minimum_effect is not None:
        return _positive(given.minimum_effect, _("Minimum effect"))
    lift = _positive(given.relative_lift, _("Relative lift"), max_digits=12, decimal_places=6)
    if baseline == 0:
        raise InvalidInput(_("The baseline is zero: give the minimum effect in its unit instead."))
    effect = (abs(baseline) * lift).quantize(_EFFECT_PLACES, rounding=ROUND_HALF_EVEN)
    if effect <= 0:
        raise InvalidInput(_("That lift is too small to be recorded in the KPI's unit."))
    return effect


def _checked(kpi: KPI, given: PlanInput) -> dict:
    """The plan's figures, each checked, ready to save; InvalidInput names the first bad one."""
    if given.metric not in Metric.values:
        raise InvalidInput(_("Metric must be one of %(values)s.") % {"values": ", ".join(Metric.values)})
    share = _positive(given.treatment_share, _("Treatment share"), max_digits=5, decimal_places=4)
    if share >= 1:
        raise InvalidInput(
            _("The treatment share is a fraction of the units strictly between 0 and 1, e.g. 0.5 for 50/50.")
        )
    baseline = None
    if given.baseline not in (None, ""):
        try:
            baseline = parse_decimal(given.baseline, what=_("Baseline"))
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    figures: dict[str, Any] = {
        "metric": given.metric,
        "baseline": baseline,
        "minimum_effect": _minimum_effect(kpi.baseline if baseline is None else baseline, given),
        "treatment_share": share,
        "planned_looks": _whole(given.planned_looks, _("Planned looks"), low=1, high=MAX_PLANNED_LOOKS),
        "traffic_per_month": _whole(given.traffic_per_month, _("Traffic per month"), low=1),
        "standard_deviation": None,
        "notes": (given.notes or "").strip(),
    }
    if given.metric == Metric.MEAN:
        if given.standard_deviation in (None, ""):
            raise InvalidInput(_("A plan for a mean KPI needs the standard deviation of one unit's value."))
        figures["standard_deviation"] = _positive(given.standard_deviation, _("Standard deviation"))
    elif given.standard_deviation not in (None, ""):
        raise InvalidInput(_("A standard deviation belongs to a plan for a mean KPI only."))
    try:
        # The figures the gates will power: refused now rather than at the gate.
        power_plan(
            PlanFacts(**{k: v for k, v in figures.items() if k != "notes"}),
            baseline=kpi.baseline,
            direction=kpi.direction,
            unit=kpi.unit,
        )
    except ValueError as error:
        problem = problem_of(error)
        # Translators: %(problem)s says why (in English when it comes from the statistics).
        message = _("These figures cannot be powered: %(problem)s")
        raise InvalidInput(
            message % {"problem": say(problem) if isinstance(problem, Reason) else problem}
        ) from None
    other = (
        Experiment.objects.filter(kpi=kpi).exclude(metric=given.metric).values_list("name", flat=True).first()
    )
    if other is not None:
        raise InvalidInput(
            # Translators: %(experiment)s is an experiment's name; %(metric)s a metric code.
            _(
                "The experiment “%(experiment)s” on this KPI does not record a %(metric)s; the plan must match it."
            )
            % {"experiment": other, "metric": given.metric}
        )
    return figures


def _looks_so_far(kpi: KPI) -> int:
    """Looks recorded on the KPI's experiments (an experiment kept without looks counts as one)."""
    looks = ExperimentLook.objects.filter(experiment__kpi=kpi).count()
    return looks or Experiment.objects.filter(kpi=kpi).count()


def _pinned(plan: ExperimentPlan) -> dict:
    return {name: getattr(plan, name) for name in PLAN_FIGURES}


def _tell_of_a_change_after_data(initiative, kpi: KPI, plan: ExperimentPlan, actor) -> None:
    """The chair and whoever signed an open review of the initiative hear of a plan changed after
    its data arrived: their approvals are stale, and the scale gate may refuse a Go on it."""
    signers = get_user_model().objects.filter(
        pk__in=SignOff.objects.filter(review__initiative=initiative, review__status=ReviewStatus.OPEN).values(
            "reviewer_id"
        ),
        is_active=True,
    )
    recipients = [u for u in [*members_of([roles.COMMITTEE_CHAIR]), *signers] if u.pk != actor.pk]
    notify(
        recipients=recipients,
        event_key=f"experiment-plan-{plan.pk}-v{plan.version}-changed",
        event=NotificationEvent.EXPERIMENT_PLAN_CHANGED,
        initiative=initiative,
        subject=lambda: (
            _("[ValueGate] %(title)s: experiment plan for %(kpi)s changed after data arrived")
            % {"title": initiative.title, "kpi": kpi.name}
        ),
        body=lambda: (
            _(
                "%(who)s changed the plan (version %(version)s) after %(looks)s look(s) of data. Reason: %(reason)s"
            )
            % {
                "who": actor.get_username(),
                "version": plan.version,
                "looks": _looks_so_far(kpi),
                "reason": plan.change_reason,
            }
        ),
        to_do=lambda: _("Review the change before signing again: approvals given before it no longer count."),
    )


@transaction.atomic
def experiment_plan_register(
    *, actor, kpi: KPI, plan: PlanInput, reason: str = "", now: dt.datetime | None = None
) -> ExperimentPlan:
    """Register `kpi`'s experiment plan, or replace it.

    Before the first look a registration replaces the plan (ledger: experiment_plan.registered,
    with the plan it replaces). Once data has arrived, a change — or a first registration made
    late — needs `reason` and is kept as a change after data arrived (ledger:
    experiment_plan.changed, before and after): the checklist shows it, the signers' snapshots
    pin it, and a policy can refuse a Go on it. Approvals signed before it become stale.
    """
    now = now or timezone.now()
    initiative = lock_live_initiative_for(
        actor,
        kpi.initiative_id,
        operation=Operation.RECORD_EXPERIMENT,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "register its experiment plans"),
    )
    kpi = KPI.objects.get(pk=kpi.pk)
    if not kpi.is_primary:
        raise InvalidInput(_("An experiment plan is registered for a primary KPI."))
    figures = _checked(kpi, plan)
    existing = ExperimentPlan.objects.select_for_update(of=("self",)).filter(kpi=kpi).first()
    before = _pinned(existing) if existing is not None else None
    if before is not None and before == figures:
        raise InvalidInput(_("This is the plan already registered; nothing changed."))
    looks = _looks_so_far(kpi)
    reason = (reason or "").strip()
    if looks and not reason:
        raise InvalidInput(
            _("Data has already arrived for this KPI's experiments: a change of plan needs a reason.")
        )
    if existing is None:
        saved = ExperimentPlan(kpi=kpi, version=1)
    else:
        saved = existing
        saved.version += 1
    for name, value in figures.items():
        setattr(saved, name, value)
    saved.registered_by = actor
    saved.registered_at = now
    if looks:
        saved.changed_after_data = True
        saved.change_reason = reason
    saved.full_clean(exclude=["kpi", "registered_by"])
    saved.save()
    if looks:
        ledger_append(
            actor=actor,
            action=EXPERIMENT_PLAN_CHANGED,
            initiative=initiative,
            payload={
                "plan": saved.pk,
                "kpi": kpi.pk,
                "version": saved.version,
                "before": before,
                "after": figures,
                "reason": reason,
                "looks": looks,
            },
        )
        _tell_of_a_change_after_data(initiative, kpi, saved, actor)
    else:
        ledger_append(
            actor=actor,
            action=EXPERIMENT_PLAN_REGISTERED,
            initiative=initiative,
            payload={
                "plan": saved.pk,
                "kpi": kpi.pk,
                "version": saved.version,
                "registered": figures,
                "replaces": before,
            },
        )
    return saved
