"""ROI and payback projected from monthly costs and benefits (pure, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.roi import MonthlyAmount, percent, project_roi, rounded

D = Decimal


def month(index: int) -> dt.date:
    """Month `index` counted from January 2024 (0-based), as the first day of that month."""
    return dt.date(2024 + index // 12, index % 12 + 1, 1)


def entries(amounts_by_month: dict[int, str | Decimal]) -> list[MonthlyAmount]:
    return [MonthlyAmount(month(i), D(amount)) for i, amount in amounts_by_month.items()]


# --- worked examples -----------------------------------------------------------------------------


def test_nothing_recorded_gives_no_projection():
    projection = project_roi(costs=[], benefits=[], horizon_months=36)

    assert projection.roi is None
    assert projection.payback_month is None
    assert projection.months_recorded == 0
    assert projection.projected_cost == projection.projected_benefit == 0
    assert projection.roi_to_date is None


def test_break_even_project_has_zero_roi_and_pays_back_when_benefit_catches_up():
    # Months 1-3: cost 3000, 0, 0 and benefit 0, 1500, 1500; run rate 1000 each afterwards.
    projection = project_roi(
        costs=entries({0: "3000"}),
        benefits=entries({1: "1500", 2: "1500"}),
        horizon_months=6,
    )

    assert projection.months_recorded == 3
    assert projection.cost_to_date == 3000
    assert projection.benefit_to_date == 3000
    assert projection.projected_cost == 6000  # 3000 + 3 months at 1000
    assert projection.projected_benefit == 6000
    assert projection.roi == 0
    assert projection.roi_to_date == 0
    assert projection.payback_month == 3


def test_project_that_never_covers_its_running_cost_has_negative_roi_and_no_payback():
    # Costs 1000 a month; benefits 0, 500, 1500 -> benefit run rate 2000/3 < cost run rate 1000.
    projection = project_roi(
        costs=entries({0: "1000", 1: "1000", 2: "1000"}),
        benefits=entries({1: "500", 2: "1500"}),
        horizon_months=12,
    )

    assert projection.projected_cost == 12_000
    assert projection.projected_benefit == 8000  # exactly: 2000 + 9 months at 2000/3
    assert projection.roi == Fraction(-1, 3)
    assert projection.payback_month is None


def test_run_rate_is_the_average_of_the_last_three_recorded_months():
    # Costs 100, 100, 400, 400, 400 then run rate 400; benefits 0, 0, 0, 900, 1200 -> rate 700.
    projection = project_roi(
        costs=entries({0: "100", 1: "100", 2: "400", 3: "400", 4: "400"}),
        benefits=entries({3: "900", 4: "1200"}),
        horizon_months=10,
    )

    assert projection.months_recorded == 5
    assert projection.cost_to_date == 1400
    assert projection.benefit_to_date == 2100
    assert projection.projected_cost == 1400 + 5 * 400
    assert projection.projected_benefit == 2100 + 5 * 700
    assert projection.roi == Fraction(5600 - 3400, 3400)
    # Cumulative cost 100,200,600,1000,1400,1800,2200,2600 vs benefit 0,0,0,900,2100,2800,3500,...
    assert projection.payback_month == 5


def test_months_without_entries_inside_the_record_count_as_zero():
    projection = project_roi(
        costs=entries({0: "300", 3: "300"}),  # nothing recorded for months 2 and 3
        benefits=entries({3: "600"}),
        horizon_months=4,
    )

    assert projection.months_recorded == 4
    assert projection.projected_cost == 600
    assert projection.projected_benefit == 600
    assert projection.roi == 0
    assert projection.payback_month == 4


def test_fewer_than_three_recorded_months_use_what_there_is():
    projection = project_roi(costs=entries({0: "100", 1: "300"}), benefits=[], horizon_months=4)

    assert projection.projected_cost == 400 + 2 * 200


def test_several_entries_in_one_month_add_up():
    projection = project_roi(
        costs=[MonthlyAmount(month(0), D("100")), MonthlyAmount(month(0), D("50.25"))],
        benefits=[MonthlyAmount(month(0), D("200")), MonthlyAmount(month(0), D("0.75"))],
        horizon_months=1,
    )

    assert projection.cost_to_date == D("150.25")
    assert projection.benefit_to_date == D("200.75")
    assert projection.payback_month == 1


def test_a_record_longer_than_the_horizon_projects_nothing_more():
    projection = project_roi(
        costs=entries({0: "100", 1: "100", 2: "100"}), benefits=entries({2: "500"}), horizon_months=2
    )

    assert projection.months_recorded == 3
    assert projection.projected_cost == projection.cost_to_date == 300
    assert projection.projected_benefit == projection.benefit_to_date == 500


def test_the_record_starts_at_its_earliest_month_whichever_list_it_is_in():
    projection = project_roi(costs=entries({5: "100"}), benefits=entries({2: "10"}), horizon_months=4)

    assert projection.months_recorded == 4
    assert projection.cost_to_date == 100
    assert projection.projected_cost == 100


def test_benefits_without_costs_give_no_roi():
    projection = project_roi(costs=[], benefits=entries({0: "1000"}), horizon_months=12)

    assert projection.roi is None
    assert projection.roi_to_date is None
    assert projection.payback_month is None


def test_zero_costs_give_no_roi_and_no_payback():
    projection = project_roi(costs=entries({0: "0"}), benefits=entries({0: "0"}), horizon_months=12)

    assert projection.roi is None
    assert projection.payback_month is None


def test_accepts_any_iterable_once():
    costs = iter(entries({0: "100"}))
    benefits = iter(entries({0: "300"}))

    projection = project_roi(costs=costs, benefits=benefits, horizon_months=2)

    assert projection.roi == 2


# --- refused input -------------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [0, -12])
def test_a_horizon_under_one_month_is_refused(horizon):
    with pytest.raises(ValueError, match="horizon"):
        project_roi(costs=entries({0: "1"}), benefits=[], horizon_months=horizon)


@pytest.mark.parametrize("amount", ["-0.01", "-1000", "Infinity", "-Infinity"])
@pytest.mark.parametrize("side", ["costs", "benefits"])
def test_negative_or_infinite_amounts_are_refused(amount, side):
    amounts = {"costs": entries({0: "100"}), "benefits": entries({0: "100"})}
    amounts[side] = [*amounts[side], MonthlyAmount(month(1), D(amount))]

    with pytest.raises(ValueError, match="finite and not negative"):
        project_roi(**amounts, horizon_months=12)


@pytest.mark.parametrize("amount", ["NaN", "sNaN"])
def test_nan_amounts_are_refused_with_value_error(amount):
    with pytest.raises(ValueError, match="finite and not negative"):
        project_roi(costs=[MonthlyAmount(month(0), D(amount))], benefits=[], horizon_months=12)


# --- properties ----------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
positive_amounts = st.decimals(min_value=D("0.01"), max_value=1_000_000, places=2)
monthly = st.builds(MonthlyAmount, st.integers(min_value=0, max_value=23).map(month), amounts)
monthly_lists = st.lists(monthly, max_size=12)
horizons = st.integers(min_value=1, max_value=60)


@settings(max_examples=200, deadline=None)
@given(costs=monthly_lists, benefits=monthly_lists, horizon=horizons, factor=positive_amounts)
def test_roi_does_not_depend_on_the_currency_unit(costs, benefits, horizon, factor):
    base = project_roi(costs=costs, benefits=benefits, horizon_months=horizon)
    scaled = project_roi(
        costs=[MonthlyAmount(c.month, c.amount * factor) for c in costs],
        benefits=[MonthlyAmount(b.month, b.amount * factor) for b in benefits],
        horizon_months=horizon,
    )

    # Exact arithmetic: the same figures in cents or in thousands give the same ROI and payback.
    assert scaled.roi == base.roi
    assert scaled.payback_month == base.payback_month
    assert scaled.projected_cost == base.projected_cost * Fraction(factor)
    assert scaled.projected_benefit == base.projected_benefit * Fraction(factor)
    assert scaled.months_recorded == base.months_recorded


@settings(max_examples=200, deadline=None)
@given(costs=monthly_lists, benefits=monthly_lists, horizon=horizons, power=st.integers(-2, 6))
def test_scaling_by_a_power_of_ten_keeps_roi_and_payback_exactly(costs, benefits, horizon, power):
    factor = D(10) ** power
    base = project_roi(costs=costs, benefits=benefits, horizon_months=horizon)
    scaled = project_roi(
        costs=[MonthlyAmount(c.month, c.amount * factor) for c in costs],
        benefits=[MonthlyAmount(b.month, b.amount * factor) for b in benefits],
        horizon_months=horizon,
    )

    assert scaled.roi == base.roi
    assert scaled.payback_month == base.payback_month


@settings(max_examples=200, deadline=None)
@given(costs=monthly_lists, benefits=monthly_lists, horizon=horizons)
def test_roi_is_positive_exactly_when_projected_benefit_exceeds_projected_cost(costs, benefits, horizon):
    projection = project_roi(costs=costs, benefits=benefits, horizon_months=horizon)

    assert (projection.roi is None) == (projection.projected_cost == 0)
    if projection.roi is not None:
        assert (projection.roi > 0) == (projection.projected_benefit > projection.projected_cost)
        assert (projection.roi == 0) == (projection.projected_benefit == projection.projected_cost)
        assert projection.roi >= -1  # at worst, every unit spent is lost


@settings(max_examples=200, deadline=None)
@given(
    costs=st.lists(monthly, min_size=1, max_size=12),
    benefits=monthly_lists,
    horizon=horizons,
    extra=positive_amounts,
    data=st.data(),
)
def test_adding_a_benefit_to_a_recorded_month_never_lowers_roi_or_delays_payback(
    costs, benefits, horizon, extra, data
):
    recorded_months = sorted({e.month for e in (*costs, *benefits)})
    when = data.draw(st.sampled_from(recorded_months))
    before = project_roi(costs=costs, benefits=benefits, horizon_months=horizon)
    after = project_roi(costs=costs, benefits=[*benefits, MonthlyAmount(when, extra)], horizon_months=horizon)

    assert after.projected_cost == before.projected_cost
    assert after.projected_benefit >= before.projected_benefit
    if before.roi is not None:
        assert after.roi >= before.roi
    if before.payback_month is not None:
        assert after.payback_month is not None
        assert after.payback_month <= before.payback_month


def test_benefits_that_dried_up_lower_the_projection():
    """Months of the record without a benefit count as zero in the run rate, by design.

    Benefits of 1000 in the first two months and a token 0.01 in month six say that benefit
    stopped: the last three months average 0.01/3 per month, so projected ROI falls.
    """
    costs = entries({0: "100", 1: "100", 2: "100", 3: "100"})
    benefits = entries({0: "1000", 1: "1000"})
    before = project_roi(costs=costs, benefits=benefits, horizon_months=36)
    after = project_roi(
        costs=costs, benefits=[*benefits, MonthlyAmount(month(5), D("0.01"))], horizon_months=36
    )

    assert after.months_recorded == 6
    assert after.roi < before.roi


@settings(max_examples=200, deadline=None)
@given(costs=monthly_lists, horizon=horizons, zeros=st.integers(min_value=0, max_value=5))
def test_no_payback_while_benefits_are_zero(costs, horizon, zeros):
    benefits = [MonthlyAmount(month(i), D(0)) for i in range(zeros)]
    projection = project_roi(costs=costs, benefits=benefits, horizon_months=horizon)

    assert projection.payback_month is None
    assert projection.projected_benefit == 0
    if projection.roi is not None:
        assert projection.roi == -1


@settings(max_examples=200, deadline=None)
@given(costs=monthly_lists, benefits=monthly_lists, horizon=horizons)
def test_projection_covers_the_record_and_payback_falls_inside_the_horizon(costs, benefits, horizon):
    projection = project_roi(costs=costs, benefits=benefits, horizon_months=horizon)

    assert projection.cost_to_date == sum((c.amount for c in costs), D(0))
    assert projection.benefit_to_date == sum((b.amount for b in benefits), D(0))
    if projection.months_recorded <= horizon:
        assert projection.projected_cost >= projection.cost_to_date
        assert projection.projected_benefit >= projection.benefit_to_date
    if projection.payback_month is not None:
        assert 1 <= projection.payback_month <= max(horizon, projection.months_recorded)


@settings(max_examples=200, deadline=None)
@given(
    costs=monthly_lists,
    benefits=monthly_lists,
    bad=st.one_of(
        st.decimals(max_value=D("-0.01"), places=2, allow_nan=False, allow_infinity=False),
        st.sampled_from([D("Infinity"), D("-Infinity")]),
    ),
    on_costs=st.booleans(),
    when=st.integers(0, 23),
)
def test_any_negative_or_infinite_amount_is_refused(costs, benefits, bad, on_costs, when):
    poisoned = MonthlyAmount(month(when), bad)
    if on_costs:
        costs = [*costs, poisoned]
    else:
        benefits = [*benefits, poisoned]

    with pytest.raises(ValueError, match="finite and not negative"):
        project_roi(costs=costs, benefits=benefits, horizon_months=12)


# --- exact arithmetic ----------------------------------------------------------------------------


def test_an_exact_break_even_over_a_run_rate_of_thirds_is_zero_not_positive():
    # Recorded: cost 0, 300, 0, 100 and benefit 200, 200, 100, 0 (400 and 500). Run rates over
    # the last three months: cost 400/3, benefit 100; three more months make 800 and 800.
    projection = project_roi(
        costs=entries({0: "0", 1: "300", 2: "0", 3: "100"}),
        benefits=entries({0: "200", 1: "200", 2: "100", 3: "0"}),
        horizon_months=7,
    )

    assert projection.projected_cost == projection.projected_benefit == 800
    assert projection.roi == 0
    assert percent(projection.roi) == "0.0%"


def test_payback_falls_in_the_month_benefit_exactly_covers_cost():
    # Recorded: cost 200, 0, 0, 300 and benefit 0, 0, 100, 300; run rates 100 and 400/3.
    # Cumulative cost 500, 600, 700, 800 against benefit 400, 533⅓, 666⅔, 800 from month 4.
    projection = project_roi(
        costs=entries({0: "200", 3: "300"}),
        benefits=entries({2: "100", 3: "300"}),
        horizon_months=17,
    )

    assert projection.payback_month == 7


# Round hundreds make ties (break-evens, payback on the dot) common; any cent amount otherwise.
cents = st.one_of(st.integers(min_value=0, max_value=5).map(lambda n: n * 100_00), st.integers(0, 10_000_00))


@st.composite
def monthly_cents(draw, *, tie: str | None = None):
    """(costs, benefits, horizon, tied_month): an amount in cents for each month of a record of 1-8
    months, and a horizon.

    `tie`: "end" or "any" month of the horizon (`tied_month`, 1-based) at which cumulative benefit
    exactly equals cumulative cost, by topping up the benefit (or the cost, when benefit is ahead)
    of the last recorded month. Up to that month, a recorded month counts once per month of the
    run-rate window, and a month inside the window once more for each projected month; months
    before the window are drawn as multiples of the latter weight, so the top-up is a whole cent.
    """
    months = draw(st.integers(min_value=1, max_value=8))
    horizon = draw(horizons)
    length = max(horizon, months)
    tied = draw(st.integers(min_value=months, max_value=length)) if tie == "any" else length
    window = min(3, months)
    heavy = window + tied - months
    costs, benefits = [], []
    for i in range(months):
        scale = heavy if tie and i < months - window else 1
        costs.append(draw(cents) * scale)
        benefits.append(draw(cents) * scale)
    if tie:
        weights = [window if i < months - window else heavy for i in range(months)]
        gap = sum(w * (b - c) for w, b, c in zip(weights, benefits, costs, strict=True))
        if gap < 0:
            benefits[-1] += -gap // heavy
        else:
            costs[-1] += gap // heavy
    return costs, benefits, horizon, tied


def as_entries(amounts: list[int]) -> list[MonthlyAmount]:
    return [MonthlyAmount(month(i), D(a) / 100) for i, a in enumerate(amounts)]


def oracle(costs: list[int], benefits: list[int], horizon: int) -> tuple[int | None, int | None]:
    """In whole cents times the window, independently of the rule under test: the sign of
    benefit - cost over the horizon (None when nothing is spent), and the payback month."""
    months = len(costs)
    window, remaining = min(3, months), max(horizon - months, 0)
    cost = [window * c for c in costs] + [sum(costs[-window:])] * remaining
    benefit = [window * b for b in benefits] + [sum(benefits[-window:])] * remaining
    payback, total_cost, total_benefit = None, 0, 0
    for index, (c, b) in enumerate(zip(cost, benefit, strict=True)):
        total_cost, total_benefit = total_cost + c, total_benefit + b
        if payback is None and total_cost > 0 and total_benefit >= total_cost:
            payback = index + 1
    difference = total_benefit - total_cost
    return (difference > 0) - (difference < 0) if total_cost else None, payback


@settings(max_examples=300, deadline=None)
@given(record=monthly_cents())
def test_the_roi_sign_is_the_sign_of_benefit_minus_cost_and_payback_is_exact(record):
    costs, benefits, horizon, _ = record
    projection = project_roi(costs=as_entries(costs), benefits=as_entries(benefits), horizon_months=horizon)
    sign, payback = oracle(costs, benefits, horizon)

    if sign is None:
        assert projection.roi is None
    else:
        assert (projection.roi > 0) - (projection.roi < 0) == sign
    assert projection.payback_month == payback


@settings(max_examples=300, deadline=None)
@given(record=monthly_cents(tie="end"))
def test_an_exact_break_even_is_zero_and_pays_back_by_the_horizon(record):
    costs, benefits, horizon, tied = record
    projection = project_roi(costs=as_entries(costs), benefits=as_entries(benefits), horizon_months=horizon)

    assert oracle(costs, benefits, horizon)[0] in (0, None)
    assert projection.projected_benefit == projection.projected_cost
    if projection.roi is not None:
        assert projection.roi == 0
        assert projection.payback_month is not None and projection.payback_month <= tied


@settings(max_examples=300, deadline=None)
@given(record=monthly_cents(tie="any"))
def test_benefit_that_exactly_covers_cost_pays_back_in_that_month(record):
    costs, benefits, horizon, tied = record
    projection = project_roi(costs=as_entries(costs), benefits=as_entries(benefits), horizon_months=horizon)

    assert projection.payback_month == oracle(costs, benefits, horizon)[1]
    if sum(costs) > 0:  # spent by the tied month, so paid back by then
        assert projection.payback_month is not None and projection.payback_month <= tied


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-10_000, max_value=10_000, places=6, allow_nan=False, allow_infinity=False))
def test_percentages_read_as_before(ratio):
    """Exact figures are shown as the decimal ones were: percent to one decimal, half to even."""
    assert percent(Fraction(ratio)) == format(ratio, ".1%")
    assert rounded(Fraction(ratio), 4) == ratio.quantize(D("0.0001"))
