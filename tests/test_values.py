"""parse_decimal: numbers from people and integrations, refused when the database would distort them.

No database: projects.values only reads column sizes from projects.models.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.models import KPI_DECIMAL_PLACES, KPI_MAX_DIGITS
from projects.values import parse_decimal

D = Decimal
WHOLE_DIGITS = KPI_MAX_DIGITS - KPI_DECIMAL_PLACES


def test_column_size_assumed_by_these_tests():
    assert (KPI_MAX_DIGITS, KPI_DECIMAL_PLACES) == (20, 6)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.0409", "0.0409"),
        ("1.10", "1.10"),
        ("  42 ", "42"),
        ("-3.5", "-3.5"),
        ("+7", "7"),
        ("0", "0"),
        ("0.000001", "0.000001"),
        ("12345678901234.123456", "12345678901234.123456"),  # 14 + 6 digits: the column exactly
        ("-99999999999999.999999", "-99999999999999.999999"),
        ("1E+3", "1E+3"),
        ("2.5e-3", "0.0025"),
        (42, "42"),
        (-17, "-17"),
        (D("0.052"), "0.052"),
        (0.1, "0.1"),  # the digits the sender meant, not the binary expansion
        (38.0, "38.0"),
    ],
)
def test_good_values_are_accepted_exactly(raw, expected):
    value = parse_decimal(raw, what="Value")

    assert isinstance(value, Decimal)
    assert value == D(expected)
    assert str(value) == str(D(expected))


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "nan",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "-inf",
        float("nan"),
        float("inf"),
        float("-inf"),
    ],
)
def test_non_finite_values_are_refused(raw):
    with pytest.raises(ValueError, match="Baseline must be a finite number"):
        parse_decimal(raw, what="Baseline")


@pytest.mark.parametrize("raw", ["1e400", "1E+15", "123456789012345", "-123456789012345.5", 10**14, 1e16])
def test_values_too_large_for_the_column_are_refused(raw):
    with pytest.raises(ValueError, match=f"too large: at most {WHOLE_DIGITS} digits before the point"):
        parse_decimal(raw, what="Value")


@pytest.mark.parametrize(
    ("raw", "places"),
    [("0.0000001", 7), ("1.1234567", 7), ("1e-400", 400), ("0.10000000", 8), (1e-07, 7)],
)
def test_values_with_too_many_decimal_places_are_refused(raw, places):
    with pytest.raises(ValueError, match=f"has {places} decimal places; at most {KPI_DECIMAL_PLACES}"):
        parse_decimal(raw, what="Value")


@pytest.mark.parametrize("raw", [True, False, None])
def test_booleans_and_none_are_not_numbers(raw):
    with pytest.raises(ValueError, match="^Target must be a number.$"):
        parse_decimal(raw, what="Target")


@pytest.mark.parametrize(
    "raw", ["", "   ", "abc", "1,5", "1.2.3", "12 34", "0x10", "€5", "--1", b"1", [1], {"v": 1}]
)
def test_garbage_is_refused(raw):
    with pytest.raises(ValueError, match="Value must be a number, not"):
        parse_decimal(raw, what="Value")


def test_garbage_is_quoted_but_cut_short_in_the_message():
    with pytest.raises(ValueError) as refused:
        parse_decimal("x" * 500, what="Value")

    assert len(str(refused.value)) < 100


def test_custom_column_sizes_are_honoured():
    assert parse_decimal("123.45", what="Amount", max_digits=5, decimal_places=2) == D("123.45")
    with pytest.raises(ValueError, match="at most 3 digits before the point"):
        parse_decimal("1234.5", what="Amount", max_digits=5, decimal_places=2)
    with pytest.raises(ValueError, match="at most 2 are kept"):
        parse_decimal("1.234", what="Amount", max_digits=5, decimal_places=2)


@pytest.mark.parametrize("raw", ["0E+20", "0e15"])
def test_zero_with_an_exponent_is_accepted(raw):
    assert parse_decimal(raw, what="Value") == 0


# --- properties ----------------------------------------------------------------------------------

fitting = st.decimals(
    min_value=-(D(10) ** WHOLE_DIGITS) + D("0.000001"),
    max_value=D(10) ** WHOLE_DIGITS - D("0.000001"),
    places=KPI_DECIMAL_PLACES,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=200, deadline=None)
@given(fitting)
def test_every_value_that_fits_the_column_round_trips_as_text(value):
    parsed = parse_decimal(str(value), what="Value")

    assert parsed == value
    assert parse_decimal(value, what="Value") == value


@settings(max_examples=200, deadline=None)
@given(fitting, st.integers(min_value=1, max_value=30))
def test_one_place_too_many_is_always_refused(value, extra_digit):
    text = format(value, "f")
    if "." not in text:
        text += "."
    whole, fraction = text.split(".")
    too_precise = f"{whole}.{fraction.ljust(KPI_DECIMAL_PLACES, '0')}{extra_digit % 9 + 1}"

    with pytest.raises(ValueError, match="decimal places"):
        parse_decimal(too_precise, what="Value")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=10**WHOLE_DIGITS, max_value=10**40), st.booleans())
def test_whole_numbers_wider_than_the_column_are_refused(number, negative):
    with pytest.raises(ValueError, match="too large"):
        parse_decimal(-number if negative else number, what="Value")
