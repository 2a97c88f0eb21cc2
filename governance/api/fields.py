"""Strict input fields: each accepts one JSON type and refuses anything the database would distort.

DRF's own fields are lenient (a CharField takes 12, an IntegerField takes "12", a BooleanField
takes "yes"); an integration that sends the wrong type should hear so, not have it guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.text import validate_single_line
from projects.values import parse_decimal

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# How a decimal is written, published in the schema and checked on input: ASCII digits, no
# leading zeros, an optional fraction, and a minus sign only before a number that is not zero.
# No lookarounds: schemathesis generates examples from it.
DECIMAL_TEXT = re.compile(
    r"^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$"  # zero or more
    r"|^-(?:[1-9][0-9]*(?:\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)$"  # less than zero
)
# Longer than any number a column can hold, written any way (leading zeros, exponent …).
MAX_NUMBER_TEXT = 100
INT32_MAX = 2_147_483_647
SMALLINT_MAX = 32_767


def text_problem(value: object, *, max_length: int | None = None) -> str | None:
    """Why `value` is not acceptable text, or None."""
    if not isinstance(value, str):
        return f"Must be a string, not {_json_type(value)}."
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (no lone surrogates)."
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length} characters (got {len(value)})."
    return None


def date_problem(value: object) -> tuple[dt.date | None, str | None]:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        return None, "Must be a date written YYYY-MM-DD."
    try:
        return dt.date.fromisoformat(value), None
    except ValueError:
        return None, f"{value} is not a calendar date."


def integer_problem(value: object, *, min_value: int, max_value: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"Must be a whole number, not {_json_type(value)}."
    if value < min_value or value > max_value:
        return f"Must be between {min_value} and {max_value}."
    return None


def decimal_or_problem(value: object, *, what: str, max_digits: int, decimal_places: int):
    """(Decimal, None) or (None, reason). Strings and numbers both accepted, floats never arrive.

    A string must be written as DECIMAL_TEXT says; a JSON number (an int, or a Decimal from the
    parser) is taken in its plain positional form, which must say so too (no negative zero).
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None, f"{what} must be a number or a numeric string, not {_json_type(value)}."
    if isinstance(value, str) and (len(value) > MAX_NUMBER_TEXT or "\x00" in value):
        return None, f"{what} is not a number."
    try:
        number = parse_decimal(value, what=what, max_digits=max_digits, decimal_places=decimal_places)
    except ValueError as error:
        return None, str(error)
    # parse_decimal names what the column cannot hold; the pattern refuses every other spelling.
    text = value if isinstance(value, str) else format(number, "f")
    if not DECIMAL_TEXT.fullmatch(text):
        return None, (
            f"{what} must be written in plain ASCII digits, like 12.50 or -3: no spaces, signs other "
            f"than a leading minus, exponent, digit separators, leading zeros or negative zero "
            f"(got {text!r:.40})."
        )
    return (number if isinstance(value, str) else Decimal(text)), None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        problem = text_problem(data, max_length=self.max_length)
        if problem:
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)


class SingleLineField(StrictCharField):
    """A one-line field (a title, a KPI name): no line breaks or control characters, which would
    reach the subjects and headers of every message about it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", []).append(validate_single_line)
        super().__init__(**kwargs)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self.choices:
            raise serializers.ValidationError(f"Must be one of: {', '.join(map(str, self.choices))}.")
        return data


class StrictIntegerField(serializers.IntegerField):
    min_value: int
    max_value: int

    def __init__(self, *, min_value: int = 0, max_value: int = INT32_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        problem = integer_problem(data, min_value=self.min_value, max_value=self.max_value)
        if problem:
            raise serializers.ValidationError(problem)
        return data


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("Must be true or false.")
        return data


@extend_schema_field(OpenApiTypes.DATE)
class IsoDateField(serializers.DateField):
    def to_internal_value(self, data):
        value, problem = date_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return value


@extend_schema_field({"type": "string", "format": "decimal", "pattern": DECIMAL_TEXT.pattern})
class DecimalValueField(serializers.Field):
    """A decimal sent as a JSON string ("12.50") or number (12.5); checked by parse_decimal."""

    def __init__(self, *, what: str, max_digits: int, decimal_places: int, **kwargs):
        self.what, self.max_digits, self.decimal_places = what, max_digits, decimal_places
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value, problem = decimal_or_problem(
            data, what=self.what, max_digits=self.max_digits, decimal_places=self.decimal_places
        )
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def to_representation(self, value):
        # In the schema's form: positional, and zero without a sign, however it was stored.
        if isinstance(value, Decimal):
            return format(abs(value) if value.is_zero() else value, "f")
        return str(value)


class UsernameField(StrictCharField):
    """An active user, named by username."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # The text checks and length validators apply to the username sent, not to the user found.
        username = super().run_validation(data)
        if not isinstance(username, str):
            return username  # null, or the default when the field was left out
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"No active user is called {username!r}.")
        return user

    def to_representation(self, value):
        return value.get_username()


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know, and says which are read-only.

    `read_only_reasons` names fields clients may see elsewhere (a computed statistic, the stage)
    and why they cannot be sent.
    """

    read_only_reasons: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for key in data:
                field = self.fields.get(key)
                if field is not None and not field.read_only:
                    continue
                if key in self.read_only_reasons:
                    errors[str(key)] = [f"Read-only: {self.read_only_reasons[key]}"]
                elif field is not None:
                    errors[str(key)] = ["Read-only."]
                else:
                    errors[str(key)[:100]] = ["Unknown field."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
