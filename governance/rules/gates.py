"""Gate evaluation: every requirement of a gate policy, each with passed/failed and a reason.

Hand-written because the gate rules are ValueGate's own: no library knows them. Pure functions
over frozen dataclasses; selectors build the inputs, services act on the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

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
    Metric,
    Outcome,
    RiskTier,
    function_name,
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
    code: str
    label: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class GateEvaluation:
    gate: str
    policy_version: int
    requirements: tuple[Requirement, ...] = field(default_factory=tuple)

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
    if policy.requires_targets_met:
        checks.append(_targets_met(inputs))
    if policy.requires_significant_experiments:
        checks.append(_experiments(inputs))
    if policy.requires_positive_roi:
        checks.append(_roi(inputs))
    if policy.requires_conditions_closed:
        checks.append(_conditions(inputs))
    for function in required_functions(policy, inputs.risk_tier):
        checks.append(_signoff(inputs, function, now))
    return GateEvaluation(gate=policy.gate, policy_version=policy.version, requirements=tuple(checks))


def _risk_tier(inputs: GateInputs) -> Requirement:
    label = "Risk tier allows the use"
    if inputs.risk_tier == RiskTier.PROHIBITED:
        return Requirement(
            "risk_tier", label, False, "The risk tier is prohibited: this use can never pass a gate."
        )
    return Requirement("risk_tier", label, True, f"Risk tier is {inputs.risk_tier}.")


def _business_case(inputs: GateInputs) -> Requirement:
    label = "Business case complete"
    case = inputs.business_case
    missing = []
    if not inputs.pain_point.strip():
        missing.append("business pain point")
    if not inputs.process_embedding.strip():
        missing.append("process it embeds in")
    if case is None:
        missing += ["budget", "expected annual benefit", "exit criteria"]
    else:
        if case.budget <= 0:
            missing.append("budget")
        if case.expected_annual_benefit <= 0:
            missing.append("expected annual benefit")
        if not case.exit_criteria.strip():
            missing.append("exit criteria")
    if missing:
        return Requirement("business_case", label, False, "Missing: " + ", ".join(missing) + ".")
    return Requirement(
        "business_case", label, True, "Pain point, process, budget, benefit and exit criteria are recorded."
    )


def _primary_kpi(inputs: GateInputs) -> Requirement:
    label = "Primary KPI with baseline and target"
    primary = [k for k in inputs.kpis if k.is_primary]
    if not primary:
        return Requirement("primary_kpi", label, False, "No primary KPI is defined.")
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
        return Requirement(
            "primary_kpi",
            label,
            False,
            "Incomplete primary KPI (baseline, target, unit, direction, data source): "
            + ", ".join(incomplete)
            + ".",
        )
    return Requirement("primary_kpi", label, True, f"{len(primary)} primary KPI(s) fully defined.")


def _evidence(inputs: GateInputs) -> Requirement:
    label = "Required evidence submitted"
    needed = list(inputs.policy.required_evidence)
    if inputs.uses_personal_data:
        needed += [k for k in inputs.policy.personal_data_evidence if k not in needed]
    missing = [k.replace("_", " ") for k in needed if k not in inputs.evidence_kinds]
    if missing:
        return Requirement("evidence", label, False, "Missing evidence: " + ", ".join(missing) + ".")
    return Requirement("evidence", label, True, "All required evidence is on file.")


def _pilot_measurements(kpi: KPIFacts, since: dt.date | None) -> tuple[MeasurementFacts, ...]:
    if since is None:
        return kpi.measurements
    start = since.replace(day=1)
    return tuple(m for m in kpi.measurements if m.period >= start)


def _measurements(inputs: GateInputs) -> Requirement:
    label = f"Each primary KPI measured at least {inputs.policy.min_measurements} times during the pilot"
    short = [
        f"{k.name} has {len(_pilot_measurements(k, inputs.pilot_started_on))}"
        for k in inputs.kpis
        if k.is_primary
        and len(_pilot_measurements(k, inputs.pilot_started_on)) < inputs.policy.min_measurements
    ]
    if not any(k.is_primary for k in inputs.kpis):
        return Requirement("measurements", label, False, "No primary KPI to measure.")
    if short:
        return Requirement("measurements", label, False, "Too few measurements: " + "; ".join(short) + ".")
    return Requirement("measurements", label, True, "Every primary KPI has enough measurements.")


def _targets_met(inputs: GateInputs) -> Requirement:
    label = "Latest value of each primary KPI meets its target"
    primary = [k for k in inputs.kpis if k.is_primary]
    if not primary:
        return Requirement("targets_met", label, False, "No primary KPI to compare with its target.")
    misses = []
    for kpi in primary:
        latest = kpi.latest
        if kpi.target is None:
            misses.append(f"{kpi.name} has no target")
        elif latest is None:
            misses.append(f"{kpi.name} has no measurement")
        elif not kpi.meets_target(latest.value):
            misses.append(
                f"{kpi.name} is {_num(latest.value)} {kpi.unit} ({latest.period:%Y-%m}) "
                f"against a target of {_num(kpi.target)} {kpi.unit} (baseline {_num(kpi.baseline)})"
            )
    if misses:
        return Requirement("targets_met", label, False, "Target missed: " + "; ".join(misses) + ".")
    return Requirement("targets_met", label, True, "Every primary KPI meets its target.")


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


def improvement_side(direction: str) -> str:
    """Where an interval of treatment − control must lie to show an improvement of the KPI."""
    return "below zero" if direction == Direction.DECREASE else "above zero"


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

    def describe(self) -> str:
        fixed_ok = "significant" if self.fixed_significant else "not significant"
        if self.always_valid.contradictory:
            valid_ok = "inconclusive"
        else:
            valid_ok = "significant" if self.always_valid_significant else "not significant"
        valid_text = self.always_valid.describe()
        side = (
            f"treatment − control; the KPI should {self.direction}, so an improvement is an interval "
            f"{improvement_side(self.direction)}"
        )
        if self.method == ExperimentMethod.ALWAYS_VALID:
            return (
                f"decided by the always-valid test, which stays valid however often the committee looks: "
                f"{valid_ok} ({valid_text}); for comparison, the fixed-horizon test, "
                f"valid for a single planned look only: {fixed_ok} ({self.fixed.describe()}); {side}"
            )
        return (
            f"decided by the fixed-horizon test, valid for a single planned look: {fixed_ok} "
            f"({self.fixed.describe()}); the always-valid test would say {valid_ok} ({valid_text}); {side}"
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
    kind = "always-valid" if method == ExperimentMethod.ALWAYS_VALID else "fixed-horizon"
    directions = {kpi.direction for kpi in inputs.kpis if kpi.experiments}
    if len(directions) == 1:
        side = "interval " + improvement_side(directions.pop())
    else:
        side = "interval above zero for a KPI that should increase, below zero for one that should decrease"
    label = f"A/B experiments show a significant improvement ({kind} test, p < {alpha:g}, {side})"
    failures: list[str] = []
    successes: list[str] = []
    for kpi in inputs.kpis:
        for experiment in kpi.experiments:
            verdict = experiment_verdict(experiment, kpi, method=method, alpha=alpha)
            line = f"{experiment.name} on {kpi.name}: {verdict.describe()}"
            (successes if verdict.significant else failures).append(line)
    if failures:
        return Requirement("experiments", label, False, "Not significant: " + "; ".join(failures) + ".")
    if not successes:
        return Requirement("experiments", label, True, "No A/B experiment recorded; nothing to test.")
    return Requirement("experiments", label, True, "Significant: " + "; ".join(successes) + ".")


def _roi(inputs: GateInputs) -> Requirement:
    label = "Projected ROI is positive"
    horizon = inputs.business_case.horizon_months if inputs.business_case else 36
    projection = project_roi(costs=inputs.costs, benefits=inputs.benefits, horizon_months=horizon)
    if projection.roi is None:
        return Requirement("roi", label, False, "No costs recorded: ROI cannot be projected.")
    cost, benefit = rounded(projection.projected_cost), rounded(projection.projected_benefit)
    text = (
        f"Projected ROI {percent(projection.roi)} over {horizon} months "
        f"(cost {_num(cost)}, benefit {_num(benefit)})."
    )
    # Exact: a break-even is zero, and zero is not positive.
    return Requirement("roi", label, projection.roi > 0, text)


def _conditions(inputs: GateInputs) -> Requirement:
    label = "Conditions of earlier approvals closed"
    if inputs.open_conditions:
        return Requirement(
            "conditions", label, False, "Open conditions: " + "; ".join(inputs.open_conditions) + "."
        )
    return Requirement("conditions", label, True, "No open condition.")


def _signoff(inputs: GateInputs, function: str, now: dt.datetime) -> Requirement:
    name = function_name(function)
    label = f"Sign-off: {name}"
    code = f"signoff:{function}"
    signoff = next((s for s in inputs.signoffs if s.function == function), None)
    if signoff is None:
        return Requirement(code, label, False, f"Awaiting the {name} sign-off.")
    if signoff.decision not in APPROVING_DECISIONS:
        verb = "rejected" if signoff.decision == Decision.REJECT else "requested changes"
        return Requirement(code, label, False, f"The {name} reviewer {verb}.")
    expires = signoff.signed_at + dt.timedelta(days=inputs.policy.signoff_validity_days)
    if now > expires:
        return Requirement(
            code, label, False, f"The {name} approval expired on {expires:%Y-%m-%d}; sign again."
        )
    if signoff.digest != inputs.current_digest:
        return Requirement(
            code,
            label,
            False,
            f"The {name} approval is stale: a fact the gate reads (evidence, KPIs, experiments, costs and "
            "benefits, business case or open conditions) changed after it was signed; sign again.",
        )
    return Requirement(code, label, True, f"Approved by {name}.")


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
