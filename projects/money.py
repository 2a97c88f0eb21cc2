"""Money as the reader's locale writes it: one formatter for every page, message and chart.

Amounts are kept as Decimals in the currency of their initiative's business case
(VALUEGATE_DEFAULT_CURRENCY when it names none); CLDR (Babel) knows each locale's symbols,
grouping and decimals, e.g. $1,050,000.00 in English and US$1,050,000.00 or ¥1,050,000.00 in
Chinese.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from babel import Locale
from babel.numbers import format_compact_currency, format_currency, format_decimal, list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _


def reader_locale() -> str:
    """The active language as a CLDR locale (zh-hans → zh_Hans, en-us → en_US)."""
    return translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)


def default_currency() -> str:
    return settings.VALUEGATE_DEFAULT_CURRENCY


def format_money(
    amount: Decimal | int | float | None, currency: str | None = None, *, whole: bool = False
) -> str:
    """`amount` with its currency, in the reader's locale; `whole` drops the cents (totals, charts)."""
    if amount is None:
        return "—"
    value = Decimal(amount)
    if whole:
        return _whole_units(value.quantize(Decimal(1)), currency or default_currency())
    return format_currency(value, currency or default_currency(), locale=reader_locale())


def format_money_compact(amount: Decimal | int | float, currency: str | None = None) -> str:
    """A chart's label: $1.1M in English, US$105万 in Chinese."""
    return format_compact_currency(
        Decimal(amount), currency or default_currency(), locale=reader_locale(), fraction_digits=1
    )


def _whole_units(value: Decimal, currency: str) -> str:
    # The locale's own currency pattern with no fraction digits: Babel has no option that drops a
    # currency's cents while keeping the locale's symbol placement and grouping.
    locale = Locale.parse(reader_locale())
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern.apply(value, locale, currency=currency, currency_digits=False)


def format_number(value: Decimal | int | float) -> str:
    """A plain number (a KPI value, a count) grouped as the reader's locale groups it."""
    return format_decimal(value, locale=reader_locale())


def validate_currency(code: str) -> None:
    """An ISO 4217 code CLDR knows (blank: the deployment's default)."""
    if code and code not in list_currencies():
        raise ValidationError(
            _("%(code)s is not an ISO 4217 currency code (e.g. CNY, USD)."), params={"code": code}
        )
