"""Power and the time box: how many monthly looks a pilot needs to show its minimum effect.

Why: a pilot's time box should follow from its plan, not from habit. With too little traffic a
pilot cannot show the effect that matters however long it runs, and the committee should know
that before it starts, not after nine months of "not significant yet".

Method, for the difference θ = treatment − control at the minimum effect δ that matters, with
one cumulative look at the end of every month:
- at month m the estimate θ̂ is approximately normal with mean δ and variance V/m, where V is the
  variance of one month's estimate under the alternative (p(1 − p)/n per arm for a rate, σ²/n per
  arm for a mean, n the units a month that the planned share sends to the arm);
- the always-valid test (projects/sequential.py) shows an improvement at look m when the look's
  confidence set lies on the improving side of zero: |θ̂| > h(V/m), where h is that module's
  normal-mixture half-width, h(v) = sqrt( v (v + τ²)/τ² · (2 ln(1/α) + ln((v + τ²)/v)) ), with
  the mixture scale τ chosen as the gate chooses it (tau_for_claimed_effect);
- so the power at look m is Φ((|δ| − h(V/m)) / sqrt(V/m)), and 0 at a look without enough data
  (projects/statistics.py's minimum sample, at the expected counts);
- the months are the smallest m whose power *at look m* reaches the target. This is
  conservative: the test's p-value is a running minimum and its interval a running
  intersection, so the looks before m can only add to the chance of a Go by month m.

The fixed-horizon months (one look, decided in advance, at the policy's α) are given beside it
for comparison: they are what a classical power calculation would say, and the price of being
able to look every month is the difference.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

# The mixture boundary is the sequential test's own (one formula, one place): if the test
# changes, the time box follows.
from projects.sequential import _half_width, tau_for_claimed_effect
from projects.statistics import means_have_enough_data, proportions_have_enough_data

_STANDARD_NORMAL = NormalDist()

# Ten years of monthly looks: a pilot that needs longer cannot show its effect in any time box a
# committee would grant.
MAX_PILOT_MONTHS = 120

REACHABLE = "pilot.duration"
UNREACHABLE = "pilot.cannot_show_effect"


class PilotPlan(Protocol):
    """What the power calculation needs of a plan, whatever the metric."""

    @property
    def minimum_effect(self) -> float: ...

    @property
    def units_per_month(self) -> float: ...

    def variance_at(self, months: int) -> float:
        """Variance of the estimated difference at look `months`, under the alternative."""
        ...

    def null_standard_error_at(self, months: int) -> float:
        """Standard error the fixed-horizon test's p-value uses at look `months`."""
        ...

    def has_enough_data_at(self, months: int) -> bool: ...

    def default_tau(self) -> float: ...


def _check_arm_plan(*, minimum_effect: float, units_per_month: float, treatment_share: float) -> None:
    if not math.isfinite(minimum_effect) or minimum_effect == 0:
        raise ValueError("The minimum effect that matters must be a nonzero number.")
    if not math.isfinite(units_per_month) or units_per_month <= 0:
        raise ValueError("Planned traffic must be a positive number of units a month.")
    if not 0 < treatment_share < 1:
        raise ValueError("The treatment arm's planned share must lie strictly between 0 and 1.")


