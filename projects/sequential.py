"""Always-valid inference for A/B experiments that the committee looks at every month.

Why: a fixed-horizon p-value is valid for one look decided in advance. A committee that re-tests
the same experiment at every monthly review and says Go at the first p < 0.05 lets about one
null pilot in five through after twelve looks. The tests here stay valid however often, and
whenever, anyone looks.

Method: the mixture sequential probability ratio test (mSPRT) of Johari, Pekelis and Walsh,
"Always valid inference: continuous monitoring of A/B tests" (2017/2022), for the difference
θ = treatment − control, in its normal-approximation form:

    θ̂  = observed difference at the look,  V = its estimated variance at the look,
    Λ(θ₀) = sqrt(V / (V + τ²)) · exp( τ² (θ̂ − θ₀)² / (2 V (V + τ²)) )

where τ² is the variance of a normal mixture over the effects the test is tuned to detect.
Under θ = θ₀, Λ is (asymptotically) a nonnegative martingale with mean 1, so by Ville's
inequality P(ever Λ ≥ 1/α) ≤ α. Consequences used here:
- always-valid p-value at look n: min over looks k ≤ n of min(1, 1/Λ_k(0));
- confidence sequence: {θ₀ : Λ(θ₀) < 1/α} = θ̂ ± sqrt( V (V + τ²)/τ² · (2 ln(1/α) + ln((V + τ²)/V)) ),
  intersected over the looks so far (the "normal mixture" boundary of Howard, Ramdas,
  McAuliffe and Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences", 2021).

Assumptions, stated so a committee can weigh them:
- each look's counts are cumulative and the arms are independent, randomised samples;
- V is the plug-in variance (p(1−p)/n per arm for proportions, s²/n per arm for means);
- the guarantee is asymptotic, so a look decides something only on enough data (the rule in
  projects/statistics.py, shared with the fixed-horizon test): a look without it enters
  neither the running minimum of the p-value nor the running intersection of the intervals;
- when the intersection is empty the looks contradict each other (probability ≤ α under the
  assumptions): the result says so (`contradictory`) and supports no verdict either way;
- τ is set from the effect the business case claims (the KPI's target against its baseline),
  so the test is most powerful near the promised effect; any τ > 0 keeps the error guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from projects.statistics import (
    MIN_EXPECTED,
    MIN_MEAN_ARM,
    means_have_enough_data,
    proportions_have_enough_data,
)


@dataclass(frozen=True)
class ProportionLook:
    """Cumulative counts of both arms at one look."""

    control_size: int
    control_successes: int
    treatment_size: int
    treatment_successes: int


@dataclass(frozen=True)
class MeanLook:
    """Cumulative size, mean and sample variance of both arms at one look."""

    control_size: int
    control_mean: float
    control_variance: float
    treatment_size: int
    treatment_mean: float
    treatment_variance: float


@dataclass(frozen=True)
class AlwaysValidResult:
    looks: int
    difference: float  # treatment − control at the last look
    # Confidence sequence, intersected over the looks with enough data; unbounded while there is
    # none. When that intersection is empty (`contradictory`), the latest such look's own set.
    cs_low: float
    cs_high: float
    p_value: float  # always-valid p-value after the looks with enough data so far
    confidence: float
    enough_data: bool  # the minimum sample (statistics.*_have_enough_data) holds at the last look
    first_significant_look: int | None  # 1-based look at which p first fell below 1 − confidence
    looks_with_enough_data: int = 0  # the looks that entered the p-value and the interval
    # The looks' always-valid intervals have no value in common: under the test's assumptions
    # (independent randomised arms, one fixed effect) that happens with probability at most
    # 1 − confidence. The effect is not stable, so the experiment supports no verdict either way.
    contradictory: bool = False

    @property
    def looks_without_enough_data(self) -> int:
        return self.looks - self.looks_with_enough_data

    def describe(self) -> str:
        after = f"after {self.looks} {'look' if self.looks == 1 else 'looks'}"
        if self.looks_without_enough_data:
            after += f", {self.looks_without_enough_data} of them too thin to count"
        if self.contradictory:
            text = (
                f"the looks contradict each other {after}: their always-valid {self.confidence:.0%} "
                f"intervals have no value in common, so the effect is not stable and the test supports "
                f"no verdict either way; the latest look alone gives {self.cs_low:+.4f} to {self.cs_high:+.4f}"
            )
        else:
            text = (
                f"always-valid {self.confidence:.0%} interval {self.cs_low:+.4f} to {self.cs_high:+.4f}, "
                f"always-valid p = {self.p_value:.4f} {after}"
            )
        if not self.enough_data:
            text += (
                f"; too few observations at the latest look: each arm needs {MIN_EXPECTED} successes and "
                f"{MIN_EXPECTED} failures (a rate) or {MIN_MEAN_ARM} observations (a mean)"
            )
        return text


@dataclass(frozen=True)
class _LookPoint:
    difference: float  # treatment − control
    variance: float  # of the difference: the plug-in variance of both arms
    enough_data: bool


def _checked_proportion_looks(looks: Sequence[ProportionLook]) -> None:
    if not looks:
        raise ValueError("An experiment needs at least one look.")
    previous = None
    for number, look in enumerate(looks, start=1):
        for arm, size, successes in (
            ("control", look.control_size, look.control_successes),
            ("treatment", look.treatment_size, look.treatment_successes),
        ):
            if size <= 0:
                raise ValueError(f"Look {number}: the {arm} arm has no observations.")
            if successes < 0 or successes > size:
                raise ValueError(f"Look {number}: the {arm} arm has {successes} successes out of {size}.")
        if previous is not None and (
            look.control_size < previous.control_size
            or look.treatment_size < previous.treatment_size
            or look.control_successes < previous.control_successes
            or look.treatment_successes < previous.treatment_successes
        ):
            raise ValueError(f"Look {number}: counts are cumulative and cannot decrease.")
        previous = look


def _inverse_lambda(difference: float, variance: float, tau: float) -> float:
    """1/Λ(0): the look's always-valid p-value before the running minimum."""
    if variance <= 0:
        # Both arms all-success or all-failure: no spread to measure, no evidence either way.
        return 1.0
    tau2 = tau * tau
    log_lambda = 0.5 * math.log(variance / (variance + tau2)) + (
        tau2 * difference * difference / (2 * variance * (variance + tau2))
    )
    return 1.0 if log_lambda <= 0 else math.exp(-min(log_lambda, 700.0))


