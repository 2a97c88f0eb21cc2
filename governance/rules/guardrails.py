"""Guardrail KPIs: what the initiative must not make worse, by more than a non-inferiority margin.

A guardrail (complaint rate, brand-tone violations found in review, factual errors, escalations to a
human, cost per contact) holds when it is shown not to be worse than it was by more than its
margin, in the KPI's unit:

- with an A/B experiment on it: by the always-valid test the experiments are judged by
  (projects/sequential.py, the mSPRT and its confidence sequence), read one-sided. The experiment
  holds when the upper bound of the worsening (treatment − control on the KPI's bad side) stays
  below the margin. The bound is the always-valid interval's own, at level 1 − α: by Ville's
  inequality the chance that it ever falls below a true worsening, at any look, is at most α,
  so a guardrail exactly at its margin is declared to hold in at most α of pilots however often
  the committee looks. (Using one side of the two-sided set is conservative: that side alone
  errs with probability ≤ α too, and no adjustment is claimed for it.)
- without one: its latest measured value against its baseline ± the margin.

The margin is written in the KPI's unit against its baseline; an experiment records rates or
means. As τ is tuned from the target (projects/sequential.tau_for_claimed_effect), the margin is
carried over as a share of the baseline applied to the control arm's level (the margin itself
when the baseline is zero), and τ is tuned to that margin, so the test is most powerful near it.

Pure functions: no Django, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from governance.rules.reasons import Listing, Param, Reason
from projects.sequential import (
    AlwaysValidResult,
    MeanLook,
    ProportionLook,
    always_valid_means,
    always_valid_proportions,
    mean_look_has_enough_data,
    proportion_look_has_enough_data,
    tau_for_claimed_effect,
)
from projects.vocabulary import Direction, Metric

if TYPE_CHECKING:  # the gate rules import this module; their dataclasses are only read here
    from governance.rules.gates import ExperimentFacts, KPIFacts


@dataclass(frozen=True)
class ExperimentGuardrail:
    """One experiment's one-sided always-valid judgement of a guardrail."""

    experiment: str
    holds: bool
    # On the experiment's scale (a rate or a mean): the margin, and the always-valid upper bound
    # of how much worse the treatment is than the control; None when the figures cannot be tested.
    margin: float
    worse_by_at_most: float | None
    result: AlwaysValidResult | None
    # KPI units per unit of the experiment's scale, to say the figures in the KPI's unit.
    kpi_units_per_scale_unit: float = 1.0
    problem: str = ""
    # The other side: the always-valid lower bound of the worsening, and whether even it lies beyond
    # the margin, i.e. the treatment is shown to be worse than the margin allows.
    worse_by_at_least: float | None = None
    beyond: bool = False


@dataclass(frozen=True)
class GuardrailCheck:
    """`holds`: shown not to degrade beyond the margin (what a Go needs). `breached`: shown to have
    degraded beyond it (what the monthly value review retires on): the latest measurement beyond
    baseline ± margin, or an experiment whose always-valid interval lies wholly beyond the margin.
    Neither, while an experiment cannot yet tell."""

    kpi: str
    holds: bool
    reason: Reason
    experiments: tuple[ExperimentGuardrail, ...] = ()
    breached: bool = False


def experiment_guardrail(
    *,
    name: str,
    metric: str,
    looks: Sequence[ProportionLook | MeanLook],
    direction: str,
    baseline: Decimal | float,
    margin: Decimal | float,
    alpha: float,
) -> ExperimentGuardrail:
    """The guardrail holds in this experiment when the always-valid (1 − alpha) bound of the
    treatment's worsening lies below the margin, on enough data, from looks that agree."""
    if not looks:
        raise ValueError("An experiment needs at least one look.")
    base, kpi_margin = float(baseline), float(margin)
    if not kpi_margin > 0 or not math.isfinite(kpi_margin):
        raise ValueError("A guardrail's margin must be a positive number.")
    if metric == Metric.MEAN:
        means = [look for look in looks if isinstance(look, MeanLook)]
        if len(means) != len(looks):
            raise TypeError(f"{name}: a mean experiment has a look of another kind.")
        first_mean = next((look for look in means if mean_look_has_enough_data(look)), means[-1])
        level = abs(first_mean.control_mean) or 1.0
    else:
        counts = [look for look in looks if isinstance(look, ProportionLook)]
        if len(counts) != len(looks):
            raise TypeError(f"{name}: a proportion experiment has a look of another kind.")
        first = next((look for look in counts if proportion_look_has_enough_data(look)), counts[-1])
        level = (first.control_successes / first.control_size if first.control_size else 0.0) or 0.01
    scale_margin = tau_for_claimed_effect(baseline=base, target=base + kpi_margin, control_level=level)
    if metric == Metric.MEAN:
        result = always_valid_means(means, tau=scale_margin, confidence=1 - alpha)
    else:
        result = always_valid_proportions(counts, tau=scale_margin, confidence=1 - alpha)
    bound = result.cs_high if direction == Direction.DECREASE else -result.cs_low
    least = result.cs_low if direction == Direction.DECREASE else -result.cs_high
    decided = result.enough_data and not result.contradictory
    return ExperimentGuardrail(
        experiment=name,
        holds=decided and bound < scale_margin,
        margin=scale_margin,
        worse_by_at_most=bound,
        result=result,
        kpi_units_per_scale_unit=kpi_margin / scale_margin,
        worse_by_at_least=least,
        beyond=decided and least > scale_margin,
    )