@dataclass(frozen=True)
class ProportionPlan:
    """A pilot whose primary KPI is a rate (conversion, click-through, resolution)."""

    baseline_rate: float  # the control arm's expected rate: the KPI's baseline
    minimum_effect: float  # treatment rate − control rate that matters; negative for a KPI to lower
    units_per_month: float  # units entering the experiment a month, all arms together
    treatment_share: float = 0.5

    def __post_init__(self) -> None:
        _check_arm_plan(
            minimum_effect=self.minimum_effect,
            units_per_month=self.units_per_month,
            treatment_share=self.treatment_share,
        )
        if not 0 < self.baseline_rate < 1:
            raise ValueError("The baseline rate must lie strictly between 0 and 1.")
        if not 0 < self.treatment_rate < 1:
            raise ValueError(
                f"A baseline of {self.baseline_rate:g} and an effect of {self.minimum_effect:+g} give a "
                f"treatment rate of {self.treatment_rate:g}, outside 0 to 1."
            )

    @classmethod
    def from_relative_lift(
        cls,
        *,
        baseline_rate: float,
        relative_lift: float,
        units_per_month: float,
        treatment_share: float = 0.5,
    ) -> ProportionPlan:
        """A plan whose effect is stated as a business case states it: +30% on the baseline."""
        return cls(baseline_rate, baseline_rate * relative_lift, units_per_month, treatment_share)

    @property
    def treatment_rate(self) -> float:
        return self.baseline_rate + self.minimum_effect

    def _arm_units(self, months: int) -> tuple[float, float]:
        total = months * self.units_per_month
        return total * (1 - self.treatment_share), total * self.treatment_share

    def variance_at(self, months: int) -> float:
        control, treatment = self._arm_units(months)
        p_c, p_t = self.baseline_rate, self.treatment_rate
        return p_c * (1 - p_c) / control + p_t * (1 - p_t) / treatment

    def null_standard_error_at(self, months: int) -> float:
        # The two-proportion test's p-value pools the arms (projects/statistics.py).
        control, treatment = self._arm_units(months)
        pooled = (1 - self.treatment_share) * self.baseline_rate + self.treatment_share * self.treatment_rate
        return math.sqrt(pooled * (1 - pooled) * (1 / control + 1 / treatment))

    def has_enough_data_at(self, months: int) -> bool:
        # At the expected counts, rounded down: the plan cannot promise a fraction of a unit.
        control, treatment = self._arm_units(months)
        return proportions_have_enough_data(
            control_size=math.floor(control),
            control_successes=math.floor(control * self.baseline_rate),
            treatment_size=math.floor(treatment),
            treatment_successes=math.floor(treatment * self.treatment_rate),
        )

    def default_tau(self) -> float:
        """τ as the gate sets it when the KPI's target is the baseline plus the minimum effect."""
        return tau_for_claimed_effect(
            baseline=self.baseline_rate, target=self.treatment_rate, control_level=self.baseline_rate
        )


@dataclass(frozen=True)
class MeanPlan:
    """A pilot whose primary KPI is a mean (handling time, basket value), equal spread in both arms."""

    baseline_mean: float
    standard_deviation: float  # of one unit's value
    minimum_effect: float  # treatment mean − control mean that matters; negative for a KPI to lower
    units_per_month: float
    treatment_share: float = 0.5

    def __post_init__(self) -> None:
        _check_arm_plan(
            minimum_effect=self.minimum_effect,
            units_per_month=self.units_per_month,
            treatment_share=self.treatment_share,
        )
        if not math.isfinite(self.baseline_mean):
            raise ValueError("The baseline mean must be a finite number.")
        if not math.isfinite(self.standard_deviation) or self.standard_deviation <= 0:
            raise ValueError("The standard deviation must be a positive number.")

    @classmethod
    def from_relative_lift(
        cls,
        *,
        baseline_mean: float,
        standard_deviation: float,
        relative_lift: float,
        units_per_month: float,
        treatment_share: float = 0.5,
    ) -> MeanPlan:
        return cls(
            baseline_mean, standard_deviation, baseline_mean * relative_lift, units_per_month, treatment_share
        )

    def _arm_units(self, months: int) -> tuple[float, float]:
        total = months * self.units_per_month
        return total * (1 - self.treatment_share), total * self.treatment_share

    def variance_at(self, months: int) -> float:
        control, treatment = self._arm_units(months)
        return self.standard_deviation**2 * (1 / control + 1 / treatment)

    def null_standard_error_at(self, months: int) -> float:
        return math.sqrt(self.variance_at(months))  # Welch's z-test: no pooling

    def has_enough_data_at(self, months: int) -> bool:
        control, treatment = self._arm_units(months)
        return means_have_enough_data(control_size=math.floor(control), treatment_size=math.floor(treatment))

    def default_tau(self) -> float:
        # The gate scales a mean KPI's claimed relative change by the control mean, or by 1 at 0.
        return tau_for_claimed_effect(
            baseline=self.baseline_mean,
            target=self.baseline_mean + self.minimum_effect,
            control_level=abs(self.baseline_mean) or 1.0,
        )


def _check_levels(*, alpha: float, power: float | None = None) -> None:
    if not 0 < alpha < 1:
        raise ValueError("Alpha must lie strictly between 0 and 1.")
    if power is not None and not 0 < power < 1:
        raise ValueError("The required power must lie strictly between 0 and 1.")


def always_valid_power(plan: PilotPlan, *, months: int, alpha: float, tau: float) -> float:
    """Chance that the always-valid test's own look at month `months` shows the minimum effect."""
    _check_levels(alpha=alpha)
    if months < 1:
        raise ValueError("A look comes after at least one month.")
    if tau <= 0 or not math.isfinite(tau):
        raise ValueError("The mixture scale τ must be a positive number.")
    if not plan.has_enough_data_at(months):
        return 0.0
    variance = plan.variance_at(months)
    half_width = _half_width(variance, tau, alpha)
    return _STANDARD_NORMAL.cdf((abs(plan.minimum_effect) - half_width) / math.sqrt(variance))


