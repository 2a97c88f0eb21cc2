"""Parsing of numbers people and integrations send: refuse anything the database would distort."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from projects.models import KPI_DECIMAL_PLACES, KPI_MAX_DIGITS


def parse_decimal(
    raw: object,
    *,
    what: str,
    max_digits: int = KPI_MAX_DIGITS,
    decimal_places: int = KPI_DECIMAL_PLACES,
) -> Decimal:
    """A finite decimal that fits the column exactly, or ValueError with a reason."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"{what} must be a number.")
    if isinstance(raw, float):
        raw = repr(raw)  # keeps nan/inf recognisable and the digits the sender meant
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} must be a number, not {str(raw)[:40]!r}.") from None
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}.")
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # a letter ('n', 'N', 'F') only for the values refused above
        raise ValueError(f"{what} must be a finite number, not {value}.")
    places = max(0, -exponent)
    if places > decimal_places:
        raise ValueError(f"{what} has {places} decimal places; at most {decimal_places} are kept.")
    if digits == (0,):
        return value  # zero, however it was written
    whole_digits = max(len(digits) + exponent, 0) if exponent < 0 else len(digits) + exponent
    if whole_digits > max_digits - decimal_places:
        raise ValueError(
            f"{what} is too large: at most {max_digits - decimal_places} digits before the point."
        )
    return value
