"""Gate policies: governance admins change them by saving a new version; no version is ever edited
or deleted. Committee functions are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Field
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from governance.access.models import CommitteeFunction
from governance.reviews.models import GatePolicy
from governance.reviews.policies import policy_rule_fields, policy_version_create
from governance.workspace.admin.access import access
from governance.workspace.admin.base import ReadOnlyAdmin, ServiceErrorsAsMessages
from projects.vocabulary import EvidenceKind, FunctionCode, Term

# The policy's lists of codes, and the vocabulary that names them for people.
NAMED_LISTS: dict[str, type[Term]] = {
    "required_functions": FunctionCode,
    "required_evidence": EvidenceKind,
    "personal_data_evidence": EvidenceKind,
}


def names(vocabulary: type[Term], codes) -> str:
    """`["business", "legal"]` as people read it: "Business, Legal" in their language."""

    def name(code: str) -> str:
        try:
            return str(vocabulary(code).label)
        except ValueError:
            return code  # a code the vocabulary no longer knows: shown as stored

    # Translators: separates the items of a list ("business, legal").
    return pgettext("between the words of a list", ", ").join(name(code) for code in codes or ()) or "—"


def _named_list_display(field_name: str):
    vocabulary = NAMED_LISTS[field_name]
    field = GatePolicy._meta.get_field(field_name)
    assert isinstance(field, Field)  # a column of the policy, not a relation

    @admin.display(description=field.verbose_name)
    def display(self, obj: GatePolicy) -> str:
        return names(vocabulary, getattr(obj, field_name))

    return display


class GatePolicyForm(forms.ModelForm):
    """The rules of a gate, with lists chosen from the known functions and evidence kinds."""

    required_functions = forms.MultipleChoiceField(
        label=gettext_lazy("Required functions"),
        choices=FunctionCode.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    required_evidence = forms.MultipleChoiceField(
        label=gettext_lazy("Required evidence"),
        choices=EvidenceKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    personal_data_evidence = forms.MultipleChoiceField(
        label=gettext_lazy("Evidence when personal data is used"),
        choices=EvidenceKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Evidence kinds required when personal data is used."),
    )

    class Meta:
        model = GatePolicy
        fields = ["gate", *policy_rule_fields()]


@admin.register(GatePolicy)
class GatePolicyAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = GatePolicyForm
    list_display = [
        "gate",
        "version",
        "required_functions_names",
        "signoff_validity_days",
        "created_by",
        "created_at",
    ]
    list_filter = ["gate"]
    list_select_related = ["created_by"]
    change_form_template = "governance/admin/policy_change_form.html"
    save_as = False  # saving already creates a new version

    def has_add_permission(self, request):
        return access(request).may_add_policy_version()

    def has_change_permission(self, request, obj=None):
        return access(request).may_edit_policy()

    def has_delete_permission(self, request, obj=None):
        return False  # reviews pin the version they were opened under

    required_functions_names = _named_list_display("required_functions")
    required_evidence_names = _named_list_display("required_evidence")
    personal_data_evidence_names = _named_list_display("personal_data_evidence")

    def _shown_as_text(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    @staticmethod
    def _text_fields() -> list[str]:
        """A reader's page: every field as text, the lists of codes named as people read them."""
        rules = [f"{f}_names" if f in NAMED_LISTS else f for f in policy_rule_fields()]
        return ["gate", "version", "created_by", "created_at", *rules]

    def get_readonly_fields(self, request, obj=None):
        if self._shown_as_text(request, obj):
            return self._text_fields()
        return ["gate", "version", "created_by", "created_at"] if obj is not None else []

    def get_fields(self, request, obj=None):
        if self._shown_as_text(request, obj):
            return self._text_fields()
        fields = list(super().get_fields(request, obj))
        if obj is not None:
            fields = ["gate", "version", "created_by", "created_at", *[f for f in fields if f != "gate"]]
        return list(dict.fromkeys(fields))

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        gate = request.GET.get("gate")
        latest = GatePolicy.objects.filter(gate=gate).order_by("-version").first() if gate else None
        if latest is not None:
            initial.update({name: getattr(latest, name) for name in policy_rule_fields()})
        return initial

    def save_model(self, request, obj, form, change):
        if not (access(request).may_edit_policy() if change else access(request).may_add_policy_version()):
            raise PermissionDenied
        rules = {name: form.cleaned_data[name] for name in policy_rule_fields() if name in form.cleaned_data}
        created = policy_version_create(actor=request.user, gate=obj.gate, **rules)
        # The form's object is never saved: the admin's log and redirect point at the new version.
        obj.pk, obj.version, obj.created_by, obj.created_at = (
            created.pk,
            created.version,
            created.created_by,
            created.created_at,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # One way to save: as the next version.
        context.update(show_save_and_add_another=False, show_save_and_continue=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _saved(self, request, obj):
        messages.success(
            request,
            _(
                # Translators: a policy's version number, then the gate's name in lower case ("scale gate").
                "Saved as version %(version)s of the %(gate)s; earlier versions are "
                "unchanged and reviews already open keep theirs."
            )
            % {"version": obj.version, "gate": obj.get_gate_display().lower()},
        )
        return HttpResponseRedirect(reverse("admin:governance_gatepolicy_changelist"))

    def response_add(self, request, obj, post_url_continue=None):
        return self._saved(request, obj)

    def response_change(self, request, obj):
        return self._saved(request, obj)


@admin.register(CommitteeFunction)
class CommitteeFunctionAdmin(ReadOnlyAdmin):
    list_display = ["code", "group"]
    list_select_related = ["group"]
