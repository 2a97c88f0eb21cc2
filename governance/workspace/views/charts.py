"""Server-rendered SVG charts: no script, nothing fetched from elsewhere.

Colours come from classes styled in governance/static/governance/workspace.css.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from projects.money import format_money, format_money_compact, format_number


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int
    css: str = "vg-bar"


def column_chart(bars: Sequence[Bar], *, title: str, width: int = 460, height: int = 220) -> SafeString:
    """Vertical bars with their value on top and their label below."""
    top, bottom, side = 24, 36, 12
    plot = height - top - bottom
    peak = max((b.value for b in bars), default=0) or 1
    slot = (width - 2 * side) / max(len(bars), 1)
    parts = []
    for index, bar in enumerate(bars):
        bar_height = plot * float(bar.value) / float(peak)
        x = side + index * slot + slot * 0.15
        y = top + plot - bar_height
        parts.append(
            (
                bar.css,
                f"{x:.1f}",
                f"{y:.1f}",
                f"{slot * 0.7:.1f}",
                f"{bar_height:.1f}",
                f"{bar.label}: {bar.value}",
                f"{x + slot * 0.35:.1f}",
                f"{y - 6:.1f}",
                format_number(bar.value),
                f"{x + slot * 0.35:.1f}",
                f"{height - bottom + 16:.1f}",
                bar.label,
            )
        )
    body = format_html_join(
        "",
        '<g><rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
        '<text class="vg-chart-value" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="vg-chart-label" x="{}" y="{}" text-anchor="middle">{}</text></g>',
        parts,
    )
    return _svg(width, height, title, body)


def paired_bar_chart(
    rows: Sequence[tuple[str, Decimal, Decimal]],
    *,
    title: str,
    first: str,
    second: str,
    currency: str | None = None,
    width: int = 560,
    row_height: int = 34,
) -> SafeString:
    """Horizontal pairs of bars per row (e.g. investment against realised benefit), with a legend."""
    label_width, top, right = 190, 28, 60
    height = top + row_height * max(len(rows), 1) + 8
    plot = width - label_width - right
    peak = max((max(a, b) for _, a, b in rows), default=0) or 1
    parts = []
    for index, (label, a, b) in enumerate(rows):
        y = top + index * row_height
        wa = plot * float(a) / float(peak)
        wb = plot * float(b) / float(peak)
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            (
                f"{label_width - 8}",
                f"{y + row_height / 2 + 4:.1f}",
                label,
                short,
                label_width,
                f"{y + 3:.1f}",
                f"{wa:.1f}",
                # Translators: a bar's tooltip: the series ("Invested"), the row (an initiative or a stage), the amount.
                _("%(series)s of %(row)s: %(amount)s")
                % {"series": first, "row": label, "amount": format_money(a, currency, whole=True)},
                f"{label_width + wa + 4:.1f}",
                f"{y + 13:.1f}",
                format_money_compact(a, currency),
                label_width,
                f"{y + 17:.1f}",
                f"{wb:.1f}",
                # Translators: a bar's tooltip: the series ("Realised benefit"), the row, the amount.
                _("%(series)s of %(row)s: %(amount)s")
                % {"series": second, "row": label, "amount": format_money(b, currency, whole=True)},
                f"{label_width + wb + 4:.1f}",
                f"{y + 27:.1f}",
                format_money_compact(b, currency),
            )
        )
    body = format_html_join(
        "",
        '<g><text class="vg-chart-label" x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>'
        '<rect class="vg-bar-cost" x="{}" y="{}" width="{}" height="12"><title>{}</title></rect>'
        '<text class="vg-chart-value" x="{}" y="{}">{}</text>'
        '<rect class="vg-bar-benefit" x="{}" y="{}" width="{}" height="12"><title>{}</title></rect>'
        '<text class="vg-chart-value" x="{}" y="{}">{}</text></g>',
        parts,
    )
    legend = format_html(
        '<g><rect class="vg-bar-cost" x="{}" y="6" width="12" height="12"></rect>'
        '<text class="vg-chart-label" x="{}" y="16">{}</text>'
        '<rect class="vg-bar-benefit" x="{}" y="6" width="12" height="12"></rect>'
        '<text class="vg-chart-label" x="{}" y="16">{}</text></g>',
        label_width,
        label_width + 16,
        first,
        label_width + 140,
        label_width + 156,
        second,
    )
    return _svg(width, height, title, legend, body)


def _svg(width: int, height: int, title: str, *content) -> SafeString:
    """The chart's frame: its size, and its title for screen readers and as a tooltip."""
    return format_html(
        '<svg class="vg-chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        "<title>{}</title>{}</svg>",
        width,
        height,
        width,
        height,
        title,
        title,
        format_html_join("", "{}", ((part,) for part in content)),
    )
