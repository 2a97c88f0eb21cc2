"""Sample-ratio checks: did the experiment's arms receive the traffic the plan assigned them?

Why: a pilot planned 50/50 whose arms hold 45% and 55% of the units is not the randomised
experiment it claims to be (a redirect that loses some treated users, a bot filter applied to one
arm, a logging bug). Its lift may be an artefact of who was counted, not of the treatment, so a
sample-ratio mismatch voids the experiment's support for a Go (docs/statistics.md).

The committee looks at the arm sizes every month, so the check must stay valid however often it
is repeated, like the lift's test (projects/sequential.py). Method: the Dirichlet–multinomial
mixture of Lindon & Malek, "Anytime-valid inference for multinomial count data" (NeurIPS 2022),
the test behind Optimizely's and Netflix's sequential SRM checks. With planned shares p₀, a
Dirichlet(a) mixture over the shares a mismatch could have, and cumulative arm sizes n (N units):

    BF = [B(a + n) / B(a)] / Π p₀ᵢ^nᵢ,     B(x) = Π Γ(xᵢ) / Γ(Σ xᵢ)   (the multivariate beta)

BF is the likelihood ratio of the arrival sequence, mixture against plan (the multinomial
coefficient is common to both and cancels); under the plan it is a nonnegative martingale with
mean 1, so by Ville's inequality P(ever BF ≥ 1/α) ≤ α. It depends on the cumulative sizes only,
so monthly batches give the same number as unit-by-unit updates. The always-valid p-value after
look t is min over looks s ≤ t of min(1, 1/BF_s).

Plain data out: the result carries a reason code and the figures its sentence needs; the words
are governance's (rules return codes with parameters, never sentences).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

# Common industry practice (Eppo's SRM check and the widely used SRM calculators default to it)
# flags a mismatch at 0.001, not 0.05: the check runs on every experiment at every look, and a
# false alarm voids a sound experiment, while a real mismatch is usually gross enough to show at
# 0.001 within a few monthly looks (docs/statistics.md has the simulated rates).
DEFAULT_SRM_ALPHA = 0.001

# Total prior concentration A, spread as aᵢ = A·p₀ᵢ (the mixture is centred on the plan). Each
# share's prior standard deviation is sqrt(p₀ᵢ(1 − p₀ᵢ)/(A + 1)): about 1.6 points at 50/50, the
# size of the mismatches that break experiments (1 to 5 points) and that a pilot's traffic
# (hundreds to tens of thousands of units a month) can reveal. In simulated 12-look pilots it
# had, of the values tried (100, 1,000, 10,000; ssrm's default is 10,000, for web-scale
# traffic), the best or nearly best chance of flagging such a mismatch by the end of the pilot;
# 100 flags a gross mismatch about a month sooner but misses more subtle ones. Any A > 0 keeps
# the error guarantee; A only moves the power between mismatch sizes.
DEFAULT_CONCENTRATION = 1000.0

# Planned shares typed as percentages or rounded thirds sum to 1 only approximately.
_SHARES_TOLERANCE = 1e-6

MISMATCH = "sample_ratio.mismatch"
AS_PLANNED = "sample_ratio.as_planned"


@dataclass(frozen=True)
class PlannedSplit:
    """The share of units each arm should receive, in the order the arm sizes are given.

    Shares that sum to 1 within a rounding tolerance are stored rescaled to sum to exactly 1, so
    that the test's null hypothesis is a probability distribution.
    """

    shares: tuple[float, ...]

    def __post_init__(self) -> None:
        try:
            shares = tuple(float(share) for share in self.shares)
        except (TypeError, ValueError):
            raise ValueError(f"Every arm's planned share must be a number; got {self.shares!r}.") from None
        if len(shares) < 2:
            raise ValueError("A planned split needs at least two arms.")
        if not all(math.isfinite(share) and share > 0 for share in shares):
            raise ValueError(f"Every arm's planned share must be a positive number; got {shares}.")
        total = math.fsum(shares)
        if abs(total - 1) > _SHARES_TOLERANCE:
            raise ValueError(f"Planned shares must sum to 1; {shares} sums to {total:g}.")
        object.__setattr__(self, "shares", tuple(share / total for share in shares))

    @classmethod
    def even(cls, arms: int = 2) -> PlannedSplit:
        return cls(tuple(1 / arms for _ in range(arms)))

    @classmethod
    def control_treatment(cls, treatment_share: float) -> PlannedSplit:
        """Two arms in the order of an experiment's looks: control first, then treatment."""
        return cls((1 - treatment_share, treatment_share))

    @property
    def arms(self) -> int:
        return len(self.shares)


