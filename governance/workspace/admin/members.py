"""People and their governance roles.

Roles are granted and revoked here (or with `manage.py role`) and nowhere else in the admin: each
change goes through the membership services, so the ledger names the governance admin who made
it. Django's user admin keeps the accounts themselves and no longer edits groups or permissions.
"""

from __future__ import annotations

import json
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from governance.access.matrix import Operation, allowed
from governance.access.membership import account_changed, account_flags, membership_set
from governance.access.models import Member
from governance.access.preferences import person_name
from governance.access.recording import governed_groups
from governance.ledger.canonical import canonical_json
from governance.ledger.events import MEMBERSHIP_GRANTED, MEMBERSHIP_REVOKED
from governance.ledger.models import LedgerEvent
from governance.workspace.admin.base import ServiceErrorsAsMessages


def role_names() -> list[str]:
    """The governance role groups, in the order the pages list them."""
    return sorted(governed_groups())


class MemberRolesForm(forms.ModelForm):
    """One checkbox per governance role; nothing of the account itself."""

    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Governance roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Each grant and revocation is recorded in the decision ledger with your name."
        ),
    )
    # The roles as this page showed them: a save made from an outdated page is refused rather than
    # undoing a change someone made after the page was opened.
    shown = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)

    class Meta:
        model = Member
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(name, name) for name in role_names()]
        cast(forms.MultipleChoiceField, self.fields["roles"]).choices = choices
        cast(forms.MultipleChoiceField, self.fields["shown"]).choices = choices
        held = held_roles(self.instance) if self.instance.pk else []
        self.fields["roles"].initial = held
        self.fields["shown"].initial = held


def held_roles(member) -> list[str]:
    """Names of the governance roles `member` holds (from the list's prefetch when there is one)."""
    prefetched = getattr(member, "governance_roles", None)
    if prefetched is not None:
        return sorted(group.name for group in prefetched)
    return sorted(member.groups.filter(name__in=governed_groups()).values_list("name", flat=True))


