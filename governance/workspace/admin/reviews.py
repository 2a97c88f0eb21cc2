"""Admin for gate reviews, sign-offs and conditions: read-only rows, decisions through services."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from governance.access.matrix import Operation
from governance.reviews.models import Condition, GateReview, SignOff
from governance.reviews.services import initiative_advance
from governance.workspace.admin.access import access
from governance.workspace.admin.base import ReadOnlyInline, ScopedReadOnlyAdmin, object_page, run_for_each
from governance.workspace.views import reviews as review_views


class SignOffInline(ReadOnlyInline):
    model = SignOff
    fields = ("function", "reviewer", "decision", "rationale", "signed_at", "superseded_at", "digest")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("function", "reviewer")


@admin.register(GateReview)
class GateReviewAdmin(ScopedReadOnlyAdmin):
    list_display = ["initiative", "gate", "status", "outcome", "opened_at", "waiting", "decided_at"]
    list_filter = ["gate", "status", "outcome"]
    list_select_related = ["initiative"]
    inlines = [SignOffInline]
    actions = ["advance_selected"]
    change_form_template = "governance/admin/review_change_form.html"
    change_list_template = "governance/admin/review_change_list.html"

    def has_advance_permission(self, request):
        # A lead's list holds only their own initiatives' reviews; the service checks each again.
        return access(request).allows(Operation.ADVANCE_INITIATIVE)

    @admin.display(description=gettext_lazy("Waiting"))
    def waiting(self, obj):
        if not obj.is_open:
            return "—"
        days = (timezone.now() - obj.opened_at).days
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}

    @admin.action(
        description=gettext_lazy("Advance the selected reviews whose gate passes"), permissions=["advance"]
    )
    def advance_selected(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset.select_related("initiative"),
            lambda review: initiative_advance(actor=request.user, review=review),
            done=ngettext_lazy("%(count)d initiative advanced.", "%(count)d initiatives advanced.", "count"),
        )

    def get_urls(self):
        def view(function, name):
            return object_page(self, function, name)

        return [
            path(
                "queue/",
                self.admin_site.admin_view(lambda request: review_views.queue(request, self)),
                name="governance_gatereview_queue",
            ),
            view(review_views.sign, "sign"),
            view(review_views.hold, "hold"),
            view(review_views.kill, "kill"),
            view(review_views.advance, "advance"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            who = access(request)
            context.update(
                may_sign=who.may_sign(obj),
                may_decide=who.may_decide(obj),
                may_advance=who.may_advance(obj),
                initiative_url=reverse("admin:projects_initiative_change", args=[obj.initiative_id]),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("initiative", "policy", "requested_by", "decided_by")
        )


@admin.register(SignOff)
class SignOffAdmin(ScopedReadOnlyAdmin):
    initiative_path = "review__initiative"
    list_display = ["review", "function", "reviewer", "decision", "signed_at", "superseded_at"]
    list_filter = ["function", "decision"]
    list_select_related = ["review__initiative", "function", "reviewer"]


@admin.register(Condition)
class ConditionAdmin(ScopedReadOnlyAdmin):
    list_display = ["text", "initiative", "owner", "due_on", "closed_at"]
    list_select_related = ["initiative", "owner"]
    change_form_template = "governance/admin/condition_change_form.html"

    def get_urls(self):
        return [
            object_page(self, review_views.close_condition, "close"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["may_close"] = access(request).may_close_condition(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