def _half_width(variance: float, tau: float, alpha: float) -> float:
    """Half-width of the look's confidence set {θ₀ : Λ(θ₀) < 1/α}."""
    if variance <= 0:
        return math.inf
    tau2 = tau * tau
    return math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (2 * math.log(1 / alpha) + math.log((variance + tau2) / variance))
    )


def _sequence(points: Sequence[_LookPoint], *, tau: float, confidence: float) -> AlwaysValidResult:
    """Running minimum p-value and running intersection, over the looks with enough data only.

    A look without enough data decides nothing: its variance estimate can be far off (zero for
    0 successes of 60), and a single such look would otherwise fix the minimum p-value and the
    intersection for good. The look still counts in `looks`, and its data in every later look.
    """
    if tau <= 0 or not math.isfinite(tau):
        raise ValueError("The mixture scale τ must be a positive number.")
    if not 0 < confidence < 1:
        raise ValueError("Confidence must lie strictly between 0 and 1.")
    alpha = 1 - confidence
    p_value, low, high, first, counted = 1.0, -math.inf, math.inf, None, 0
    latest_low, latest_high = -math.inf, math.inf
    for number, point in enumerate(points, start=1):
        if not point.enough_data:
            continue
        counted += 1
        p_value = min(p_value, _inverse_lambda(point.difference, point.variance, tau))
        half_width = _half_width(point.variance, tau, alpha)
        latest_low, latest_high = point.difference - half_width, point.difference + half_width
        low, high = max(low, latest_low), min(high, latest_high)
        if first is None and p_value < alpha:
            first = number
    contradictory = low > high
    if contradictory:
        low, high = latest_low, latest_high
    return AlwaysValidResult(
        looks=len(points),
        difference=points[-1].difference,
        cs_low=low,
        cs_high=high,
        p_value=p_value,
        confidence=confidence,
        enough_data=points[-1].enough_data,
        first_significant_look=first,
        looks_with_enough_data=counted,
        contradictory=contradictory,
    )


