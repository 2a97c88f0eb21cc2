"""Simulated pilots with monthly looks: how often each method says Go, and how soon.

The gate's own functions decide every look (fixed-horizon two-proportion test and the
always-valid mSPRT), so the simulation measures exactly what the committee would see.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.rules.gates import improvement_is_significant
from governance.rules.sequential import ProportionLook, always_valid_proportions, tau_for_claimed_effect
from governance.rules.statistics import two_proportion_test


@dataclass(frozen=True)
class PeekingScenario:
    pilots: int = 2000
    looks: int = 12
    visitors_per_arm_per_month: int = 2000
    control_rate: float = 0.04
    treatment_rate: float = 0.04  # equal to control: no real effect
    claimed_relative_lift: float = 0.30  # the business case's promise, which tunes τ
    alpha: float = 0.05
    seed: int = 20261129


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


def simulate(scenario: PeekingScenario) -> PeekingReport:
    import numpy as np  # only the simulation draws random counts

    rng = np.random.default_rng(scenario.seed)
    shape = (scenario.pilots, scenario.looks)
    n = scenario.visitors_per_arm_per_month
    control = rng.binomial(n, scenario.control_rate, size=shape).cumsum(axis=1)
    treatment = rng.binomial(n, scenario.treatment_rate, size=shape).cumsum(axis=1)
    tau = tau_for_claimed_effect(
        baseline=1.0, target=1.0 + scenario.claimed_relative_lift, control_level=scenario.control_rate
    )
    fixed_firsts, valid_firsts, any_direction_count = [], [], 0
    for pilot in range(scenario.pilots):
        looks = [
            ProportionLook(n * (k + 1), int(control[pilot, k]), n * (k + 1), int(treatment[pilot, k]))
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
                sequence = always_valid_proportions(looks[:k], tau=tau, confidence=1 - scenario.alpha)
                if sequence.enough_data and sequence.p_value < scenario.alpha and sequence.cs_low > 0:
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