def guardrail_check(kpi: KPIFacts, *, alpha: float = 0.05) -> GuardrailCheck:
    """Whether a guardrail KPI holds: every experiment on it, or else its latest measurement."""
    margin = kpi.non_inferiority_margin
    if margin is None or margin <= 0 or kpi.baseline is None:
        return GuardrailCheck(kpi.name, False, Reason.of("guardrail.no_margin", kpi=kpi.name))
    if kpi.experiments:
        return _by_experiments(kpi, kpi.experiments, margin, alpha)
    latest = kpi.latest
    if latest is None:
        return GuardrailCheck(kpi.name, False, Reason.of("guardrail.never_measured", kpi=kpi.name))
    # Exact, in the KPI's decimals: a guardrail exactly at its margin has not gone beyond it.
    change = latest.value - kpi.baseline
    worse_by = change if kpi.direction == Direction.DECREASE else -change
    holds = worse_by <= margin
    return GuardrailCheck(
        kpi.name,
        holds,
        breached=not holds,
        reason=Reason.of(
            "guardrail.measured_holds" if holds else "guardrail.measured_breached",
            kpi=kpi.name,
            latest=_num(latest.value),
            unit=kpi.unit,
            period=f"{latest.period:%Y-%m}",
            baseline=_num(kpi.baseline),
            worse_by=("+" if worse_by > 0 else "") + _num(worse_by),
            margin=_num(margin),
        ),
    )


def _by_experiments(
    kpi: KPIFacts, experiments: tuple[ExperimentFacts, ...], margin: Decimal, alpha: float
) -> GuardrailCheck:
    assert kpi.baseline is not None
    checks: list[ExperimentGuardrail] = []
    lines: list[Param] = []
    for experiment in experiments:
        try:
            check = experiment_guardrail(
                name=experiment.name,
                metric=experiment.metric,
                looks=experiment.all_looks(),
                direction=kpi.direction,
                baseline=kpi.baseline,
                margin=margin,
                alpha=alpha,
            )
        except (ValueError, TypeError, ZeroDivisionError) as error:
            checks.append(
                ExperimentGuardrail(experiment.name, False, float(margin), None, None, problem=str(error))
            )
            lines.append(
                Reason.of(
                    "guardrail.experiment_untestable",
                    experiment=experiment.name,
                    kpi=kpi.name,
                    problem=str(error),
                )
            )
            continue
        checks.append(check)
        lines.append(_experiment_reason(kpi, check))
    return GuardrailCheck(
        kpi.name,
        all(c.holds for c in checks),
        Reason.of("guardrail.experiments", lines=Listing(tuple(lines))),
        tuple(checks),
        breached=any(c.beyond for c in checks),
    )


def _experiment_reason(kpi: KPIFacts, check: ExperimentGuardrail) -> Reason:
    result = check.result
    assert result is not None and check.worse_by_at_most is not None
    figures: dict[str, Param] = {
        "experiment": check.experiment,
        "kpi": kpi.name,
        "unit": kpi.unit,
        "bound": _figure(check.worse_by_at_most * check.kpi_units_per_scale_unit),
        "margin": _num(kpi.non_inferiority_margin),
        "confidence": f"{result.confidence:.0%}",
        "looks": result.looks,
    }
    if result.contradictory:
        return Reason.of("guardrail.experiment_inconclusive", **figures)
    if not result.enough_data:
        return Reason.of("guardrail.experiment_too_few", **figures)
    if check.beyond and check.worse_by_at_least is not None:
        least = _figure(check.worse_by_at_least * check.kpi_units_per_scale_unit)
        return Reason.of("guardrail.experiment_beyond", least=least, **figures)
    return Reason.of(
        "guardrail.experiment_holds" if check.holds else "guardrail.experiment_breached", **figures
    )


def _num(value: Decimal | None) -> str:
    return "?" if value is None else format(value.normalize(), "f")


def _figure(value: float) -> str:
    """A computed figure in the KPI's unit, to four significant digits, signed."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:+.4g}"
