"""What the background work did: value reviews, pilot escalations, exit-criteria breaches and
sign-off follow-ups, read-only, for the chair, the committee and auditors (leads: their own)."""

from __future__ import annotations

from django.contrib import admin

from governance.admin.base import ScopedReadOnlyAdmin
from governance.models import ExitCriteriaBreach, PilotEscalation, SignOffFollowUp, ValueReview


@admin.register(ValueReview)
class ValueReviewAdmin(ScopedReadOnlyAdmin):
    list_display = ["month", "initiative", "stage", "recommendation", "roi_to_date", "projected_roi"]
    list_filter = ["recommendation", "stage", "month"]
    list_select_related = ["initiative"]
    search_fields = ["initiative__title"]
    show_full_result_count = False


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