class RoleFilter(admin.SimpleListFilter):
    title = gettext_lazy("governance role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(name, name) for name in role_names()]

    def queryset(self, request, queryset):
        if self.value() in governed_groups():
            return queryset.filter(groups__name=self.value())
        return queryset


@admin.register(Member)
class MemberAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = MemberRolesForm
    list_display = ["username", "full_name", "email", "is_active", "roles_held"]
    list_filter = [RoleFilter, "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    actions = None
    ACCOUNT_FIELDS = ("username", "full_name", "email", "is_active", "is_staff", "last_login")
    readonly_fields = (*ACCOUNT_FIELDS, "role_history")
    fieldsets = [
        (None, {"fields": ACCOUNT_FIELDS}),
        (
            gettext_lazy("Governance roles"),
            {
                "fields": ["roles", "shown"],
                "description": gettext_lazy(
                    "Nobody changes their own roles. Accounts are created and edited under "
                    "Users; a person needs staff status to use these pages."
                ),
            },
        ),
        (gettext_lazy("Role history"), {"fields": ["role_history"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if self._may_manage(request):
            return self.fieldsets
        # A reader (an auditor) sees the account, the roles held and their history; no form.
        return [
            (None, {"fields": [*self.ACCOUNT_FIELDS, "roles_held"]}),
            (gettext_lazy("Role history"), {"fields": ["role_history"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if self._may_manage(request):
            return self.readonly_fields
        return (*self.ACCOUNT_FIELDS, "roles_held", "role_history")

    @admin.display(description=gettext_lazy("Role history"))
    def role_history(self, obj):
        """Every grant and revocation of the person's governance roles, from the ledger: who did it
        and when (the ledger is what proves it; this page only reads it)."""
        username = obj.get_username()
        events = [
            event
            for event in LedgerEvent.objects.filter(
                action__in=(MEMBERSHIP_GRANTED.code, MEMBERSHIP_REVOKED.code),
                payload__contains=canonical_json({"user": username})[1:-1],
            ).order_by("recorded_at", "id")
            if json.loads(event.payload).get("user") == username
        ]
        if not events:
            return _("No role was granted or revoked through ValueGate.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>#{}</td></tr>",
            (
                (
                    date_format(localtime(event.recorded_at), "DATETIME_FORMAT"),
                    event.action_label,
                    json.loads(event.payload).get("group", ""),
                    event.actor_name,
                    event.seq if event.seq is not None else "—",
                )
                for event in events
            ),
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("When"),
            _("Change"),
            _("Role"),
            _("By"),
            _("Ledger event"),
            rows,
        )

    def get_queryset(self, request):
        # One query for the roles of every listed person, however many there are.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "groups",
                    queryset=Group.objects.filter(name__in=governed_groups()),
                    to_attr="governance_roles",
                )
            )
        )

    def _may_manage(self, request) -> bool:
        return allowed(request.user, Operation.MANAGE_MEMBERSHIP)

    def _may_read(self, request) -> bool:
        return allowed(request.user, Operation.READ_MEMBERSHIP) or self._may_manage(request)

    def has_module_permission(self, request):
        return self._may_read(request)

    def has_view_permission(self, request, obj=None):
        return self._may_read(request)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_add_permission(self, request):
        return False  # accounts are created under Users

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Name"), ordering="last_name")
    def full_name(self, obj):
        return person_name(obj) if (obj.first_name or obj.last_name) else "—"

    @admin.display(description=gettext_lazy("Governance roles"))
    def roles_held(self, obj):
        # Translators: the separator between the names of the roles a person holds.
        return pgettext("list separator", ", ").join(held_roles(obj)) or "—"

    def save_model(self, request, obj, form, change):
        # The account is never saved here; only its roles change, through the services.
        obj.roles_granted, obj.roles_revoked = membership_set(
            actor=request.user,
            user=obj,
            wanted=set(form.cleaned_data["roles"]),
            shown=set(form.cleaned_data["shown"]),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(show_save_and_continue=False, show_save_and_add_another=False, show_delete=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        changes = [
            # Translators: one change in a list of role changes; the role is a group's name.
            *(_("granted “%(role)s”") % {"role": name} for name in obj.roles_granted),
            # Translators: one change in a list of role changes; the role is a group's name.
            *(_("revoked “%(role)s”") % {"role": name} for name in obj.roles_revoked),
        ]
        username = obj.get_username()
        if changes:
            self.message_user(
                request,
                # Translators: a username, then the list of roles granted and revoked.
                _("%(username)s: %(changes)s. Recorded in the decision ledger.")
                % {"username": username, "changes": pgettext("list separator", ", ").join(changes)},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, _("%(username)s: no role changed.") % {"username": username}, messages.INFO
            )
        return self.response_post_save_change(request, obj)


# Django's user admin, without the fields that would change roles or permissions behind the
# services' back (and so without the ledger knowing who did it).
ROLE_FIELDS = ("groups", "user_permissions")

admin.site.unregister(User)
# Role groups get exactly the Django permissions the permission matrix derives for them
# (governance/access/roles.py); editing a group's permissions by hand would let the admin's menus drift
# from the matrix until the next migrate reset them.
admin.site.unregister(Group)


@admin.register(User)
class AccountAdmin(UserAdmin):
    filter_horizontal = ()

    def save_model(self, request, obj, form, change):
        # Deactivating someone, or making them staff or a superuser, changes what they may do:
        # the ledger records who did it, in the same transaction as the save.
        # A new account is recorded by the roles it is later given, not here.
        before = account_flags(type(obj).objects.get(pk=obj.pk) if change else obj)
        super().save_model(request, obj, form, change)
        account_changed(actor=request.user, user=obj, before=before)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets  # the add form asks for username and password only
        roles_page = format_html(
            _(
                "Governance roles are granted and revoked on the "
                '<a href="{url}">people and roles</a> page, which records who changed them in the '
                "decision ledger."
            ),
            url=reverse("admin:governance_member_change", args=[obj.pk]),
        )
        trimmed = []
        for name, options in fieldsets:
            fields = [field for field in options["fields"] if field not in ROLE_FIELDS]
            if len(fields) < len(options["fields"]):
                options = {**options, "description": roles_page}
            trimmed.append((name, {**options, "fields": fields}))
        return trimmed
