"""Monthly value review: KPI attainment, ROI to date, overdue measurements, a recommendation.

Pure functions over the gate rules' facts (KPIFacts, BusinessCaseFacts, MonthlyAmount); the
selector builds them, the periodic services store and send the result. Months are calendar months
in UTC, represented by their first day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from governance.rules.gates import BusinessCaseFacts, KPIFacts, MeasurementFacts
from governance.rules.roi import MonthlyAmount, RoiProjection, project_roi

# A month's KPI measurements are due by this day of the next month; the value review of a month
# opens from that day, so that it can say which measurements are overdue.
MEASUREMENTS_DUE_DAY = 5

CONTINUE, ADJUST, ESCALATE, RETIRE = "continue", "adjust", "escalate", "retire"


def _num(value: Decimal | None) -> str:
    return "?" if value is None else format(value.normalize(), "f")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


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


def exit_criteria_breaches(
    kpis: tuple[KPIFacts, ...], case: BusinessCaseFacts | None, *, month: dt.date
) -> tuple[ExitBreach, ...]:
    """Primary KPIs whose latest `missed_periods_to_retire` months up to `month` all missed the target."""
    if case is None:
        return ()
    breaches = []
    for kpi in (kpi_as_of(k, month) for k in kpis):
        if not kpi.is_primary or kpi.target is None:
            continue
        run = missed_run(kpi)
        if run.length >= case.missed_periods_to_retire:
            breaches.append(ExitBreach(kpi.name, run.first_period, run.length))
    return tuple(breaches)


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

    def describe(self) -> str:
        if self.latest is None:
            return f"{self.name}: never measured"
        share = f", {self.attainment:.0%} of the planned improvement" if self.attainment is not None else ""
        verdict = "meets" if self.meets_target else "misses"
        return (
            f"{self.name}: {_num(self.latest.value)} {self.unit} in {self.latest.period:%Y-%m} "
            f"{verdict} the target of {_num(self.target)} (baseline {_num(self.baseline)}){share}"
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


@dataclass(frozen=True)
class ValueAssessment:
    month: dt.date
    kpis: tuple[KPIAttainment, ...]
    roi: RoiProjection
    recommendation: str
    reasons: tuple[str, ...]

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


def assess_value(inputs: ValueInputs) -> ValueAssessment:
    """The month's value review and its recommendation, first rule that applies:

    - retire: a primary KPI missed its target for the consecutive months the exit criteria allow;
    - escalate: a KPI's measurement of last month is overdue (no one can judge value unmeasured);
    - adjust: a primary KPI's latest value misses its target, or the projected ROI is not positive;
    - continue: otherwise.
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
) -> tuple[str, tuple[str, ...]]:
    primary = [k for k in lines if k.is_primary]
    allowed = inputs.business_case.missed_periods_to_retire if inputs.business_case else None
    exits = [k for k in primary if allowed and k.missed_run.length >= allowed]
    if exits:
        return RETIRE, tuple(
            f"Exit criteria met: {k.name} missed its target for {k.missed_run.length} consecutive months "
            f"since {k.missed_run.first_period:%Y-%m} (the business case allows {allowed})."
            for k in exits
        )
    overdue = [k for k in lines if k.overdue]
    if overdue:
        return ESCALATE, (
            f"Measurements for {due_period:%Y-%m} are overdue: " + ", ".join(k.name for k in overdue) + ".",
        )
    # A KPI never measured here is not due yet: had it been due, it would be overdue above.
    reasons = [k.describe() + "." for k in primary if k.meets_target is False]
    if roi.roi is not None and roi.roi <= 0:
        reasons.append(
            f"Projected ROI is {roi.roi:.1%} (cost to date {_num(roi.cost_to_date)}, "
            f"benefit to date {_num(roi.benefit_to_date)})."
        )
    if reasons:
        return ADJUST, tuple(reasons)
    if any(k.latest is None for k in primary):
        summary = "No KPI measurement is due yet"
    else:
        summary = "Every primary KPI meets its target"
    if roi.roi is not None:
        summary += f"; the projected ROI is {roi.roi:.1%}"
    return CONTINUE, (summary + ".",)
