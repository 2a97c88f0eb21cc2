"""Return on investment and payback from monthly costs and benefits.

Computed exactly, in fractions: a run rate is a third of three months' amounts, and a rounded third
summed over a horizon can tip an exact break-even into a "positive" ROI or move payback by a month.
The figures are rounded only where a person reads them (`percent`, `rounded`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ZERO = Fraction(0)
RUN_RATE_MONTHS = 3


@dataclass(frozen=True)
class MonthlyAmount:
    month: dt.date  # first day of the month
    amount: Decimal


@dataclass(frozen=True)
class RoiProjection:
    """Exact figures; `percent` and `rounded` turn them into what a person reads."""

    cost_to_date: Fraction
    benefit_to_date: Fraction
    projected_cost: Fraction
    projected_benefit: Fraction
    roi: Fraction | None  # (benefit - cost) / cost over the horizon; None when nothing was spent
    payback_month: int | None  # 1-based month in which cumulative benefit first covers cost
    months_recorded: int

    @property
    def roi_to_date(self) -> Fraction | None:
        if self.cost_to_date == 0:
            return None
        return (self.benefit_to_date - self.cost_to_date) / self.cost_to_date


def rounded(value: Fraction | Decimal, places: int = 2) -> Decimal:
    """`value` as a decimal of `places` places, rounded half to even (as Decimal.quantize)."""
    scaled = round(value * 10**places)
    return Decimal(f"{scaled}E-{places}")


def percent(ratio: Fraction) -> str:
    """`ratio` as a percentage to one decimal, written as format(Decimal(ratio), ".1%") writes it:
    rounded half to even, and a negative ratio that rounds to zero keeps its sign (-0.0%)."""
    tenths = round(abs(ratio) * 1000)
    sign = "-" if ratio < 0 else ""
    return f"{sign}{tenths // 10}.{tenths % 10}%"


def _month_index(month: dt.date, start: dt.date) -> int:
    return (month.year - start.year) * 12 + month.month - start.month


def _exact(amount: Decimal | int | Fraction) -> Fraction:
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValueError(f"Amounts must be finite and not negative: {amount}.")
    value = Fraction(amount)
    if value < 0:
        raise ValueError(f"Amounts must be finite and not negative: {amount}.")
    return value


def _by_month(entries: Iterable[tuple[dt.date, Fraction]], start: dt.date, months: int) -> list[Fraction]:
    totals = [ZERO] * months
    for month, amount in entries:
        totals[_month_index(month, start)] += amount
    return totals


def project_roi(
    *, costs: Iterable[MonthlyAmount], benefits: Iterable[MonthlyAmount], horizon_months: int
) -> RoiProjection:
    """Project ROI over the business case's horizon.

    The recorded months count as they are; each remaining month of the horizon repeats the
    average of the last three calendar months of the record (the run rate), costs and benefits
    alike. A month inside the record with no entry counts as zero: a benefit that dried up
    lowers the projection, as it should.
    """
    if horizon_months < 1:
        raise ValueError("The horizon must be at least one month.")
    cost_entries = [(e.month, _exact(e.amount)) for e in costs]
    benefit_entries = [(e.month, _exact(e.amount)) for e in benefits]
    months = [month for month, _ in (*cost_entries, *benefit_entries)]
    if not months:
        return RoiProjection(ZERO, ZERO, ZERO, ZERO, None, None, 0)

    start = min(months)
    recorded = _month_index(max(months), start) + 1
    monthly_cost = _by_month(cost_entries, start, recorded)
    monthly_benefit = _by_month(benefit_entries, start, recorded)

    window = min(RUN_RATE_MONTHS, recorded)
    cost_rate = sum(monthly_cost[-window:], ZERO) / window
    benefit_rate = sum(monthly_benefit[-window:], ZERO) / window
    remaining = max(horizon_months - recorded, 0)
    monthly_cost += [cost_rate] * remaining
    monthly_benefit += [benefit_rate] * remaining

    payback = None
    cumulative_cost = cumulative_benefit = ZERO
    for index, (cost, benefit) in enumerate(zip(monthly_cost, monthly_benefit, strict=True)):
        cumulative_cost += cost
        cumulative_benefit += benefit
        if cumulative_cost > 0 and cumulative_benefit >= cumulative_cost:
            payback = index + 1
            break

    cost_to_date = sum(monthly_cost[:recorded], ZERO)
    benefit_to_date = sum(monthly_benefit[:recorded], ZERO)
    projected_cost = cost_to_date + cost_rate * remaining
    projected_benefit = benefit_to_date + benefit_rate * remaining
    roi = None if projected_cost == 0 else (projected_benefit - projected_cost) / projected_cost
    return RoiProjection(
        cost_to_date=cost_to_date,
        benefit_to_date=benefit_to_date,
        projected_cost=projected_cost,
        projected_benefit=projected_benefit,
        roi=roi,
        payback_month=payback,
        months_recorded=recorded,
    )
