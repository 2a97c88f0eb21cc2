"""Simulated pilots with monthly looks: how often each method says Go, and how soon.

The gate's own functions decide every look (fixed-horizon two-proportion test and the
always-valid mSPRT, with τ chosen from the data as the gate chooses it), so the simulation
measures exactly what the committee would see. DESIGNS are the designs the README's promise
(a false-Go rate of at most alpha over twelve monthly looks) is checked on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from governance.rules.gates import (
    ExperimentFacts,
    KPIFacts,
    always_valid_result,
    improvement_is_significant,
    sequence_is_significant,
)
from projects.sequential import ProportionLook
from projects.statistics import two_proportion_test


@dataclass(frozen=True)
class PeekingScenario:
    pilots: int = 2000
    looks: int = 12
    visitors_per_arm_per_month: int = 2000  # the control arm's; see treatment_per_control
    control_rate: float = 0.04
    treatment_rate: float = 0.04  # equal to control: no real effect
    claimed_relative_lift: float = 0.30  # the business case's promise, which tunes τ
    alpha: float = 0.05
    seed: int = 20261129
    # Treated visitors per control visitor: 1 is a balanced split, 50 a 2% holdout.
    treatment_per_control: int = 1
    # How far into the first month the first look comes (1: at its end); each later look comes
    # a month after the one before. A small value is a thin first look.
    first_look_fraction: float = 1.0

    @property
    def treatment_visitors_per_month(self) -> int:
        return self.visitors_per_arm_per_month * self.treatment_per_control

    def first_look_sizes(self) -> tuple[int, int]:
        """Visitors in the control and treatment arms at the first look."""
        return (
            max(1, round(self.first_look_fraction * self.visitors_per_arm_per_month)),
            max(1, round(self.first_look_fraction * self.treatment_visitors_per_month)),
        )

    def describe(self) -> str:
        control, treatment = self.first_look_sizes()
        split = (
            "balanced"
            if self.treatment_per_control == 1
            else f"1:{self.treatment_per_control} ({1 / (1 + self.treatment_per_control):.0%} control)"
        )
        return (
            f"{split}, {self.visitors_per_arm_per_month:,} control and {self.treatment_visitors_per_month:,} "
            f"treated visitors a month, baseline rate {self.control_rate:.1%}, first look at "
            f"{control:,} control / {treatment:,} treated visitors, {self.looks} {'look' if self.looks == 1 else 'looks'}"
        )


# The designs the statistical promise is checked on (README, "Experiments under monthly peeking").
DESIGNS: dict[str, PeekingScenario] = {
    "balanced": PeekingScenario(),
    "small holdout 1:50": PeekingScenario(visitors_per_arm_per_month=200, treatment_per_control=50),
    "rare events": PeekingScenario(visitors_per_arm_per_month=5000, control_rate=0.005, treatment_rate=0.005),
    "thin first look": PeekingScenario(first_look_fraction=0.03),
    "small holdout 1:50, thin first look": PeekingScenario(
        visitors_per_arm_per_month=200, treatment_per_control=50, first_look_fraction=0.3
    ),
    "small holdout 1:50, rare events, thin first look": PeekingScenario(
        visitors_per_arm_per_month=400,
        treatment_per_control=50,
        control_rate=0.005,
        treatment_rate=0.005,
        first_look_fraction=0.3,
    ),
}


@dataclass(frozen=True)
class PeekingReport:
    scenario: PeekingScenario
    fixed_horizon_go: int  # pilots the naive monthly re-test would have passed at some look
    fixed_horizon_any_direction: int  # pilots with p < alpha at some look, in either direction
    always_valid_go: int
    fixed_horizon_first_go: tuple[int | None, ...]  # per pilot, the look of the first Go
    always_valid_first_go: tuple[int | None, ...]

    @property
    def fixed_horizon_rate(self) -> float:
        return self.fixed_horizon_go / self.scenario.pilots

    @property
    def always_valid_rate(self) -> float:
        return self.always_valid_go / self.scenario.pilots

    def detected_within(self, months: int, *, always_valid: bool = True) -> float:
        firsts = self.always_valid_first_go if always_valid else self.fixed_horizon_first_go
        return sum(1 for f in firsts if f is not None and f <= months) / self.scenario.pilots

    def median_detection_month(self, *, always_valid: bool = True) -> int | None:
        firsts = sorted(
            f for f in (self.always_valid_first_go if always_valid else self.fixed_horizon_first_go) if f
        )
        if len(firsts) * 2 < self.scenario.pilots:
            return None
        return firsts[(self.scenario.pilots + 1) // 2 - 1]


def _binomial_cdf(successes: int, trials: int, rate: float) -> float:
    """P(Binomial(trials, rate) ≤ successes), in logarithms so that large counts do not overflow."""
    if rate <= 0:
        return 1.0
    if rate >= 1:
        return 1.0 if successes >= trials else 0.0
    log_p, log_q = math.log(rate), math.log1p(-rate)
    base = math.lgamma(trials + 1)
    return min(
        1.0,
        sum(
            math.exp(
                base - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q
            )
            for k in range(successes + 1)
        ),
    )


def binomial_upper_quantile(trials: int, rate: float, probability: float) -> int:
    """The smallest count k with P(Binomial(trials, rate) ≤ k) ≥ probability.

    A simulated false-Go count above the 0.999 quantile at rate alpha says, with 99.9% confidence,
    that the true false-Go rate is above alpha.
    """
    for k in range(trials + 1):
        if _binomial_cdf(k, trials, rate) >= probability:
            return k
    return trials


def rate_upper_bound(successes: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper–Pearson upper bound of a binomial rate, by bisection."""
    if successes >= trials:
        return 1.0
    low, high = successes / trials, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (
            (middle, high) if _binomial_cdf(successes, trials, middle) > 1 - confidence else (low, middle)
        )
    return high


