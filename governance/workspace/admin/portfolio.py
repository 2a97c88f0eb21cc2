"""Admin for initiatives and their value data.

The initiative page is read-only: stage changes and edits happen through its buttons, each a
form handed to a service (governance/workspace/views/initiatives.py). The add form registers an initiative
through initiative_create. No form edits a stage or a ledger row.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from governance.access.matrix import Operation
from governance.access.selectors import visible_initiatives
from governance.reasons import say_stored
from governance.reviews.facts import experiment_facts, experiment_row
from governance.reviews.initiatives import initiative_create, initiative_submit
from governance.reviews.models import GateReview
from governance.reviews.services import review_open
from governance.rules.gates import experiment_result
from governance.value.evidence_checks import keeping_sent_file_names
from governance.workspace.admin.access import access
from governance.workspace.admin.base import (
    ScopedReadOnlyAdmin,
    ServiceErrorsAsMessages,
    object_page,
    run_for_each,
)
from governance.workspace.views import dashboard as dashboard_views
from governance.workspace.views import initiatives as initiative_views
from governance.workspace.views.forms import InitiativeForm
from projects.models import (
    Evidence,
    Experiment,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
    KPISource,
    SourceReading,
)
from projects.vocabulary import Gate, ReviewStatus, Stage

GATE_LABELS = dict(Gate.choices)


@admin.register(Initiative)
class InitiativeAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = InitiativeForm
    list_display = [
        "title",
        "stage",
        "department",
        "owner",
        "risk_tier",
        "open_review",
        "pilot_deadline_status",
        "stage_entered_at",
    ]
    list_filter = ["stage", "risk_tier", "department"]
    search_fields = ["title", "department"]
    list_select_related = ["owner"]
    change_list_template = "governance/admin/initiative_change_list.html"
    add_form_template = "governance/admin/initiative_add_form.html"
    actions = ["submit_selected", "request_review_selected"]
    save_as = False

    # Who may do what ----------------------------------------------------------------------

    def get_queryset(self, request):
        open_review = GateReview.objects.filter(initiative=OuterRef("pk"), status=ReviewStatus.OPEN)
        return visible_initiatives(request.user, super().get_queryset(request)).annotate(
            open_review_gate=Subquery(open_review.values("gate")[:1])
        )

    def has_add_permission(self, request):
        return access(request).may_register_initiative()

    def has_change_permission(self, request, obj=None):
        return False  # the page is read-only; its buttons call the services

    def has_delete_permission(self, request, obj=None):
        return False

    def has_submit_permission(self, request):
        return access(request).allows(Operation.SUBMIT_INITIATIVE)

    def has_request_review_permission(self, request):
        return access(request).allows(Operation.REQUEST_REVIEW)

    # Columns ------------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("Open review"), ordering="open_review_gate")
    def open_review(self, obj):
        return GATE_LABELS.get(obj.open_review_gate, "—") if obj.open_review_gate else "—"

    @admin.display(description=gettext_lazy("Pilot deadline"), ordering="pilot_deadline")
    def pilot_deadline_status(self, obj):
        if obj.pilot_deadline is None:
            return "—"
        if obj.stage == Stage.PILOT and obj.pilot_deadline < timezone.now().date():
            # Translators: a pilot's deadline (a day), which has passed.
            overdue = _("%(deadline)s (overdue)") % {"deadline": obj.pilot_deadline}
            return format_html('<span class="vg-fail">{}</span>', overdue)
        return obj.pilot_deadline

    # Actions: each calls a service per initiative and reports each refusal ---------------

    @admin.action(
        description=gettext_lazy("Submit the selected drafts to the committee"), permissions=["submit"]
    )
    def submit_selected(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda initiative: initiative_submit(actor=request.user, initiative=initiative),
            done=ngettext_lazy("%(count)d draft submitted.", "%(count)d drafts submitted.", "count"),
        )

    @admin.action(
        description=gettext_lazy("Request a review of the next gate"), permissions=["request_review"]
    )
    def request_review_selected(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda initiative: review_open(actor=request.user, initiative=initiative),
            done=ngettext_lazy(
                "%(count)d review opened; the committee was notified.",
                "%(count)d reviews opened; the committee was notified.",
                "count",
            ),
        )

    # Pages ---------------------------------------------------------------------------------

    def get_urls(self):
        def view(function, name, *, uploads=False):
            return object_page(self, function, name, wrap=keeping_sent_file_names if uploads else None)

        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(lambda request: dashboard_views.dashboard(request, self)),
                name="projects_initiative_dashboard",
            ),
            view(initiative_views.describe, "describe"),
            view(initiative_views.business_case, "business_case"),
            view(initiative_views.kpi, "kpi"),
            view(initiative_views.measurements, "measurements"),
            view(initiative_views.experiment, "experiment"),
            view(initiative_views.experiment_look, "experiment_look"),
            view(initiative_views.experiment_plan, "experiment_plan"),
            view(initiative_views.kpi_source, "kpi_source"),
            view(initiative_views.money, "money"),
            view(initiative_views.evidence, "evidence", uploads=True),
            view(initiative_views.submit, "submit"),
            view(initiative_views.request_review, "request_review"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return initiative_views.page(request, self, object_id)

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        created = initiative_create(actor=request.user, **form.cleaned_data)
        obj.pk = created.pk  # for the admin's log entry and the redirect; the service saved it

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(
            request,
            _("“%(title)s” is registered as a draft. Add its business case and KPIs, then submit it.")
            % {"title": obj.title},
        )
        return HttpResponseRedirect(reverse("admin:projects_initiative_change", args=[obj.pk]))


class MeasurementOrigin(admin.SimpleListFilter):
    title = gettext_lazy("origin")
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("source", gettext_lazy("measured from source")), ("lead", gettext_lazy("reported by lead"))]

    def queryset(self, request, queryset):
        if self.value() in ("source", "lead"):
            return queryset.filter(reading__isnull=self.value() == "lead")
        return queryset


@admin.register(KPIMeasurement)
class MeasurementAdmin(ScopedReadOnlyAdmin):
    initiative_path = "kpi__initiative"
    list_display = ["kpi", "initiative", "period", "value", "sample_size", "origin", "source", "recorded_at"]
    list_filter = [MeasurementOrigin]
    list_select_related = ["kpi__initiative"]
    date_hierarchy = "period"

    @admin.display(description=gettext_lazy("Initiative"))
    def initiative(self, obj):
        return obj.kpi.initiative

    @admin.display(description=gettext_lazy("origin"))
    def origin(self, obj):
        return _("measured from source") if obj.measured_from_source else _("reported by lead")


@admin.register(KPISource)
class KPISourceAdmin(ScopedReadOnlyAdmin):
    """Where KPIs are measured from: the committee reads each query that produced a figure."""

    initiative_path = "kpi__initiative"
    list_display = [
        "kpi",
        "initiative",
        "connector",
        "version",
        "active",
        "last_read_at",
        "failing_since",
        "problem",
    ]
    list_filter = ["connector", "active"]
    list_select_related = ["kpi__initiative"]
    exclude = ["last_problem"]
    readonly_fields = ["problem"]

    @admin.display(description=gettext_lazy("Initiative"))
    def initiative(self, obj):
        return obj.kpi.initiative

    @admin.display(description=gettext_lazy("last problem"))
    def problem(self, obj):
        return say_stored(obj.last_problem) if obj.last_problem else "—"


@admin.register(SourceReading)
class SourceReadingAdmin(ScopedReadOnlyAdmin):
    """The provenance of measurements read from a source: what anyone can recompute."""

    initiative_path = "source__kpi__initiative"
    list_display = ["source", "connector", "source_version", "row_count", "result_hash", "read_at"]
    list_select_related = ["source__kpi"]
    date_hierarchy = "read_at"


@admin.register(Experiment)
class ExperimentAdmin(ScopedReadOnlyAdmin):
    initiative_path = "kpi__initiative"
    list_display = ["name", "kpi", "metric", "control_size", "treatment_size", "computed_result"]
    list_filter = ["metric"]
    list_select_related = ["kpi"]
    readonly_fields = ["computed_result"]

    @admin.display(description=gettext_lazy("At the latest look (computed by ValueGate, fixed-horizon test)"))
    def computed_result(self, obj):
        # The experiment row holds its latest look, so no look is read per row here; the initiative
        # page and the gate judge every look.
        try:
            result = experiment_result(experiment_facts(experiment_row(obj, [])))
        except (ValueError, TypeError) as error:
            return str(error)
        return result.describe()


@admin.register(FinancialEntry)
class FinancialEntryAdmin(ScopedReadOnlyAdmin):
    list_display = ["initiative", "kind", "month", "amount", "description"]
    list_filter = ["kind"]
    list_select_related = ["initiative"]


@admin.register(Evidence)
class EvidenceAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "title",
        "initiative",
        "kind",
        "version_of",
        "short_sha256",
        "submitted_by",
        "submitted_at",
        "download",
    ]
    list_filter = ["kind"]
    list_select_related = ["initiative", "submitted_by", "replaces"]
    readonly_fields = ["download"]
    exclude = ["file"]

    @admin.display(description=gettext_lazy("Replaces"))
    def version_of(self, obj):
        return obj.replaces.title if obj.replaces_id else "—"

    @admin.display(description=gettext_lazy("SHA-256"))
    def short_sha256(self, obj):
        return format_html('<code title="{}">{}…</code>', obj.sha256, obj.sha256[:12])

    @admin.display(description=gettext_lazy("File"))
    def download(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("evidence-download", args=[obj.pk]), _("Download"))
