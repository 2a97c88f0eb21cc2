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
- V is the plug-in variance (p(1−p)/n per arm for proportions, s²/n per arm for means): the
  guarantee is asymptotic, so a minimum number of observations is required, as for the
  fixed-horizon test;
- τ is set from the effect the business case claims (the KPI's target against its baseline),
  so the test is most powerful near the promised effect; any τ > 0 keeps the error guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from governance.rules.statistics import MIN_EXPECTED, MIN_MEAN_ARM


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
    cs_low: float  # confidence sequence, intersected over all looks so far
    cs_high: float
    p_value: float  # always-valid p-value after all looks so far
    confidence: float
    enough_data: bool  # the normal approximation's minimum sample holds at the last look
    first_significant_look: int | None  # 1-based look at which p first fell below 1 − confidence

    def describe(self) -> str:
        text = (
            f"always-valid {self.confidence:.0%} interval {self.cs_low:+.4f} to {self.cs_high:+.4f}, "
            f"always-valid p = {self.p_value:.4f} after {self.looks} look(s)"
        )
        if not self.enough_data:
            text += f"; too few observations: each arm needs {MIN_EXPECTED} expected successes and failures"
        return text


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


def _mixture_terms(difference: float, variance: float, tau: float, alpha: float) -> tuple[float, float]:
    """(1/Λ(0), half-width of the confidence set) for one look."""
    tau2 = tau * tau
    if variance <= 0:
        # Both arms all-success or all-failure: no spread to measure, no evidence either way.
        return 1.0, math.inf
    log_lambda = 0.5 * math.log(variance / (variance + tau2)) + (
        tau2 * difference * difference / (2 * variance * (variance + tau2))
    )
    inverse_lambda = 1.0 if log_lambda <= 0 else math.exp(-min(log_lambda, 700.0))
    half_width = math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (2 * math.log(1 / alpha) + math.log((variance + tau2) / variance))
    )
    return inverse_lambda, half_width


def _sequence(
    points: Sequence[tuple[float, float]], *, tau: float, confidence: float, enough_data: bool
) -> AlwaysValidResult:
    if tau <= 0 or not math.isfinite(tau):
        raise ValueError("The mixture scale τ must be a positive number.")
    if not 0 < confidence < 1:
        raise ValueError("Confidence must lie strictly between 0 and 1.")
    alpha = 1 - confidence
    p_value, low, high, first = 1.0, -math.inf, math.inf, None
    for number, (difference, variance) in enumerate(points, start=1):
        inverse_lambda, half_width = _mixture_terms(difference, variance, tau, alpha)
        p_value = min(p_value, inverse_lambda)
        low, high = max(low, difference - half_width), min(high, difference + half_width)
        if first is None and p_value < alpha:
            first = number
    difference = points[-1][0]
    if low > high:  # the running intersection can cross only by chance under a wrong model
        low = high = difference
    return AlwaysValidResult(
        looks=len(points),
        difference=difference,
        cs_low=low,
        cs_high=high,
        p_value=p_value,
        confidence=confidence,
        enough_data=enough_data,
        first_significant_look=first,
    )


def always_valid_proportions(
    looks: Sequence[ProportionLook], *, tau: float, confidence: float = 0.95
) -> AlwaysValidResult:
    """mSPRT and confidence sequence for treatment rate − control rate over cumulative looks."""
    _checked_proportion_looks(looks)
    points = []
    for look in looks:
        p_c = look.control_successes / look.control_size
        p_t = look.treatment_successes / look.treatment_size
        variance = p_c * (1 - p_c) / look.control_size + p_t * (1 - p_t) / look.treatment_size
        points.append((p_t - p_c, variance))
    last = looks[-1]
    pooled = (last.control_successes + last.treatment_successes) / (last.control_size + last.treatment_size)
    enough = all(
        n * pooled >= MIN_EXPECTED and n * (1 - pooled) >= MIN_EXPECTED
        for n in (last.control_size, last.treatment_size)
    )
    return _sequence(points, tau=tau, confidence=confidence, enough_data=enough)


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
        points.append((look.treatment_mean - look.control_mean, variance))
    last = looks[-1]
    enough = min(last.control_size, last.treatment_size) >= MIN_MEAN_ARM
    return _sequence(points, tau=tau, confidence=confidence, enough_data=enough)


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