def simulate(scenario: PeekingScenario) -> PeekingReport:
    import numpy as np  # only the simulation draws random counts

    rng = np.random.default_rng(scenario.seed)
    shape = (scenario.pilots, scenario.looks)
    first_control, first_treatment = scenario.first_look_sizes()
    new_control = np.array([first_control] + [scenario.visitors_per_arm_per_month] * (scenario.looks - 1))
    new_treatment = np.array(
        [first_treatment] + [scenario.treatment_visitors_per_month] * (scenario.looks - 1)
    )
    control_sizes, treatment_sizes = new_control.cumsum(), new_treatment.cumsum()
    control = rng.binomial(new_control, scenario.control_rate, size=shape).cumsum(axis=1)
    treatment = rng.binomial(new_treatment, scenario.treatment_rate, size=shape).cumsum(axis=1)
    # The business case's KPI: its target claims the relative lift that tunes τ, as at the gate.
    kpi = KPIFacts(
        name="Conversion",
        unit="ratio",
        direction="increase",
        baseline=Decimal(str(scenario.control_rate)),
        target=Decimal(str(scenario.control_rate * (1 + scenario.claimed_relative_lift))),
        data_source="simulation",
        is_primary=True,
    )
    fixed_firsts, valid_firsts, any_direction_count = [], [], 0
    for pilot in range(scenario.pilots):
        looks = [
            ProportionLook(
                int(control_sizes[k]),
                int(control[pilot, k]),
                int(treatment_sizes[k]),
                int(treatment[pilot, k]),
            )
            for k in range(scenario.looks)
        ]
        fixed_first = valid_first = None
        any_direction = False
        for k in range(1, scenario.looks + 1):
            look = looks[k - 1]
            result = two_proportion_test(
                control_size=look.control_size,
                control_successes=look.control_successes,
                treatment_size=look.treatment_size,
                treatment_successes=look.treatment_successes,
                confidence=1 - scenario.alpha,
            )
            any_direction = any_direction or (result.large_sample and result.p_value < scenario.alpha)
            if fixed_first is None and improvement_is_significant(result, "increase", scenario.alpha):
                fixed_first = k
            if valid_first is None:
                experiment = ExperimentFacts(
                    "simulated",
                    look.control_size,
                    look.control_successes,
                    look.treatment_size,
                    look.treatment_successes,
                    looks=tuple(looks[:k]),
                    metric="proportion",
                )
                if sequence_is_significant(
                    always_valid_result(experiment, kpi, alpha=scenario.alpha), "increase", scenario.alpha
                ):
                    valid_first = k
        any_direction_count += any_direction
        fixed_firsts.append(fixed_first)
        valid_firsts.append(valid_first)
    return PeekingReport(
        scenario=scenario,
        fixed_horizon_go=sum(f is not None for f in fixed_firsts),
        fixed_horizon_any_direction=any_direction_count,
        always_valid_go=sum(f is not None for f in valid_firsts),
        fixed_horizon_first_go=tuple(fixed_firsts),
        always_valid_first_go=tuple(valid_firsts),
    )