@dataclass(frozen=True)
class SampleRatioResult:
    looks: int
    arm_sizes: tuple[int, ...]  # cumulative, at the last look
    planned_shares: tuple[float, ...]
    observed_shares: tuple[float, ...]  # at the last look; all zero while no unit has arrived
    p_value: float  # always-valid: the running minimum of 1/BF over the looks so far
    alpha: float
    mismatch: bool  # p_value ≤ alpha: the arms did not receive the planned split
    first_mismatch_look: int | None  # 1-based look at which p first reached alpha
    log_bayes_factor: float  # at the last look, mixture against plan
    concentration: float

    @property
    def units(self) -> int:
        return sum(self.arm_sizes)

    @property
    def observed_percent(self) -> tuple[float, ...]:
        return tuple(100 * share for share in self.observed_shares)

    @property
    def planned_percent(self) -> tuple[float, ...]:
        return tuple(100 * share for share in self.planned_shares)

    @property
    def reason_code(self) -> str:
        return MISMATCH if self.mismatch else AS_PLANNED

    def reason_params(self) -> dict[str, str | int | tuple[str, ...]]:
        """The figures a committee's sentence needs, written as the rules write numbers.

        Shares are per arm, in the planned order (governance joins them as the reader's language
        joins a list); `p` and `alpha` as the lift's tests write theirs.
        """
        return {
            "observed": tuple(f"{percent:.1f}%" for percent in self.observed_percent),
            "planned": tuple(f"{percent:.1f}%" for percent in self.planned_percent),
            "p": f"{self.p_value:.4f}",
            "alpha": f"{self.alpha:g}",
            "looks": self.looks,
            "units": self.units,
        }


def log_bayes_factor(
    arm_sizes: Sequence[int], planned: PlannedSplit, *, concentration: float = DEFAULT_CONCENTRATION
) -> float:
    """ln BF of cumulative arm sizes: Dirichlet(concentration · planned) mixture against the plan.

    In logarithms throughout (lgamma), since the factor overflows a float within a few thousand
    units of a real mismatch.
    """
    prior = [concentration * share for share in planned.shares]
    units = sum(arm_sizes)
    log_mixture = (
        math.fsum(math.lgamma(a + n) - math.lgamma(a) for a, n in zip(prior, arm_sizes, strict=True))
        + math.lgamma(concentration)
        - math.lgamma(concentration + units)
    )
    log_plan = math.fsum(n * math.log(p) for n, p in zip(arm_sizes, planned.shares, strict=True))
    return log_mixture - log_plan


def _arm_sizes(look: Sequence[int], number: int) -> tuple[int, ...]:
    """The look's arm sizes as whole counts; numpy's integers pass, fractions and True do not."""
    try:
        sizes = tuple(operator.index(n) for n in look if not isinstance(n, bool))
    except TypeError:
        sizes = ()
    if len(sizes) != len(look) or any(n < 0 for n in sizes):
        raise ValueError(
            f"Look {number}: arm sizes are counts of units, whole and not negative; got {tuple(look)}."
        )
    return sizes


def _checked_looks(looks: Sequence[Sequence[int]], arms: int) -> list[tuple[int, ...]]:
    if not looks:
        raise ValueError("A sample-ratio check needs at least one look.")
    checked: list[tuple[int, ...]] = []
    for number, look in enumerate(looks, start=1):
        sizes = _arm_sizes(look, number)
        if len(sizes) != arms:
            raise ValueError(f"Look {number}: {len(sizes)} arm sizes for a plan of {arms} arms.")
        if checked and any(now < before for now, before in zip(sizes, checked[-1], strict=True)):
            raise ValueError(
                f"Look {number}: arm sizes are cumulative and cannot decrease ({checked[-1]} then {sizes})."
            )
        checked.append(sizes)
    return checked


def sample_ratio_check(
    looks: Sequence[Sequence[int]],
    planned: PlannedSplit,
    *,
    alpha: float = DEFAULT_SRM_ALPHA,
    concentration: float = DEFAULT_CONCENTRATION,
) -> SampleRatioResult:
    """Always-valid test that the arms' cumulative sizes at every look follow the planned split.

    `looks` holds, oldest first, each look's cumulative arm sizes in the order of `planned`'s
    shares (for an experiment: control, treatment).
    """
    if not 0 < alpha < 1:
        raise ValueError("The sample-ratio check's alpha must lie strictly between 0 and 1.")
    if concentration <= 0 or not math.isfinite(concentration):
        raise ValueError("The prior concentration must be a positive number.")
    checked = _checked_looks(looks, planned.arms)
    p_value, first, log_bf = 1.0, None, 0.0
    for number, sizes in enumerate(checked, start=1):
        log_bf = log_bayes_factor(sizes, planned, concentration=concentration)
        # 1/BF, capped at 1; a factor beyond e^700 is a p-value of zero for every purpose.
        p_value = min(p_value, 1.0 if log_bf <= 0 else math.exp(-min(log_bf, 700.0)))
        if first is None and p_value <= alpha:
            first = number
    last = checked[-1]
    units = sum(last)
    return SampleRatioResult(
        looks=len(checked),
        arm_sizes=last,
        planned_shares=planned.shares,
        observed_shares=tuple(n / units if units else 0.0 for n in last),
        p_value=p_value,
        alpha=alpha,
        mismatch=p_value <= alpha,
        first_mismatch_look=first,
        log_bayes_factor=log_bf,
        concentration=concentration,
    )
