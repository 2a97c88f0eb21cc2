"""Gate evaluation: every requirement of a gate policy, each with passed/failed and a reason.

Hand-written because the gate rules are ValueGate's own: no library knows them. Pure functions
over frozen dataclasses; selectors build the inputs, services act on the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from governance.rules.guardrails import guardrail_check
from governance.rules.plans import (
    PlanFacts,
    duration_reason,
    plan_duration,
    problem_of,
    split_check,
    split_reason,
)
from governance.rules.reasons import Listing, Money, Param, Reason, Term
from projects.roi import MonthlyAmount, percent, project_roi, rounded
from projects.sequential import (
    AlwaysValidResult,
    MeanLook,
    ProportionLook,
    always_valid_means,
    always_valid_proportions,
    mean_figure,
    mean_look_has_enough_data,
    proportion_look_has_enough_data,
    tau_for_claimed_effect,
)
from projects.statistics import (
    MIN_EXPECTED,
    MIN_MEAN_ARM,
    TwoMeansResult,
    TwoProportionResult,
    two_means_test,
    two_proportion_test,
)
from projects.vocabulary import (
    APPROVING_DECISIONS,
    Decision,
    Direction,
    ExperimentMethod,
    FunctionCode,
    Gate,
    Metric,
    Outcome,
    RiskTier,
    meets_target,
)


@dataclass(frozen=True)
class PolicyRules:
    gate: str
    version: int
    required_functions: tuple[str, ...]
    risk_ethics_for_high_risk: bool = True
    requires_business_case: bool = True
    requires_primary_kpi: bool = True
    required_evidence: tuple[str, ...] = ()
    personal_data_evidence: tuple[str, ...] = ()
    min_measurements: int = 0
    requires_targets_met: bool = False
    requires_significant_experiments: bool = False
    significance_level: float = 0.05
    requires_positive_roi: bool = False
    requires_conditions_closed: bool = False
    signoff_validity_days: int = 90
    # "always_valid": the verdict holds however often the committee looks (projects/sequential.py);
    # "fixed_horizon": the classic test, valid for one look decided in advance.
    experiment_method: str = ExperimentMethod.FIXED_HORIZON
    # A Go is refused while an experiment plan was changed after its first look.
    refuses_plan_changed_after_data: bool = False
    # Every primary KPI's pilot months must come from its system of record, none reported by hand.
    requires_measured_from_source: bool = False
    # The pilot gate: each primary KPI's experiment plan registered before the pilot starts, and the
    # power a plan must reach within its time box.
    requires_experiment_plan: bool = False
    required_power: float = 0.8


# Entry to the proposal stage: no business case and primary KPI, no entry; a prohibited use never.
SUBMISSION_RULES = PolicyRules(
    gate="submission",
    version=1,
    required_functions=(),
    risk_ethics_for_high_risk=True,
    requires_business_case=True,
    requires_primary_kpi=True,
)


@dataclass(frozen=True)
class BusinessCaseFacts:
    budget: Decimal
    expected_annual_benefit: Decimal
    horizon_months: int
    exit_criteria: str
    missed_periods_to_retire: int = 3


@dataclass(frozen=True)
class MeasurementFacts:
    period: dt.date
    value: Decimal
    from_source: bool = False  # measured from the system of record by a connector, not reported


@dataclass(frozen=True)
class ExperimentFacts:
    """An experiment at its latest look; `looks` holds every look, oldest first, when recorded.

    Proportion experiments count successes; mean experiments (time or amount KPIs) carry each
    arm's mean and sample variance, their success counts unused.
    """

    name: str
    control_size: int
    control_successes: int
    treatment_size: int
    treatment_successes: int
    looks: tuple[ProportionLook | MeanLook, ...] = ()
    metric: str = "proportion"
    control_mean: float | None = None
    control_variance: float | None = None
    treatment_mean: float | None = None
    treatment_variance: float | None = None

    def all_looks(self) -> tuple[ProportionLook | MeanLook, ...]:
        if self.looks:
            return self.looks
        if self.metric == Metric.MEAN:
            return (
                MeanLook(
                    self.control_size,
                    mean_figure(self.control_mean),
                    mean_figure(self.control_variance),
                    self.treatment_size,
                    mean_figure(self.treatment_mean),
                    mean_figure(self.treatment_variance),
                ),
            )
        return (
            ProportionLook(
                self.control_size, self.control_successes, self.treatment_size, self.treatment_successes
            ),
        )


@dataclass(frozen=True)
class KPIFacts:
    name: str
    unit: str
    direction: str  # "increase" or "decrease"
    baseline: Decimal | None
    target: Decimal | None
    data_source: str
    is_primary: bool
    measurements: tuple[MeasurementFacts, ...] = ()  # ordered by period
    experiments: tuple[ExperimentFacts, ...] = ()
    plan: PlanFacts | None = None  # the registered experiment plan, if any
    # A guardrail must not degrade beyond its margin (governance/rules/guardrails.py); never primary.
    is_guardrail: bool = False
    non_inferiority_margin: Decimal | None = None

    def meets_target(self, value: Decimal) -> bool:
        if self.target is None:
            raise TypeError(f"{self.name} has no target to meet.")
        return meets_target(self.direction, value, self.target)

    @property
    def latest(self) -> MeasurementFacts | None:
        return self.measurements[-1] if self.measurements else None


@dataclass(frozen=True)
class SignOffFacts:
    function: str
    decision: str
    reviewer_id: int
    signed_at: dt.datetime
    digest: str


@dataclass(frozen=True)
class GateInputs:
    policy: PolicyRules
    risk_tier: str
    uses_personal_data: bool
    pain_point: str
    process_embedding: str
    business_case: BusinessCaseFacts | None
    kpis: tuple[KPIFacts, ...]
    evidence_kinds: frozenset[str]
    signoffs: tuple[SignOffFacts, ...]  # the active (not superseded) sign-offs of the review
    current_digest: str
    open_conditions: tuple[str, ...] = ()
    costs: tuple[MonthlyAmount, ...] = ()
    benefits: tuple[MonthlyAmount, ...] = ()
    pilot_started_on: dt.date | None = None


@dataclass(frozen=True)
class Requirement:
    """One line of a gate's checklist: what is required (label), whether it holds, and why."""

    code: str
    label: Reason
    passed: bool
    reason: Reason


