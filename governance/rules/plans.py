"""Pre-registered experiment plans at the gates: the split checked, the time box from power.

Pure functions over plain data, like the rest of the rules: the pilot gate asks whether the plan's
traffic can ever show the minimum effect that matters (projects/power.py), the scale gate whether
every look's arm sizes follow the planned split (projects/sample_ratio.py). They return codes with
parameters; the words are governance/reasons.py's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from governance.rules.reasons import Reason
from projects.power import MeanPlan, PilotDuration, ProportionPlan, pilot_duration
from projects.sample_ratio import PlannedSplit, SampleRatioResult, sample_ratio_check
from projects.sequential import tau_for_claimed_effect
from projects.vocabulary import Direction, Metric

# The chance a pilot must have of showing its minimum effect, if it is real, by its last look:
# the usual 80% of power analysis (docs/statistics.md). Not a policy field yet.
PILOT_POWER = 0.8


@dataclass(frozen=True)
class PlanFacts:
    """A KPI's registered experiment plan, as the gate facts pin it."""

    metric: str
    minimum_effect: Decimal  # in the KPI's unit, positive: the improvement that matters
    treatment_share: Decimal
    planned_looks: int
    traffic_per_month: int
    standard_deviation: Decimal | None = None  # of one unit's value, for a mean KPI
    # The control arm's expected level in the experiment's own terms (a rate, a mean) when the
    # experiment does not record the KPI itself, e.g. "share of tickets waiting over 30 minutes"
    # for a KPI in minutes; None: the KPI's baseline (a rate KPI in percent is read over 100).
    baseline: Decimal | None = None
    version: int = 1
    changed_after_data: bool = False
    change_reason: str = ""

    @property
    def split(self) -> PlannedSplit:
        """Control first, then treatment: the order of an experiment's arm sizes."""
        return PlannedSplit.control_treatment(float(self.treatment_share))


def _rate_scale(unit: str) -> float:
    """A rate KPI kept in percent (unit "%", baseline 10 for 10%) is a proportion over 100."""
    return 100.0 if unit.strip() == "%" else 1.0


class PlanCannotBePowered(ValueError):
    """A plan lacks a figure the power calculation needs; `reason` says which, as a code."""

    def __init__(self, code: str):
        self.reason = Reason.of(code)
        super().__init__(code)


def problem_of(error: ValueError) -> Reason | str:
    """Why figures cannot be used: a reason in the reader's words when the rules know it, else the
    statistics' own (English) message."""
    return error.reason if isinstance(error, PlanCannotBePowered) else str(error)


def power_plan(
    plan: PlanFacts, *, baseline: Decimal | None, direction: str, unit: str
) -> ProportionPlan | MeanPlan:
    """The plan as the power calculation reads it; ValueError when its figures cannot be powered
    (a rate KPI whose baseline is not a rate, a mean KPI without a standard deviation)."""
    if plan.baseline is not None:
        baseline, unit = plan.baseline, ""
    if baseline is None:
        raise PlanCannotBePowered("plan.no_baseline")
    sign = -1.0 if direction == Direction.DECREASE else 1.0
    if plan.metric == Metric.MEAN:
        if plan.standard_deviation is None:
            raise PlanCannotBePowered("plan.no_standard_deviation")
        return MeanPlan(
            float(baseline),
            float(plan.standard_deviation),
            sign * float(plan.minimum_effect),
            plan.traffic_per_month,
            float(plan.treatment_share),
        )
    scale = _rate_scale(unit)
    return ProportionPlan(
        float(baseline) / scale,
        sign * float(plan.minimum_effect) / scale,
        plan.traffic_per_month,
        float(plan.treatment_share),
    )


def plan_duration(
    plan: PlanFacts,
    *,
    baseline: Decimal | None,
    target: Decimal | None,
    direction: str,
    unit: str,
    alpha: float,
    power: float = PILOT_POWER,
) -> PilotDuration:
    """Months of monthly looks the plan needs, with τ tuned as the scale gate will tune it: to the
    effect the KPI's target claims (governance/rules/gates.py, `_tau`)."""
    pilot = power_plan(plan, baseline=baseline, direction=direction, unit=unit)
    tau = None
    # The scale gate tunes τ to the KPI's claimed relative change, applied to the control level.
    if target is not None and baseline is not None and target != baseline:
        level = pilot.baseline_rate if isinstance(pilot, ProportionPlan) else abs(pilot.baseline_mean) or 1.0
        tau = tau_for_claimed_effect(
            baseline=float(baseline), target=float(target), control_level=level or 0.01
        )
    return pilot_duration(pilot, alpha=alpha, power=power, tau=tau)


def duration_reason(
    kpi: str, unit: str, plan: PlanFacts, duration: PilotDuration, *, today: dt.date
) -> Reason:
    """How long the pilot must run for `kpi`, or that it never can."""
    figures = duration.reason_params()
    effect = format(plan.minimum_effect.normalize(), "f")
    if not duration.reachable:
        return Reason.of(
            "pilot.cannot_show_effect",
            kpi=kpi,
            effect=effect,
            unit=unit,
            traffic=plan.traffic_per_month,
            max_months=figures["max_months"],
            power=figures["power"],
            power_reached=figures["power_reached"],
        )
    deadline = duration.deadline(today)
    return Reason.of(
        "pilot.duration",
        kpi=kpi,
        effect=effect,
        unit=unit,
        traffic=plan.traffic_per_month,
        months=figures["months"],
        power=figures["power"],
        alpha=figures["alpha"],
        deadline=f"{deadline:%Y-%m-%d}" if deadline else "",
    )


def split_check(plan: PlanFacts, arm_sizes: tuple[tuple[int, int], ...]) -> SampleRatioResult:
    """The sequential sample-ratio check of an experiment's cumulative (control, treatment) looks."""
    return sample_ratio_check(arm_sizes, plan.split)


def split_reason(experiment: str, kpi: str, result: SampleRatioResult) -> Reason:
    figures = result.reason_params()
    observed = figures["observed"]
    planned = figures["planned"]
    return Reason.of(
        result.reason_code,
        experiment=experiment,
        kpi=kpi,
        observed=" / ".join(observed) if isinstance(observed, tuple) else str(observed),
        planned=" / ".join(planned) if isinstance(planned, tuple) else str(planned),
        p=str(figures["p"]),
        alpha=str(figures["alpha"]),
        looks=result.looks,
    )
