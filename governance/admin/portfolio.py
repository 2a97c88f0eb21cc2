"""Admin for initiatives, their value data, reviews, sign-offs and policies."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from governance.admin.base import ReadOnlyAdmin, ReadOnlyInline
from governance.models import (
    CommitteeFunction,
    Condition,
    GatePolicy,
    GateReview,
    Notification,
    SignOff,
)
from governance.selectors.access import visible_initiatives
from governance.selectors.gates import next_gate_checklist
from projects.models import (
    KPI,
    BusinessCase,
    Evidence,
    Experiment,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)


class BusinessCaseInline(ReadOnlyInline):
    model = BusinessCase


class KPIInline(ReadOnlyInline):
    model = KPI
    fields = ["name", "unit", "direction", "baseline", "target", "data_source", "is_primary"]


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["kind", "title", "sha256", "submitted_by", "submitted_at"]


class ReviewInline(ReadOnlyInline):
    model = GateReview
    fields = ["gate", "policy", "status", "outcome", "outcome_reason", "opened_at", "decided_at"]


@admin.register(Initiative)
class InitiativeAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "stage",
        "department",
        "owner",
        "risk_tier",
        "stage_entered_at",
        "pilot_deadline",
    ]
    list_filter = ["stage", "risk_tier", "department"]
    search_fields = ["title", "department"]
    list_select_related = ["owner"]
    readonly_fields = ["next_gate_checklist"]
    inlines = [BusinessCaseInline, KPIInline, EvidenceInline, ReviewInline]

    def get_queryset(self, request):
        return visible_initiatives(request.user, super().get_queryset(request))

    @admin.display(description="Next gate checklist")
    def next_gate_checklist(self, obj: Initiative):
        evaluation = next_gate_checklist(obj.pk, now=timezone.now())
        if evaluation is None:
            return "No gate ahead."
        rows = format_html_join(
            "",
            "<li>{} <strong>{}</strong>: {}</li>",
            (("✔" if r.passed else "✘", r.label, r.reason) for r in evaluation.requirements),
        )
        verdict = "passes" if evaluation.passed else "does not pass yet"
        return format_html(
            "<p>{} gate (policy v{}) {}.</p><ul>{}</ul>",
            evaluation.gate.capitalize(),
            evaluation.policy_version,
            verdict,
            rows,
        )


@admin.register(KPIMeasurement)
class MeasurementAdmin(ReadOnlyAdmin):
    list_display = ["kpi", "period", "value", "sample_size", "source", "recorded_at"]
    list_select_related = ["kpi"]
    date_hierarchy = "period"


@admin.register(Experiment)
class ExperimentAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "kpi",
        "control_size",
        "control_successes",
        "treatment_size",
        "treatment_successes",
    ]
    list_select_related = ["kpi"]


@admin.register(FinancialEntry)
class FinancialEntryAdmin(ReadOnlyAdmin):
    list_display = ["initiative", "kind", "month", "amount"]
    list_filter = ["kind"]
    list_select_related = ["initiative"]


class SignOffInline(ReadOnlyInline):
    model = SignOff
    fields = ["function", "reviewer", "decision", "rationale", "signed_at", "superseded_at", "digest"]


@admin.register(GateReview)
class GateReviewAdmin(ReadOnlyAdmin):
    list_display = ["initiative", "gate", "status", "outcome", "opened_at", "decided_at"]
    list_filter = ["gate", "status", "outcome"]
    list_select_related = ["initiative"]
    inlines = [SignOffInline]


@admin.register(Condition)
class ConditionAdmin(ReadOnlyAdmin):
    list_display = ["text", "initiative", "owner", "due_on", "closed_at"]
    list_select_related = ["initiative", "owner"]


@admin.register(GatePolicy)
class GatePolicyAdmin(ReadOnlyAdmin):
    list_display = ["gate", "version", "required_functions", "signoff_validity_days", "created_at"]
    list_filter = ["gate"]


@admin.register(CommitteeFunction)
class CommitteeFunctionAdmin(ReadOnlyAdmin):
    list_display = ["code", "group"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["subject", "recipient", "created_at", "sent_at"]
    list_select_related = ["recipient"]