@dataclass(frozen=True)
class GateEvaluation:
    gate: str
    policy_version: int
    requirements: tuple[Requirement, ...] = field(default_factory=tuple)
    # At the pilot gate: the months the registered plans need to show their minimum effects (the
    # longest of them), from which the pilot's deadline is set when it starts; None without one.
    proposed_pilot_months: int | None = None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.requirements)

    @property
    def failing(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.passed)

    def evidence_requirements_passed(self) -> bool:
        """Everything but the sign-offs holds."""
        return all(r.passed for r in self.requirements if not r.code.startswith("signoff:"))


def required_functions(policy: PolicyRules, risk_tier: str) -> tuple[str, ...]:
    """The policy's functions, plus risk & ethics for a high-risk use at a gate that needs sign-off."""
    functions = list(policy.required_functions)
    if (
        functions
        and policy.risk_ethics_for_high_risk
        and risk_tier == RiskTier.HIGH
        and FunctionCode.RISK_ETHICS not in functions
    ):
        functions.append(FunctionCode.RISK_ETHICS)
    return tuple(functions)


def evaluate_gate(inputs: GateInputs, *, now: dt.datetime) -> GateEvaluation:
    policy = inputs.policy
    checks: list[Requirement] = []
    if policy.risk_ethics_for_high_risk:
        checks.append(_risk_tier(inputs))
    if policy.requires_business_case:
        checks.append(_business_case(inputs))
    if policy.requires_primary_kpi:
        checks.append(_primary_kpi(inputs))
    if policy.required_evidence or (inputs.uses_personal_data and policy.personal_data_evidence):
        checks.append(_evidence(inputs))
    if policy.min_measurements:
        checks.append(_measurements(inputs))
    if policy.requires_measured_from_source:
        checks.append(_measured_from_source(inputs))
    if policy.requires_targets_met:
        checks.append(_targets_met(inputs))
    if policy.requires_significant_experiments:
        checks.append(_experiments(inputs))
        checks.append(_experiment_plans(inputs))
        if any(k.is_guardrail for k in inputs.kpis):
            checks.append(_guardrails(inputs))
    months: int | None = None
    if policy.gate == Gate.PILOT and policy.requires_experiment_plan:
        checks.append(_plans_registered(inputs))
    if policy.gate == Gate.PILOT and any(k.plan is not None for k in inputs.kpis):
        requirement, months = _pilot_power(inputs, now)
        checks.append(requirement)
    if policy.requires_positive_roi:
        checks.append(_roi(inputs))
    if policy.requires_conditions_closed:
        checks.append(_conditions(inputs))
    for function in required_functions(policy, inputs.risk_tier):
        checks.append(_signoff(inputs, function, now))
    return GateEvaluation(
        gate=policy.gate,
        policy_version=policy.version,
        requirements=tuple(checks),
        proposed_pilot_months=months,
    )


