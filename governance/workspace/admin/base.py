"""Shared admin building blocks. State changes go through services; rows the services own are read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext as _

from governance.access.selectors import visible_initiatives
from governance.errors import DomainError
from governance.workspace.admin.access import access


def object_page(model_admin, view, name: str, *, wrap=None):
    """The URL of a page about one object, `<object_id>/<name with dashes>/`, named
    `<app>_<model>_<name>`, behind the admin's login; `view(request, model_admin, object_id)`
    does its own permission checks. `wrap` decorates the view outside the login check."""
    opts = model_admin.model._meta
    page = model_admin.admin_site.admin_view(lambda request, object_id: view(request, model_admin, object_id))
    return path(
        f"<path:object_id>/{name.replace('_', '-')}/",
        wrap(page) if wrap else page,
        name=f"{opts.app_label}_{opts.model_name}_{name}",
    )


class NoEditing:
    """Rows changed only by services: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoEditing, admin.ModelAdmin):
    """Rows changed only by services: viewable, never edited here."""


class ScopedReadOnlyAdmin(ReadOnlyAdmin):
    """Read-only rows that belong to an initiative: a project lead sees those of their own only."""

    initiative_path = "initiative"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access(request).sees_whole_portfolio:
            return queryset  # the committee, auditors and governance admins read the whole portfolio
        return queryset.filter(**{f"{self.initiative_path}__in": visible_initiatives(request.user)})


class ReadOnlyInline(NoEditing, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ServiceErrorsAsMessages(admin.ModelAdmin):
    """A service's refusal while an admin form saves becomes a message; nothing is stored."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def run_for_each(model_admin, request, queryset, service, *, done) -> None:
    """Run `service(obj)` for each selected object; report successes and each refusal's reason.

    `done` is the success message, an `ngettext_lazy(..., "count")` with a `%(count)d` placeholder."""
    succeeded = 0
    for obj in queryset:
        try:
            service(obj)
        except DomainError as error:
            model_admin.message_user(
                request,
                # Translators: what was acted on (an initiative, a review, a token), then why it was refused.
                _("%(object)s: %(reason)s") % {"object": obj, "reason": error.message},
                messages.ERROR,
            )
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(request, done % {"count": succeeded}, messages.SUCCESS)
