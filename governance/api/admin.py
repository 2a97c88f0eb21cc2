"""API tokens in the admin: issue one (its secret is shown once), rotate it, revoke it.

A person sees and revokes their own tokens; superusers and governance admins see and revoke all.
Tokens are never edited or deleted: a revoked token stays on record.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.access.matrix import Operation, allowed
from governance.api.models import ApiToken
from governance.api.tokens import may_manage_all_tokens, token_issue, token_revoke, token_rotate
from governance.errors import DomainError
from projects.models import Initiative


class IssueTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "initiative"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A token can be bound only to an initiative its issuer leads.
        led = Initiative.objects.filter(owner=user).order_by("title")
        cast(forms.ModelChoiceField, self.fields["initiative"]).queryset = led
        self.fields["initiative"].help_text = _(
            "Leave empty for a personal token that acts as you. Bound to an initiative, the token acts as "
            "its project lead but reaches only that initiative's KPIs, measurements, experiments, costs "
            "and benefits, evidence and checklist."
        )


# What a token shows, in its list and on its page: nothing of it is edited here.
SHOWN = ("name", "prefix", "user", "initiative", "created_at", "last_used_at", "expires_at", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = SHOWN
    list_filter = ["revoked_at"]
    list_select_related = ["user", "initiative"]
    readonly_fields = SHOWN
    actions = ["rotate", "revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if may_manage_all_tokens(request.user):
            return queryset
        return queryset.filter(user=request.user)

    def has_module_permission(self, request) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and allowed(request.user, Operation.MANAGE_API_TOKENS)
        )

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or obj.user_id == request.user.pk or may_manage_all_tokens(request.user)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_rotate_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class Form(IssueTokenForm):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=user, **kw)

        return Form

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["name", "initiative"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        # The service issues the token; the secret lives only in this response.
        token, secret = token_issue(
            actor=request.user, name=form.cleaned_data["name"], initiative=form.cleaned_data["initiative"]
        )
        obj.pk = token.pk
        request._issued_secret = secret

    def save_related(self, request, form, formsets, change) -> None:
        return None  # nothing related to save; the service did the work

    def log_addition(self, request, obj, message):
        return None  # the ledger records the issue

    def response_add(self, request, obj, post_url_continue=None):
        token = ApiToken.objects.get(pk=obj.pk)
        return TemplateResponse(
            request,
            "api/token_created.html",
            {
                **self.admin_site.each_context(request),
                "title": _("API token issued"),
                "token": token,
                "secret": request._issued_secret,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=gettext_lazy(
            "Rotate the selected token (a new secret; the old one works a while longer)"
        ),
        permissions=["rotate"],
    )
    def rotate(self, request, queryset):
        tokens = list(queryset[:2])
        if len(tokens) != 1:
            self.message_user(
                request, _("Select one token to rotate: its new secret is shown once."), messages.WARNING
            )
            return None
        try:
            new, secret = token_rotate(actor=request.user, token=tokens[0])
        except DomainError as error:
            self.message_user(
                request,
                # Translators: what was acted on (an initiative, a review, a token), then why it was refused.
                _("%(object)s: %(reason)s") % {"object": tokens[0], "reason": error.message},
                messages.WARNING,
            )
            return None
        return TemplateResponse(
            request,
            "api/token_created.html",
            {
                **self.admin_site.each_context(request),
                "title": _("API token rotated"),
                "token": new,
                "replaced": ApiToken.objects.get(pk=tokens[0].pk),
                "secret": secret,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=gettext_lazy("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset:
            try:
                token_revoke(actor=request.user, token=token)
                revoked += 1
            except DomainError as error:
                self.message_user(
                    request,
                    # Translators: what was acted on (an initiative, a review, a token), then why it was refused.
                    _("%(object)s: %(reason)s") % {"object": token, "reason": error.message},
                    messages.WARNING,
                )
        if revoked:
            self.message_user(
                request,
                ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked)
                % {"count": revoked},
                messages.SUCCESS,
            )