def always_valid_proportions(
    looks: Sequence[ProportionLook], *, tau: float, confidence: float = 0.95
) -> AlwaysValidResult:
    """mSPRT and confidence sequence for treatment rate − control rate over cumulative looks."""
    _checked_proportion_looks(looks)
    return _sequence([_proportion_point(look) for look in looks], tau=tau, confidence=confidence)


def _proportion_point(look: ProportionLook) -> _LookPoint:
    n_c, n_t = look.control_size, look.treatment_size
    p_c, p_t = look.control_successes / n_c, look.treatment_successes / n_t
    return _LookPoint(
        difference=p_t - p_c,
        variance=p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t,
        enough_data=proportion_look_has_enough_data(look),
    )


def proportion_look_has_enough_data(look: ProportionLook) -> bool:
    return proportions_have_enough_data(
        control_size=look.control_size,
        control_successes=look.control_successes,
        treatment_size=look.treatment_size,
        treatment_successes=look.treatment_successes,
    )


def mean_figure(value: float | None) -> float:
    """A mean or variance of a look; one the look lacks is not a number, refused like any other."""
    return math.nan if value is None else value


def mean_look_has_enough_data(look: MeanLook) -> bool:
    return means_have_enough_data(control_size=look.control_size, treatment_size=look.treatment_size)


def always_valid_means(
    looks: Sequence[MeanLook], *, tau: float, confidence: float = 0.95
) -> AlwaysValidResult:
    """mSPRT and confidence sequence for treatment mean − control mean over cumulative looks."""
    if not looks:
        raise ValueError("An experiment needs at least one look.")
    points, previous = [], None
    for number, look in enumerate(looks, start=1):
        values = (look.control_mean, look.control_variance, look.treatment_mean, look.treatment_variance)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"Look {number}: means and variances must be finite numbers.")
        if look.control_size <= 1 or look.treatment_size <= 1:
            raise ValueError(f"Look {number}: each arm needs at least two observations for a variance.")
        if look.control_variance < 0 or look.treatment_variance < 0:
            raise ValueError(f"Look {number}: a variance cannot be negative.")
        if previous is not None and (
            look.control_size < previous.control_size or look.treatment_size < previous.treatment_size
        ):
            raise ValueError(f"Look {number}: counts are cumulative and cannot decrease.")
        previous = look
        variance = look.control_variance / look.control_size + look.treatment_variance / look.treatment_size
        points.append(
            _LookPoint(
                difference=look.treatment_mean - look.control_mean,
                variance=variance,
                enough_data=mean_look_has_enough_data(look),
            )
        )
    return _sequence(points, tau=tau, confidence=confidence)


def tau_for_claimed_effect(
    *, baseline: float, target: float, control_level: float, floor: float = 1e-9
) -> float:
    """Mixture scale tuned to the effect the business case claims, on the experiment's scale.

    The KPI's target/baseline ratio gives the promised relative change; applied to the control
    arm's level it gives the absolute effect the test should be most sensitive to.
    """
    if baseline == 0:
        return max(abs(target - baseline), floor)
    relative = (target - baseline) / baseline
    return max(abs(relative * control_level), floor)