def _risk_tier(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.risk_tier")
    if inputs.risk_tier == RiskTier.PROHIBITED:
        return Requirement("risk_tier", label, False, Reason.of("risk_tier.prohibited"))
    return Requirement(
        "risk_tier", label, True, Reason.of("risk_tier.allowed", tier=Term("risk_tier", inputs.risk_tier))
    )


def _business_case(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.business_case")
    case = inputs.business_case
    missing = []
    if not inputs.pain_point.strip():
        missing.append("pain_point")
    if not inputs.process_embedding.strip():
        missing.append("process_embedding")
    if case is None:
        missing += ["budget", "expected_annual_benefit", "exit_criteria"]
    else:
        if case.budget <= 0:
            missing.append("budget")
        if case.expected_annual_benefit <= 0:
            missing.append("expected_annual_benefit")
        if not case.exit_criteria.strip():
            missing.append("exit_criteria")
    if missing:
        fields = Listing(tuple(Term("business_case_field", name) for name in missing), joined_by="comma")
        return Requirement("business_case", label, False, Reason.of("business_case.missing", fields=fields))
    return Requirement("business_case", label, True, Reason.of("business_case.complete"))


def _primary_kpi(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.primary_kpi")
    primary = [k for k in inputs.kpis if k.is_primary]
    if not primary:
        return Requirement("primary_kpi", label, False, Reason.of("primary_kpi.none"))
    incomplete = [
        k.name
        for k in primary
        if k.baseline is None
        or k.target is None
        or k.target == k.baseline
        or not k.unit.strip()
        or not k.data_source.strip()
        or k.direction not in Direction.values
    ]
    if incomplete:
        kpis = Listing(tuple(incomplete), joined_by="comma")
        return Requirement("primary_kpi", label, False, Reason.of("primary_kpi.incomplete", kpis=kpis))
    return Requirement("primary_kpi", label, True, Reason.of("primary_kpi.defined", count=len(primary)))


def _evidence(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.evidence")
    needed = list(inputs.policy.required_evidence)
    if inputs.uses_personal_data:
        needed += [k for k in inputs.policy.personal_data_evidence if k not in needed]
    missing = [Term("evidence_kind", k) for k in needed if k not in inputs.evidence_kinds]
    if missing:
        kinds = Listing(tuple(missing), joined_by="comma")
        return Requirement("evidence", label, False, Reason.of("evidence.missing", kinds=kinds))
    return Requirement("evidence", label, True, Reason.of("evidence.complete"))


def _pilot_measurements(kpi: KPIFacts, since: dt.date | None) -> tuple[MeasurementFacts, ...]:
    if since is None:
        return kpi.measurements
    start = since.replace(day=1)
    return tuple(m for m in kpi.measurements if m.period >= start)


def _measurements(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.measurements", count=inputs.policy.min_measurements)
    short = [
        Reason.of(
            "measurements.kpi_has", kpi=k.name, count=len(_pilot_measurements(k, inputs.pilot_started_on))
        )
        for k in inputs.kpis
        if k.is_primary
        and len(_pilot_measurements(k, inputs.pilot_started_on)) < inputs.policy.min_measurements
    ]
    if not any(k.is_primary for k in inputs.kpis):
        return Requirement("measurements", label, False, Reason.of("measurements.no_primary_kpi"))
    if short:
        return Requirement(
            "measurements", label, False, Reason.of("measurements.too_few", kpis=Listing(tuple(short)))
        )
    return Requirement("measurements", label, True, Reason.of("measurements.enough"))


def _measured_from_source(inputs: GateInputs) -> Requirement:
    """Each primary KPI has pilot months measured by its connector and none reported by hand: a
    figure the lead typed cannot carry a Go that the policy wants read from the source."""
    label = Reason.of("requirement.measured_from_source")
    primary = [k for k in inputs.kpis if k.is_primary]
    if not primary:
        return Requirement(
            "measured_from_source", label, False, Reason.of("measured_from_source.no_primary_kpi")
        )
    missing: list[Param] = []
    for kpi in primary:
        months = _pilot_measurements(kpi, inputs.pilot_started_on)
        reported = sum(1 for m in months if not m.from_source)
        if reported:
            missing.append(Reason.of("measured_from_source.reported", kpi=kpi.name, count=reported))
        elif not months:
            missing.append(Reason.of("measured_from_source.none", kpi=kpi.name))
    if missing:
        return Requirement(
            "measured_from_source",
            label,
            False,
            Reason.of("measured_from_source.missing", kpis=Listing(tuple(missing))),
        )
    return Requirement("measured_from_source", label, True, Reason.of("measured_from_source.all"))


def _targets_met(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.targets_met")
    primary = [k for k in inputs.kpis if k.is_primary]
    if not primary:
        return Requirement("targets_met", label, False, Reason.of("targets_met.no_primary_kpi"))
    misses: list[Param] = []
    for kpi in primary:
        latest = kpi.latest
        if kpi.target is None:
            misses.append(Reason.of("kpi.no_target", kpi=kpi.name))
        elif latest is None:
            misses.append(Reason.of("kpi.no_measurement", kpi=kpi.name))
        elif not kpi.meets_target(latest.value):
            misses.append(
                Reason.of(
                    "kpi.target_missed",
                    kpi=kpi.name,
                    latest=_num(latest.value),
                    unit=kpi.unit,
                    period=f"{latest.period:%Y-%m}",
                    target=_num(kpi.target),
                    baseline=_num(kpi.baseline),
                )
            )
    if misses:
        return Requirement(
            "targets_met", label, False, Reason.of("targets_met.missed", kpis=Listing(tuple(misses)))
        )
    return Requirement("targets_met", label, True, Reason.of("targets_met.met"))


LookT = TypeVar("LookT", ProportionLook, MeanLook)


def _looks_of(experiment: ExperimentFacts, kind: type[LookT]) -> tuple[LookT, ...]:
    """Every look of the experiment, each of the kind its metric records."""
    looks = experiment.all_looks()
    of_kind = tuple(look for look in looks if isinstance(look, kind))
    if len(of_kind) != len(looks):
        raise TypeError(f"{experiment.name}: a {experiment.metric} experiment has a look of another kind.")
    return of_kind


def experiment_result(
    experiment: ExperimentFacts, *, confidence: float = 0.95
) -> TwoProportionResult | TwoMeansResult:
    """The fixed-horizon test at the experiment's latest look."""
    if experiment.metric == Metric.MEAN:
        last_mean = _looks_of(experiment, MeanLook)[-1]
        return two_means_test(
            control_size=last_mean.control_size,
            control_mean=last_mean.control_mean,
            control_variance=last_mean.control_variance,
            treatment_size=last_mean.treatment_size,
            treatment_mean=last_mean.treatment_mean,
            treatment_variance=last_mean.treatment_variance,
            confidence=confidence,
        )
    last = _looks_of(experiment, ProportionLook)[-1]
    return two_proportion_test(
        control_size=last.control_size,
        control_successes=last.control_successes,
        treatment_size=last.treatment_size,
        treatment_successes=last.treatment_successes,
        confidence=confidence,
    )


def always_valid_result(experiment: ExperimentFacts, kpi: KPIFacts, *, alpha: float) -> AlwaysValidResult:
    """The always-valid test over every look, tuned to the effect the KPI's target claims."""
    # The control level that scales τ comes from the first look with enough data, like everything
    # else the test decides: a thin first look (0 successes of 60) would otherwise set it.
    if experiment.metric == Metric.MEAN:
        means = _looks_of(experiment, MeanLook)
        first_mean = next((look for look in means if mean_look_has_enough_data(look)), means[-1])
        tau = _tau(kpi, abs(first_mean.control_mean) or 1.0)
        return always_valid_means(means, tau=tau, confidence=1 - alpha)
    counts = _looks_of(experiment, ProportionLook)
    first = next((look for look in counts if proportion_look_has_enough_data(look)), counts[-1])
    level = first.control_successes / first.control_size if first.control_size else 0.0
    return always_valid_proportions(counts, tau=_tau(kpi, level), confidence=1 - alpha)


def _tau(kpi: KPIFacts, level: float) -> float:
    return tau_for_claimed_effect(
        baseline=float(kpi.baseline or 0), target=float(kpi.target or 0), control_level=level or 0.01
    )


def improvement_side(direction: str) -> Term:
    """Where an interval of treatment − control must lie to show an improvement of the KPI."""
    return Term("side", "below_zero" if direction == Direction.DECREASE else "above_zero")


def fixed_horizon_reason(result: TwoProportionResult | TwoMeansResult) -> Reason:
    """The fixed-horizon test's figures: lift, interval, p-value, and whether the sample suffices."""
    relative: Param = (
        Reason.of("test.relative_lift", lift=f"{result.relative_lift:+.1%}")
        if result.relative_lift is not None
        else ""
    )
    figures: dict[str, Param] = {
        "lift": f"{result.lift:+.4f}",
        "relative": relative,
        "confidence": f"{result.confidence:.0%}",
        "low": f"{result.ci_low:+.4f}",
        "high": f"{result.ci_high:+.4f}",
        "p": f"{result.p_value:.4f}",
    }
    if isinstance(result, TwoMeansResult):
        caveat: Param = "" if result.large_sample else Reason.of("test.means_too_few", count=MIN_MEAN_ARM)
        return Reason.of("test.two_means", caveat=caveat, **figures)
    caveat = "" if result.large_sample else Reason.of("test.proportions_too_few", count=MIN_EXPECTED)
    return Reason.of("test.two_proportions", caveat=caveat, **figures)


def always_valid_reason(result: AlwaysValidResult) -> Reason:
    """The always-valid test over every look: its interval and p-value, or why it cannot judge."""
    after = (
        Reason.of("test.after_looks_thin", looks=result.looks, thin=result.looks_without_enough_data)
        if result.looks_without_enough_data
        else Reason.of("test.after_looks", looks=result.looks)
    )
    figures: dict[str, Param] = {
        "after": after,
        "confidence": f"{result.confidence:.0%}",
        "low": f"{result.cs_low:+.4f}",
        "high": f"{result.cs_high:+.4f}",
    }
    caveat: Param = (
        ""
        if result.enough_data
        else Reason.of("test.sequence_too_few", successes=MIN_EXPECTED, observations=MIN_MEAN_ARM)
    )
    if result.contradictory:
        return Reason.of("test.looks_contradict", caveat=caveat, **figures)
    return Reason.of("test.always_valid", caveat=caveat, p=f"{result.p_value:.4f}", **figures)


@dataclass(frozen=True)
class ExperimentVerdict:
    method: str
    significant: bool  # as the method decides
    fixed: TwoProportionResult | TwoMeansResult
    always_valid: AlwaysValidResult
    fixed_significant: bool
    always_valid_significant: bool
    direction: str = "increase"  # the KPI's good direction, which says where an improvement lies

    @property
    def inconclusive(self) -> bool:
        """The deciding test cannot judge: the always-valid looks contradict each other."""
        return self.method == ExperimentMethod.ALWAYS_VALID and self.always_valid.contradictory

    def describe(self) -> Reason:
        fixed_ok = Term("verdict", "significant" if self.fixed_significant else "not_significant")
        if self.always_valid.contradictory:
            valid_ok = Term("verdict", "inconclusive")
        else:
            valid_ok = Term("verdict", "significant" if self.always_valid_significant else "not_significant")
        code = (
            "experiment.decided_always_valid"
            if self.method == ExperimentMethod.ALWAYS_VALID
            else "experiment.decided_fixed_horizon"
        )
        return Reason.of(
            code,
            fixed_ok=fixed_ok,
            fixed=fixed_horizon_reason(self.fixed),
            valid_ok=valid_ok,
            valid=always_valid_reason(self.always_valid),
            direction=Term("direction", self.direction),
            side=improvement_side(self.direction),
        )


def sequence_is_significant(result: AlwaysValidResult, direction: str, alpha: float) -> bool:
    """Significant at alpha, the whole interval on the good side of zero, on enough data, from
    looks that agree with one another (an empty running intersection is never a Go)."""
    lower_bound_of_improvement = result.cs_low if direction == Direction.INCREASE else -result.cs_high
    return (
        result.enough_data
        and not result.contradictory
        and result.p_value < alpha
        and lower_bound_of_improvement > 0
    )


def experiment_verdict(
    experiment: ExperimentFacts,
    kpi: KPIFacts,
    *,
    method: str = ExperimentMethod.FIXED_HORIZON,
    alpha: float = 0.05,
) -> ExperimentVerdict:
    """Both tests on one experiment, and which of them the policy's method lets decide.

    Both intervals are at the policy's level (1 − alpha), so that the interval shown is the one the
    decision rests on: "p < alpha and the whole interval on the improving side of zero" says one
    thing, not two.
    """
    fixed = experiment_result(experiment, confidence=1 - alpha)
    valid = always_valid_result(experiment, kpi, alpha=alpha)
    fixed_ok = improvement_is_significant(fixed, kpi.direction, alpha)
    valid_ok = sequence_is_significant(valid, kpi.direction, alpha)
    return ExperimentVerdict(
        method=method,
        significant=valid_ok if method == ExperimentMethod.ALWAYS_VALID else fixed_ok,
        fixed=fixed,
        always_valid=valid,
        fixed_significant=fixed_ok,
        always_valid_significant=valid_ok,
        direction=kpi.direction,
    )


def improvement_is_significant(
    result: TwoProportionResult | TwoMeansResult, direction: str, alpha: float
) -> bool:
    """Significant at alpha, the whole interval on the good side of zero, on enough data."""
    lower_bound_of_improvement = result.ci_low if direction == Direction.INCREASE else -result.ci_high
    return result.large_sample and result.p_value < alpha and lower_bound_of_improvement > 0


def _experiments(inputs: GateInputs) -> Requirement:
    alpha = inputs.policy.significance_level
    method = inputs.policy.experiment_method
    kind = Term("test", "always_valid" if method == ExperimentMethod.ALWAYS_VALID else "fixed_horizon")
    # A guardrail's experiments show it did not degrade (_guardrails), not an improvement.
    judged = [kpi for kpi in inputs.kpis if not kpi.is_guardrail]
    directions = {kpi.direction for kpi in judged if kpi.experiments}
    side = (
        Reason.of("experiments.interval", side=improvement_side(directions.pop()))
        if len(directions) == 1
        else Reason.of("experiments.interval_either_way")
    )
    label = Reason.of("requirement.experiments", test=kind, alpha=f"{alpha:g}", side=side)
    failures: list[Param] = []
    successes: list[Param] = []
    for kpi in judged:
        for experiment in kpi.experiments:
            verdict = experiment_verdict(experiment, kpi, method=method, alpha=alpha)
            line = Reason.of(
                "experiment.line", experiment=experiment.name, kpi=kpi.name, verdict=verdict.describe()
            )
            (successes if verdict.significant else failures).append(line)
    if failures:
        return Requirement(
            "experiments",
            label,
            False,
            Reason.of("experiments.not_significant", lines=Listing(tuple(failures))),
        )
    if not successes:
        return Requirement("experiments", label, True, Reason.of("experiments.none"))
    return Requirement(
        "experiments", label, True, Reason.of("experiments.significant", lines=Listing(tuple(successes)))
    )


def _experiment_plans(inputs: GateInputs) -> Requirement:
    """Every experiment follows its KPI's registered plan: its arms hold the planned split at every
    look (sequential sample-ratio check), and the plan was not moved after data arrived when the
    policy refuses that. A primary KPI's experiment without a plan supports no Go."""
    refuses_change = inputs.policy.refuses_plan_changed_after_data
    label = Reason.of("requirement.experiment_plan")
    failures: list[Param] = []
    notes: list[Param] = []
    for kpi in inputs.kpis:
        if not kpi.experiments:
            continue
        plan = kpi.plan
        if plan is None:
            if kpi.is_primary:
                failures.append(Reason.of("experiment_plan.none", kpi=kpi.name))
            continue
        if plan.changed_after_data:
            change = Reason.of(
                "experiment_plan.changed_after_data",
                kpi=kpi.name,
                version=plan.version,
                reason=plan.change_reason,
            )
            (failures if refuses_change else notes).append(change)
        for experiment in kpi.experiments:
            looks = tuple((look.control_size, look.treatment_size) for look in experiment.all_looks())
            try:
                result = split_check(plan, looks)
            except ValueError as error:
                failures.append(
                    Reason.of(
                        "sample_ratio.untestable",
                        experiment=experiment.name,
                        kpi=kpi.name,
                        problem=str(error),
                    )
                )
                continue
            (failures if result.mismatch else notes).append(split_reason(experiment.name, kpi.name, result))
    if failures:
        return Requirement(
            "experiment_plan",
            label,
            False,
            Reason.of("experiment_plan.not_followed", lines=Listing(tuple(failures + notes))),
        )
    if not notes:
        return Requirement("experiment_plan", label, True, Reason.of("experiment_plan.no_experiments"))
    return Requirement(
        "experiment_plan", label, True, Reason.of("experiment_plan.followed", lines=Listing(tuple(notes)))
    )


def _guardrails(inputs: GateInputs) -> Requirement:
    """Every guardrail KPI is shown not to degrade beyond its non-inferiority margin: one-sided by
    the always-valid test where it has an A/B experiment (whatever the policy's method, since the
    committee looks every month), else by its latest measurement against baseline ± margin."""
    alpha = inputs.policy.significance_level
    label = Reason.of("requirement.guardrails", alpha=f"{alpha:g}")
    checks = [guardrail_check(k, alpha=alpha) for k in inputs.kpis if k.is_guardrail]
    breached = [c.reason for c in checks if not c.holds]
    if breached:
        return Requirement(
            "guardrails", label, False, Reason.of("guardrails.breached", lines=Listing(tuple(breached)))
        )
    return Requirement(
        "guardrails",
        label,
        True,
        Reason.of("guardrails.hold", lines=Listing(tuple(c.reason for c in checks))),
    )


def _plans_registered(inputs: GateInputs) -> Requirement:
    """Pre-registration: what the pilot must show is pinned before its data can suggest it."""
    label = Reason.of("requirement.plans_registered")
    primary = [k for k in inputs.kpis if k.is_primary]
    missing = tuple(k.name for k in primary if k.plan is None)
    if not primary:
        return Requirement("plans_registered", label, False, Reason.of("plans_registered.no_primary_kpi"))
    if missing:
        return Requirement(
            "plans_registered",
            label,
            False,
            Reason.of("plans_registered.missing", kpis=Listing(missing, joined_by="comma")),
        )
    return Requirement("plans_registered", label, True, Reason.of("plans_registered.all"))


def _pilot_power(inputs: GateInputs, now: dt.datetime) -> tuple[Requirement, int | None]:
    """The pilot gate: each registered plan's traffic can show its minimum effect, and how long that
    takes; the longest reachable duration is the pilot's proposed time box."""
    label = Reason.of("requirement.pilot_power")
    alpha = inputs.policy.significance_level
    today = now.date()
    lines: list[Param] = []
    passed = True
    longest: int | None = None
    for kpi in inputs.kpis:
        plan = kpi.plan
        if plan is None:
            continue
        try:
            duration = plan_duration(
                plan,
                baseline=kpi.baseline,
                target=kpi.target,
                direction=kpi.direction,
                unit=kpi.unit,
                alpha=alpha,
                power=inputs.policy.required_power,
            )
        except ValueError as error:
            passed = False
            lines.append(Reason.of("pilot.plan_unusable", kpi=kpi.name, problem=problem_of(error)))
            continue
        lines.append(duration_reason(kpi.name, kpi.unit, plan, duration, today=today))
        if duration.months is None:
            passed = False
        elif duration.months > plan.planned_looks:
            # The plan stops looking before the effect can show: the pilot would end inconclusive.
            passed = False
            lines.append(
                Reason.of(
                    "pilot.too_few_looks", kpi=kpi.name, looks=plan.planned_looks, months=duration.months
                )
            )
        else:
            longest = max(longest or 0, duration.months)
    reason = Reason.of("pilot_power.lines", lines=Listing(tuple(lines)))
    return Requirement("pilot_power", label, passed, reason), (longest if passed else None)


def _roi(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.roi")
    horizon = inputs.business_case.horizon_months if inputs.business_case else 36
    projection = project_roi(costs=inputs.costs, benefits=inputs.benefits, horizon_months=horizon)
    if projection.roi is None:
        return Requirement("roi", label, False, Reason.of("roi.no_costs"))
    cost, benefit = rounded(projection.projected_cost), rounded(projection.projected_benefit)
    projected = Reason.of(
        "roi.projected",
        roi=percent(projection.roi),
        months=horizon,
        cost=Money(_num(cost)),
        benefit=Money(_num(benefit)),
    )
    # Exact: a break-even is zero, and zero is not positive.
    return Requirement("roi", label, projection.roi > 0, projected)


def _conditions(inputs: GateInputs) -> Requirement:
    label = Reason.of("requirement.conditions")
    if inputs.open_conditions:
        conditions = Listing(tuple(inputs.open_conditions))
        return Requirement("conditions", label, False, Reason.of("conditions.open", conditions=conditions))
    return Requirement("conditions", label, True, Reason.of("conditions.closed"))


def _signoff(inputs: GateInputs, function: str, now: dt.datetime) -> Requirement:
    name = Term("function", function)
    label = Reason.of("requirement.signoff", function=name)
    code = f"signoff:{function}"
    signoff = next((s for s in inputs.signoffs if s.function == function), None)
    if signoff is None:
        return Requirement(code, label, False, Reason.of("signoff.awaiting", function=name))
    if signoff.decision not in APPROVING_DECISIONS:
        refusal = "signoff.rejected" if signoff.decision == Decision.REJECT else "signoff.changes_requested"
        return Requirement(code, label, False, Reason.of(refusal, function=name))
    expires = signoff.signed_at + dt.timedelta(days=inputs.policy.signoff_validity_days)
    if now > expires:
        return Requirement(
            code, label, False, Reason.of("signoff.expired", function=name, expired_on=f"{expires:%Y-%m-%d}")
        )
    if signoff.digest != inputs.current_digest:
        return Requirement(code, label, False, Reason.of("signoff.stale", function=name))
    return Requirement(code, label, True, Reason.of("signoff.approved", function=name))


def _num(value: Decimal | None) -> str:
    if value is None:
        return "?"
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text


def counted_approvals(inputs: GateInputs, evaluation: GateEvaluation) -> tuple[SignOffFacts, ...]:
    passed = {r.code for r in evaluation.requirements if r.passed}
    return tuple(s for s in inputs.signoffs if f"signoff:{s.function}" in passed)


def review_outcome(inputs: GateInputs, evaluation: GateEvaluation) -> str | None:
    """The outcome the sign-offs force, or None while the review stays open.

    Any active reject kills the review; a request for changes recycles it; when every
    requirement holds it is a Go, conditional when an approval carries conditions.
    """
    decisions = {s.decision for s in inputs.signoffs}
    if Decision.REJECT in decisions:
        return Outcome.KILL
    if Decision.REQUEST_CHANGES in decisions:
        return Outcome.RECYCLE
    if evaluation.passed:
        if any(s.decision == Decision.APPROVE_WITH_CONDITIONS for s in counted_approvals(inputs, evaluation)):
            return Outcome.CONDITIONAL_GO
        return Outcome.GO
    return None
