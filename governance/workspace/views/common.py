"""What every workspace page shares: the admin's frame, the visible objects, service refusals."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from governance.access.selectors import visible_initiatives
from governance.errors import DomainError
from projects.models import Initiative


def admin_page(request, model_admin, template: str, *, title: str, **context) -> TemplateResponse:
    """Render `template` inside the admin's frame (header, sidebar, breadcrumbs data)."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            **context,
        },
    )


def form_page(
    request,
    model_admin,
    *,
    title: str,
    form,
    formset=None,
    back_url: str,
    submit_label: str,
    intro: str = "",
    obj=None,
    multipart: bool = False,
    template: str = "governance/admin/form_page.html",
    **context,
) -> TemplateResponse:
    return admin_page(
        request,
        model_admin,
        template,
        title=title,
        form=form,
        formset=formset,
        back_url=back_url,
        submit_label=submit_label,
        intro=intro,
        obj=obj,
        multipart=multipart,
        **context,
    )


def visible_initiative(request, object_id) -> Initiative:
    """The initiative if the user may see it; a 404 otherwise, so that others' drafts stay unknown."""
    if not request.user.has_perm("projects.view_initiative"):
        raise PermissionDenied
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise Http404 from None
    initiative = visible_initiatives(request.user).filter(pk=pk).first()
    if initiative is None:
        raise Http404(_("No such initiative."))
    return initiative


def initiative_url(initiative_or_pk) -> str:
    pk = getattr(initiative_or_pk, "pk", initiative_or_pk)
    return reverse("admin:projects_initiative_change", args=[pk])


def refused(request, error: DomainError, form=None) -> None:
    """Show the service's reason; on the form too when there is one."""
    messages.error(request, error.message)
    if form is not None:
        form.add_error(None, error.message)