def fixed_horizon_power(plan: PilotPlan, *, months: int, alpha: float) -> float:
    """Chance that the fixed-horizon test, run once at month `months`, shows the minimum effect.

    A Go needs both p < α (two-sided) and the whole 1 − α interval on the improving side, so the
    estimate must clear the larger of the two standard errors times the critical value.
    """
    _check_levels(alpha=alpha)
    if months < 1:
        raise ValueError("A look comes after at least one month.")
    if not plan.has_enough_data_at(months):
        return 0.0
    standard_error = math.sqrt(plan.variance_at(months))
    critical = _STANDARD_NORMAL.inv_cdf(1 - alpha / 2)
    threshold = critical * max(standard_error, plan.null_standard_error_at(months))
    return _STANDARD_NORMAL.cdf((abs(plan.minimum_effect) - threshold) / standard_error)


@dataclass(frozen=True)
class PilotDuration:
    months: int | None  # always-valid, monthly looks; None: not within max_months
    power_at_months: float  # at look `months`, or at look max_months when the target is out of reach
    fixed_horizon_months: int | None  # one look decided in advance; None: not within max_months
    fixed_horizon_power: float  # at look fixed_horizon_months, or at look max_months
    target_power: float
    alpha: float
    tau: float
    max_months: int
    units_per_month: float

    @property
    def reachable(self) -> bool:
        return self.months is not None

    @property
    def units_needed(self) -> int | None:
        """Units the experiment must enrol before the look at which the target power is reached."""
        return None if self.months is None else math.ceil(self.months * self.units_per_month)

    @property
    def reason_code(self) -> str:
        return REACHABLE if self.reachable else UNREACHABLE

    def reason_params(self) -> dict[str, str | int]:
        """The figures a committee's sentence needs; a number absent here is out of reach."""
        params: dict[str, str | int] = {
            "power": f"{self.target_power:.0%}",
            "alpha": f"{self.alpha:g}",
            "max_months": self.max_months,
            "power_reached": f"{self.power_at_months:.0%}",
        }
        if self.months is not None:
            params["months"] = self.months
        if self.fixed_horizon_months is not None:
            params["fixed_horizon_months"] = self.fixed_horizon_months
        return params

    def deadline(self, start: dt.date) -> dt.date | None:
        """The proposed end of the time box, or None for a pilot that cannot show its effect."""
        return None if self.months is None else pilot_deadline(start, self.months)


def _first_month(power_at: list[float], target: float) -> int | None:
    return next((month for month, power in enumerate(power_at, start=1) if power >= target), None)


def pilot_duration(
    plan: PilotPlan,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    tau: float | None = None,
    max_months: int = MAX_PILOT_MONTHS,
) -> PilotDuration:
    """Months of monthly looks the pilot needs to show its minimum effect with the required power.

    `tau` is the mixture scale the gate will use: by default tuned to the minimum effect, as the
    gate tunes it when the KPI's target claims that effect; pass tau_for_claimed_effect of the
    KPI's own baseline and target when they claim more (or less) than the minimum that matters.
    """
    _check_levels(alpha=alpha, power=power)
    if max_months < 1:
        raise ValueError("The longest time box must be at least one month.")
    tau = plan.default_tau() if tau is None else tau
    months = range(1, max_months + 1)
    valid = [always_valid_power(plan, months=m, alpha=alpha, tau=tau) for m in months]
    fixed = [fixed_horizon_power(plan, months=m, alpha=alpha) for m in months]
    valid_months, fixed_months = _first_month(valid, power), _first_month(fixed, power)
    return PilotDuration(
        months=valid_months,
        power_at_months=valid[(valid_months or max_months) - 1],
        fixed_horizon_months=fixed_months,
        fixed_horizon_power=fixed[(fixed_months or max_months) - 1],
        target_power=power,
        alpha=alpha,
        tau=tau,
        max_months=max_months,
        units_per_month=plan.units_per_month,
    )


def pilot_deadline(start: dt.date, months: int) -> dt.date:
    """The day `months` calendar months after `start`: the pilot's last look, its proposed deadline.

    A day the final month lacks becomes that month's last day (a pilot started on 31 January and
    running one month ends on 28 or 29 February), never spilling into the month after.
    """
    if months < 1:
        raise ValueError("A pilot runs at least one month.")
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(start.day, (next_month - dt.timedelta(days=1)).day))
