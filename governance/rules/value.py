"""Monthly value review: KPI attainment, A/B verdicts, ROI to date, overdue measurements, a
recommendation.

Pure functions over the gate rules' facts (KPIFacts, BusinessCaseFacts, MonthlyAmount) and the
KPIs' experiments with their dated looks; the selector builds them, the periodic services store
and send the result. Months are calendar months in UTC, represented by their first day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from governance.rules.gates import (
    BusinessCaseFacts,
    ExperimentFacts,
    ExperimentVerdict,
    KPIFacts,
    MeasurementFacts,
    experiment_verdict,
)
from governance.rules.guardrails import GuardrailCheck, guardrail_check
from governance.rules.reasons import Listing, Money, Param, Reason, Term
from projects.roi import MonthlyAmount, RoiProjection, percent, project_roi, rounded
from projects.sequential import MeanLook, ProportionLook
from projects.vocabulary import Direction, ExperimentMethod

# A month's KPI measurements are due by this day of the next month; the value review of a month
# opens from that day, so that it can say which measurements are overdue.
MEASUREMENTS_DUE_DAY = 5

CONTINUE, ADJUST, ESCALATE, RETIRE = "continue", "adjust", "escalate", "retire"

# A monthly review looks at the same experiments month after month: repeated peeking by
# construction, under which a fixed-horizon p-value lets a null effect through far more often
# than it claims. Value reviews therefore always judge experiments with the always-valid method,
# whatever a gate policy says, at the scale gate's default level.
EXPERIMENT_ALPHA = 0.05


def _num(value: Decimal | None) -> str:
    return "?" if value is None else format(value.normalize(), "f")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return add_months(month_start(month), 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class MissedRun:
    """The trailing run of consecutive monthly measurements that miss the target."""

    length: int
    first_period: dt.date | None


def missed_run(kpi: KPIFacts) -> MissedRun:
    """Count back from the latest measurement while each month misses the target.

    A month without a measurement ends the run: an unmeasured month is not a miss (it is flagged
    as overdue instead).
    """
    length, first, expected = 0, None, None
    for measurement in reversed(kpi.measurements):
        if expected is not None and measurement.period != expected:
            break
        if kpi.meets_target(measurement.value):
            break
        length, first = length + 1, measurement.period
        expected = add_months(measurement.period, -1)
    return MissedRun(length, first)


@dataclass(frozen=True)
class ExitBreach:
    kpi: str
    first_period: dt.date
    periods: int
    guardrail: bool = False  # a guardrail beyond its margin, rather than a primary KPI off target


def exit_criteria_breaches(
    kpis: tuple[KPIFacts, ...],
    case: BusinessCaseFacts | None,
    *,
    month: dt.date,
    experiments: tuple[KPIExperiment, ...] = (),
) -> tuple[ExitBreach, ...]:
    """Primary KPIs whose latest `missed_periods_to_retire` months up to `month` all missed the
    target, and guardrail KPIs beyond their margin in `month` (a guardrail allows no month beyond it;
    the breach's run counts back over the months it stayed beyond)."""
    breaches = []
    for kpi in kpis:
        if kpi.is_guardrail:
            run = guardrail_breach_run(kpi, experiments, month)
            if run.first_period is not None:
                breaches.append(ExitBreach(kpi.name, run.first_period, run.length, guardrail=True))
    if case is None:
        return tuple(breaches)
    for kpi in (kpi_as_of(k, month) for k in kpis):
        if not kpi.is_primary or kpi.target is None:
            continue
        run = missed_run(kpi)
        if run.first_period is not None and run.length >= case.missed_periods_to_retire:
            breaches.append(ExitBreach(kpi.name, run.first_period, run.length))
    return tuple(breaches)


@dataclass(frozen=True)
class DatedLook:
    """One look at an experiment: the cumulative figures of both arms on `looked_on`."""

    looked_on: dt.date
    figures: ProportionLook | MeanLook


@dataclass(frozen=True)
class KPIExperiment:
    """An A/B experiment on one of the initiative's KPIs, with every recorded look, oldest first."""

    kpi: str  # the KPI's name, unique within an initiative
    name: str
    metric: str  # "proportion" or "mean"
    looks: tuple[DatedLook, ...]

    def as_of(self, month: dt.date) -> KPIExperiment:
        """The experiment as it stood at the end of `month`: later looks are not looked at."""
        last_day = month_end(month)
        return replace(self, looks=tuple(look for look in self.looks if look.looked_on <= last_day))

    def facts(self) -> ExperimentFacts:
        """The gate rules' view of the experiment: its last look as summary, every look kept."""
        looks = tuple(look.figures for look in self.looks)
        last = looks[-1]
        if isinstance(last, MeanLook):
            return ExperimentFacts(
                self.name,
                last.control_size,
                0,
                last.treatment_size,
                0,
                looks=looks,
                metric=self.metric,
                control_mean=last.control_mean,
                control_variance=last.control_variance,
                treatment_mean=last.treatment_mean,
                treatment_variance=last.treatment_variance,
            )
        return ExperimentFacts(
            self.name,
            last.control_size,
            last.control_successes,
            last.treatment_size,
            last.treatment_successes,
            looks=looks,
            metric=self.metric,
        )


def _signed(value: float) -> str:
    return f"{value:+.4f}"


@dataclass(frozen=True)
class ExperimentVerdictLine:
    """An experiment's always-valid verdict as of the review month."""

    kpi: str
    name: str
    direction: str  # the KPI's good direction: "increase" or "decrease"
    looks: int
    verdict: ExperimentVerdict | None  # None when the figures cannot be tested (see `problem`)
    problem: str = ""
    method: str = ExperimentMethod.ALWAYS_VALID

    @property
    def low(self) -> float | None:
        return self.verdict.always_valid.cs_low if self.verdict else None

    @property
    def high(self) -> float | None:
        return self.verdict.always_valid.cs_high if self.verdict else None

    @property
    def significant(self) -> bool:
        """A significant improvement in the KPI's good direction."""
        return bool(self.verdict and self.verdict.always_valid_significant)

    @property
    def conclusively_negative(self) -> bool:
        """The whole always-valid interval lies on the KPI's bad side of zero, on enough data."""
        if self.verdict is None:
            return False
        result = self.verdict.always_valid
        upper_bound_of_improvement = (
            result.cs_high if self.direction == Direction.INCREASE else -result.cs_low
        )
        return (
            result.enough_data
            and not result.contradictory
            and result.p_value < EXPERIMENT_ALPHA
            and upper_bound_of_improvement < 0
        )

    @property
    def contradictory(self) -> bool:
        """The looks' always-valid intervals have no value in common: no verdict either way."""
        return bool(self.verdict and self.verdict.always_valid.contradictory)

    @property
    def after_looks(self) -> Reason:
        return Reason.of("value.after_looks", looks=self.looks)

    @property
    def interval(self) -> Reason:
        """The always-valid interval of treatment − control, as the committee reads it."""
        if self.verdict is None:
            raise AttributeError(f"{self.name} has no verdict, so no interval: {self.problem}")
        result = self.verdict.always_valid
        figures = {
            "confidence": f"{result.confidence:.0%}",
            "low": _signed(result.cs_low),
            "high": _signed(result.cs_high),
        }
        if result.contradictory:
            return Reason.of("value.latest_interval_alone", **figures)
        return Reason.of("value.interval", **figures)

    @property
    def summary(self) -> Reason:
        """What the experiment shows, without its name."""
        if self.verdict is None:
            return Reason.of("value.experiment_untestable", problem=self.problem)
        if self.contradictory:
            outcome = "value.experiment_inconclusive"
        elif self.conclusively_negative:
            outcome = "value.experiment_negative"
        elif self.significant:
            outcome = "value.experiment_significant"
        else:
            outcome = "value.experiment_not_yet_conclusive"
        too_few: Param = "" if self.verdict.always_valid.enough_data else Reason.of("value.too_few_so_far")
        return Reason.of(
            "value.experiment_summary",
            outcome=Reason.of(outcome, after=self.after_looks),
            interval=self.interval,
            caveat=too_few,
        )


def guardrail_as_of(
    kpi: KPIFacts, experiments: tuple[KPIExperiment, ...], month: dt.date
) -> GuardrailCheck | None:
    """A guardrail KPI judged on its measurements and experiment looks up to the end of `month`;
    None while there is nothing to judge it on (an unmeasured month is flagged as overdue)."""
    seen = tuple(e.as_of(month) for e in experiments if e.kpi == kpi.name)
    facts = tuple(e.facts() for e in seen if e.looks)
    kpi = replace(kpi_as_of(kpi, month), experiments=facts)
    if not facts and kpi.latest is None:
        return None
    return guardrail_check(kpi, alpha=EXPERIMENT_ALPHA)


# How far back a guardrail's run of months beyond its margin is counted.
_LONGEST_BREACH_RUN = 120


def guardrail_breach_run(kpi: KPIFacts, experiments: tuple[KPIExperiment, ...], month: dt.date) -> MissedRun:
    """The trailing run of months, up to `month`, at whose end the guardrail was shown beyond its
    margin (GuardrailCheck.breached).

    Its first month keys the breach, so a guardrail that stays beyond is one breach, not one a month.
    """
    length, first, current = 0, None, month_start(month)
    while length < _LONGEST_BREACH_RUN:
        check = guardrail_as_of(kpi, experiments, current)
        if check is None or not check.breached:
            break
        length, first = length + 1, current
        current = add_months(current, -1)
    return MissedRun(length, first)


def experiment_verdict_line(experiment: KPIExperiment, kpi: KPIFacts) -> ExperimentVerdictLine:
    """The always-valid verdict on an experiment that has at least one look."""
    line = ExperimentVerdictLine(
        kpi=kpi.name, name=experiment.name, direction=kpi.direction, looks=len(experiment.looks), verdict=None
    )
    try:
        verdict = experiment_verdict(
            experiment.facts(), kpi, method=ExperimentMethod.ALWAYS_VALID, alpha=EXPERIMENT_ALPHA
        )
    except (ValueError, TypeError, ZeroDivisionError) as error:  # e.g. an arm without observations
        return replace(line, problem=str(error))
    return replace(line, verdict=verdict)


@dataclass(frozen=True)
class KPIAttainment:
    name: str
    unit: str
    is_primary: bool
    baseline: Decimal | None
    target: Decimal | None
    latest: MeasurementFacts | None
    attainment: Decimal | None  # share of the planned improvement (baseline → target) achieved
    meets_target: bool | None
    missed_run: MissedRun
    overdue: bool
    experiments: tuple[ExperimentVerdictLine, ...] = ()  # those with a look by the end of the month
    # A guardrail KPI's judgement as of the month; None for other KPIs and before any data.
    guardrail: GuardrailCheck | None = None

    @property
    def guardrail_breached(self) -> bool:
        return self.guardrail is not None and self.guardrail.breached

    def describe(self) -> Reason:
        if self.latest is None:
            return Reason.of("value.kpi_never_measured", kpi=self.name)
        share: Param = (
            Reason.of("value.share_of_improvement", share=f"{self.attainment:.0%}")
            if self.attainment is not None
            else ""
        )
        return Reason.of(
            "value.kpi_meets" if self.meets_target else "value.kpi_misses",
            kpi=self.name,
            latest=_num(self.latest.value),
            unit=self.unit,
            period=f"{self.latest.period:%Y-%m}",
            target=_num(self.target),
            baseline=_num(self.baseline),
            share=share,
        )


@dataclass(frozen=True)
class ValueInputs:
    stage: str
    month: dt.date  # the month of the review
    measurements_expected_from: dt.date | None  # first month a measurement is due; None: always
    kpis: tuple[KPIFacts, ...]
    business_case: BusinessCaseFacts | None
    costs: tuple[MonthlyAmount, ...] = ()
    benefits: tuple[MonthlyAmount, ...] = ()
    experiments: tuple[KPIExperiment, ...] = ()  # every look, later months' included


@dataclass(frozen=True)
class ValueAssessment:
    month: dt.date
    kpis: tuple[KPIAttainment, ...]
    roi: RoiProjection
    recommendation: str
    reasons: tuple[Reason, ...]

    @property
    def overdue_kpis(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kpis if k.overdue)


def attainment(kpi: KPIFacts, latest: MeasurementFacts | None) -> Decimal | None:
    if latest is None or kpi.baseline is None or kpi.target is None or kpi.target == kpi.baseline:
        return None
    return (latest.value - kpi.baseline) / (kpi.target - kpi.baseline)


def kpi_as_of(kpi: KPIFacts, month: dt.date) -> KPIFacts:
    """The KPI as it stood in `month`: later measurements are not looked at."""
    return replace(kpi, measurements=tuple(m for m in kpi.measurements if m.period <= month))


def experiments_as_of(
    experiments: tuple[KPIExperiment, ...], kpi: KPIFacts, month: dt.date
) -> tuple[ExperimentVerdictLine, ...]:
    """The always-valid verdicts on `kpi`'s experiments from the looks up to the end of `month`.

    An experiment without a look by then had not started as far as that month knows.
    """
    seen = (e.as_of(month) for e in experiments if e.kpi == kpi.name)
    return tuple(experiment_verdict_line(e, kpi) for e in seen if e.looks)


def assess_value(inputs: ValueInputs) -> ValueAssessment:
    """The month's value review and its recommendation, first rule that applies:

    - retire: a primary KPI missed its target for the consecutive months the exit criteria allow,
      or a guardrail KPI is shown beyond its non-inferiority margin (governance/rules/guardrails.py:
      its latest measurement, or an experiment's always-valid interval wholly beyond the margin);
    - escalate: a KPI's measurement of last month is overdue (no one can judge value unmeasured);
    - adjust: a primary KPI's latest value misses its target, the projected ROI is not positive,
      or an A/B experiment on any KPI is conclusively negative (its always-valid interval lies
      entirely on the KPI's bad side of zero) or inconclusive because its looks contradict each
      other (their always-valid intervals have no value in common);
    - continue: otherwise.

    A/B experiments are judged by the always-valid method only, on the looks dated up to the end
    of the review month: the committee looks every month, and a fixed-horizon test would let a
    null effect through at one look or another. A primary KPI that meets its target while an
    experiment on it is not yet significant is reported among the reasons (under adjust and
    continue) and changes nothing else: the measured gain may not be the initiative's doing, but
    absence of proof is not proof of harm.
    """
    due_period = add_months(inputs.month, -1)
    expected = inputs.measurements_expected_from is None or inputs.measurements_expected_from <= due_period
    kpis = tuple(kpi_as_of(k, inputs.month) for k in inputs.kpis)
    lines = []
    for kpi in kpis:
        latest = kpi.latest
        lines.append(
            KPIAttainment(
                name=kpi.name,
                unit=kpi.unit,
                is_primary=kpi.is_primary,
                baseline=kpi.baseline,
                target=kpi.target,
                latest=latest,
                attainment=attainment(kpi, latest),
                meets_target=None if latest is None or kpi.target is None else kpi.meets_target(latest.value),
                missed_run=missed_run(kpi) if kpi.target is not None else MissedRun(0, None),
                overdue=expected and not any(m.period == due_period for m in kpi.measurements),
                experiments=experiments_as_of(inputs.experiments, kpi, inputs.month),
                guardrail=guardrail_as_of(kpi, inputs.experiments, inputs.month)
                if kpi.is_guardrail
                else None,
            )
        )
    horizon = inputs.business_case.horizon_months if inputs.business_case else 36
    roi = project_roi(
        costs=[c for c in inputs.costs if c.month <= inputs.month],
        benefits=[b for b in inputs.benefits if b.month <= inputs.month],
        horizon_months=horizon,
    )
    recommendation, reasons = _recommend(inputs, tuple(lines), roi, due_period)
    return ValueAssessment(
        month=inputs.month, kpis=tuple(lines), roi=roi, recommendation=recommendation, reasons=reasons
    )


def _recommend(
    inputs: ValueInputs, lines: tuple[KPIAttainment, ...], roi: RoiProjection, due_period: dt.date
) -> tuple[str, tuple[Reason, ...]]:
    primary = [k for k in lines if k.is_primary]
    allowed = inputs.business_case.missed_periods_to_retire if inputs.business_case else None
    exits = [k for k in primary if allowed and k.missed_run.length >= allowed]
    # A guardrail beyond its margin retires like a primary KPI out of its exit criteria: the
    # initiative does harm the business case never priced in.
    # An experiment that cannot yet show the guardrail holds is no breach: only one shown beyond.
    breached = [k.guardrail for k in lines if k.guardrail is not None and k.guardrail.breached]
    if exits or breached:
        return RETIRE, (
            *(
                Reason.of(
                    "value.exit_criteria_met",
                    kpi=k.name,
                    months=k.missed_run.length,
                    since=f"{k.missed_run.first_period:%Y-%m}",
                    allowed=allowed or 0,
                )
                for k in exits
            ),
            *(Reason.of("value.guardrail_breached", check=check.reason) for check in breached),
        )
    overdue = [k for k in lines if k.overdue]
    if overdue:
        kpis = Listing(tuple(k.name for k in overdue), joined_by="comma")
        return ESCALATE, (Reason.of("value.measurements_overdue", period=f"{due_period:%Y-%m}", kpis=kpis),)
    # A KPI never measured here is not due yet: had it been due, it would be overdue above.
    reasons = [Reason.of("value.sentence", text=k.describe()) for k in primary if k.meets_target is False]
    if roi.roi is not None and roi.roi <= 0:
        reasons.append(
            Reason.of(
                "value.roi_not_positive",
                roi=percent(roi.roi),
                cost=Money(_num(rounded(roi.cost_to_date))),
                benefit=Money(_num(rounded(roi.benefit_to_date))),
            )
        )
    reasons += [
        Reason.of(
            "value.experiment_negative_reason",
            experiment=e.name,
            kpi=e.kpi,
            after=e.after_looks,
            interval=e.interval,
            direction=Term("direction", e.direction),
        )
        for k in lines
        for e in k.experiments
        if e.conclusively_negative
    ]
    # Looks that contradict each other judge nothing, yet say the effect moved or the experiment
    # broke its assumptions: the committee has to look at it rather than read a note.
    reasons += [
        Reason.of("value.experiment_broken", experiment=e.name, kpi=e.kpi, summary=e.summary)
        for k in lines
        for e in k.experiments
        if e.contradictory
    ]
    unproven = _unproven_gains(primary)
    if reasons:
        return ADJUST, (*reasons, *unproven)
    state = "value.no_measurement_due" if any(k.latest is None for k in primary) else "value.every_target_met"
    roi_clause: Param = (
        "" if roi.roi is None else Reason.of("value.projected_roi_clause", roi=percent(roi.roi))
    )
    return CONTINUE, (Reason.of(state, roi=roi_clause), *unproven)


def _unproven_gains(primary: list[KPIAttainment]) -> list[Reason]:
    """Primary KPIs on target whose experiment cannot yet tell the gain from chance."""
    notes = []
    for kpi in primary:
        if not kpi.meets_target:
            continue
        for e in kpi.experiments:
            if e.verdict is None or e.significant or e.conclusively_negative or e.contradictory:
                continue
            notes.append(Reason.of("value.gain_unproven", kpi=kpi.name, experiment=e.name, summary=e.summary))
    return notes
