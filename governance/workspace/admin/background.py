"""What the background work did: value reviews, pilot escalations, exit-criteria breaches and
sign-off follow-ups, read-only, for the chair, the committee and auditors (leads: their own)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.oversight.models import ExitCriteriaBreach, PilotEscalation, SignOffFollowUp
from governance.reasons import say_stored
from governance.value.models import ValueReview
from governance.workspace.admin.base import ScopedReadOnlyAdmin


@admin.register(ValueReview)
class ValueReviewAdmin(ScopedReadOnlyAdmin):
    list_display = ["month", "initiative", "stage", "recommendation", "roi_to_date", "projected_roi"]
    list_filter = ["recommendation", "stage", "month"]
    list_select_related = ["initiative"]
    search_fields = ["initiative__title"]
    show_full_result_count = False
    readonly_fields = ["reasons_in_words", "kpi_figures", "ab_experiments"]
    exclude = ["reasons"]

    @admin.display(description=gettext_lazy("Reasons"))
    def reasons_in_words(self, review: ValueReview) -> str:
        """Why this recommendation, in the reader's language (as recorded, for older reviews)."""
        reasons = review.reason_codes or review.reasons
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((say_stored(r),) for r in reasons))
        )

    @admin.display(description=gettext_lazy("KPIs"))
    def kpi_figures(self, review: ValueReview) -> str:
        """Each KPI's latest value as the review judged it, and where it came from."""
        rows = [
            (
                row["kpi"],
                f"{row['value']} ({row['period']})" if row.get("value") is not None else "—",
                row.get("target") or "—",
                _("measured from source")
                if row.get("measured_from_source")
                else (_("reported by lead") if row.get("value") is not None else "—"),
            )
            for row in review.kpi_attainment
        ]
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("KPI"),
            _("Latest value"),
            _("Target"),
            _("origin"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description=gettext_lazy("A/B experiments (always-valid)"))
    def ab_experiments(self, review: ValueReview) -> str:
        """Each KPI's experiments as the review judged them, from the looks up to the month's end."""
        shown = [
            {
                "name": experiment["name"],
                "kpi": row["kpi"],
                "summary": say_stored(experiment.get("summary_code") or experiment["summary"]),
            }
            for row in review.kpi_attainment
            for experiment in row.get("experiments", ())
        ]
        if not shown:
            return _("No A/B experiment on these KPIs had a look by the end of the month.")
        # Translators: an A/B experiment's name, the KPI it tests, then its result in words.
        item = _("“{name}” on <strong>{kpi}</strong>: {summary}")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>" + item + "</li>", shown))


@admin.register(PilotEscalation)
class PilotEscalationAdmin(ScopedReadOnlyAdmin):
    list_display = ["initiative", "deadline", "escalated_at", "review"]
    list_select_related = ["initiative", "review"]
    show_full_result_count = False


@admin.register(ExitCriteriaBreach)
class ExitCriteriaBreachAdmin(ScopedReadOnlyAdmin):
    list_display = ["initiative", "kpi", "first_missed_period", "missed_periods", "detected_at", "review"]
    list_select_related = ["initiative", "kpi", "review"]
    show_full_result_count = False


@admin.register(SignOffFollowUp)
class SignOffFollowUpAdmin(ScopedReadOnlyAdmin):
    initiative_path = "review__initiative"
    list_display = ["review", "function", "kind", "sent_at"]
    list_filter = ["kind", "function"]
    list_select_related = ["review__initiative", "function"]
    show_full_result_count = False
