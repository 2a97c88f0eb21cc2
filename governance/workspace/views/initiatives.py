"""A project lead's work on an initiative, and the initiative page everyone reads.

Every form hands its input to a service; a refusal comes back as the service's reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from governance.errors import DomainError
from governance.reviews.initiatives import (
    business_case_record,
    initiative_submit,
    initiative_update_draft,
    kpi_define,
)
from governance.reviews.models import GateReview
from governance.reviews.portfolio import initiative_page
from governance.reviews.services import review_open
from governance.value.connectors.config import configured_connectors
from governance.value.connectors.services import kpi_source_register
from governance.value.evidence_checks import sent_name
from governance.value.plans import PlanInput, experiment_plan_register
from governance.value.services import (
    MeasurementErrors,
    MeasurementInput,
    evidence_submit,
    experiment_look_record,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from governance.workspace.admin.access import access, require
from governance.workspace.views import forms
from governance.workspace.views.common import (
    admin_page,
    form_page,
    initiative_url,
    refused,
    visible_initiative,
)
from projects.models import BusinessCase
from projects.vocabulary import GATES_FROM_STAGE, ReviewStatus


def _has_open_review(initiative) -> bool:
    return GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN).exists()


def page_actions(request, page) -> list[dict]:
    """The buttons the initiative page offers this person, each allowed by the same rule as its URL.

    Each has a stable `code` (what the template and tests may compare) besides its translated `label`,
    and `danger` for the one that ends the initiative's course."""
    who = access(request)
    initiative = page.initiative
    pk = initiative.pk
    base = "admin:projects_initiative_"
    actions = []

    def add(code, label, *, post=False, primary=False, danger=False, url=None):
        actions.append(
            {
                "code": code,
                "label": label,
                "url": url or reverse(base + code, args=[pk]),
                "post": post,
                "primary": primary,
                "danger": danger,
            }
        )

    if who.may_edit_draft(initiative):
        add("describe", _("Edit description"))
    if who.may_record_business_case(initiative):
        add("business_case", _("Business case"))
    if who.may_define_kpi(initiative):
        add("kpi", _("Add a KPI"))
    if who.may_record_measurements(initiative) and page.kpis:
        add("measurements", _("Record measurements"))
        if configured_connectors():
            add("kpi_source", _("Measure a KPI from its source"))
    if who.may_record_experiment(initiative) and page.kpis:
        add("experiment", _("Record an A/B experiment"))
        if page.experiments:
            add("experiment_look", _("Record a later look"))
        add("experiment_plan", _("Register an experiment plan"))
    if who.may_record_money(initiative):
        add("money", _("Record a cost or benefit"))
    if who.may_upload_evidence(initiative):
        add("evidence", _("Upload evidence"))
    if who.may_submit(initiative):
        add("submit", _("Submit to the committee"), post=True, primary=True)
    if who.may_request_review(initiative, has_open_review=page.open_review is not None):
        add("request_review", _("Request a gate review"), primary=True)
    review = page.open_review
    if review is not None:
        review.initiative = initiative
        rbase = "admin:governance_gatereview_"
        if who.may_sign(review):
            add("sign", _("Sign off"), url=reverse(rbase + "sign", args=[review.pk]), primary=True)
        if who.may_advance(review):
            add("advance", _("Advance now"), url=reverse(rbase + "advance", args=[review.pk]), post=True)
        if who.may_decide(review):
            add("hold", pgettext("review action", "Hold"), url=reverse(rbase + "hold", args=[review.pk]))
            add(
                "kill",
                pgettext("review action", "Kill"),
                url=reverse(rbase + "kill", args=[review.pk]),
                danger=True,
            )
    return actions


def page(request, model_admin, object_id):
    """The initiative page: read-only; changes go through the buttons it offers."""
    if request.method not in ("GET", "HEAD"):
        raise PermissionDenied  # no form edits an initiative, its stage or its ledger in place
    initiative = visible_initiative(request, object_id)
    require(model_admin.has_view_permission(request, initiative))
    data = initiative_page(initiative.pk, now=timezone.now())
    who = access(request)
    return admin_page(
        request,
        model_admin,
        "governance/admin/initiative_page.html",
        title=data.initiative.title,
        page=data,
        initiative=data.initiative,
        original=data.initiative,
        actions=page_actions(request, data),
        closable_conditions={c.pk for c in data.conditions if who.may_close_condition(c)},
        now=timezone.now(),
    )


def _service_form(request, model_admin, initiative, form, *, save, success, title, submit_label, **page):
    """Validate `form` and hand its data to a service: on success, say `success` (a text, or a
    function of the data) and go back to the initiative; on a refusal, show the service's reason
    on the form. `page`: more of form_page's options (intro, multipart)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except DomainError as error:
            refused(request, error, form)
        else:
            messages.success(request, success(form.cleaned_data) if callable(success) else success)
            return HttpResponseRedirect(initiative_url(initiative))
    return form_page(
        request,
        model_admin,
        title=title,
        form=form,
        back_url=initiative_url(initiative),
        submit_label=submit_label,
        obj=initiative,
        **page,
    )


def describe(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_edit_draft(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.InitiativeForm(request.POST or None, instance=initiative),
        save=lambda data: initiative_update_draft(actor=request.user, initiative=initiative, **data),
        success=_("The draft's description was saved."),
        # Translators: the initiative's title.
        title=_("Edit the draft “%(title)s”") % {"title": initiative.title},
        submit_label=_("Save the description"),
    )


def business_case(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_business_case(initiative))
    existing = BusinessCase.objects.filter(initiative=initiative).first()
    initial = (
        {
            f: getattr(existing, f)
            for f in (
                "budget",
                "expected_annual_benefit",
                "horizon_months",
                "exit_criteria",
                "missed_periods_to_retire",
                "currency",
            )
        }
        if existing
        else None
    )
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.BusinessCaseForm(request.POST or None, initial=initial),
        save=lambda data: business_case_record(actor=request.user, initiative=initiative, **data),
        success=_("The business case was recorded."),
        # Translators: the initiative's title.
        title=_("Business case of “%(title)s”") % {"title": initiative.title},
        submit_label=_("Record the business case"),
    )


def kpi(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_define_kpi(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.KPIForm(request.POST or None),
        save=lambda data: kpi_define(actor=request.user, initiative=initiative, **data),
        # Translators: the KPI's name.
        success=lambda data: _("The KPI “%(name)s” was defined.") % {"name": data["name"]},
        # Translators: the initiative's title.
        title=_("Add a KPI to “%(title)s”") % {"title": initiative.title},
        submit_label=_("Define the KPI"),
    )


def measurements(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_measurements(initiative))
    data = request.POST or None
    form = forms.KPIChoiceForm(data, initiative=initiative)
    formset = forms.MeasurementRowFormSet(data, prefix="rows")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [f for f in formset.forms if f.has_changed() and f.cleaned_data]
        try:
            measurements_record(
                actor=request.user,
                kpi=form.cleaned_data["kpi"],
                measurements=[
                    MeasurementInput(
                        period=f.cleaned_data["period"],
                        value=f.cleaned_data["value"],
                        source=f.cleaned_data["source"],
                        sample_size=f.cleaned_data.get("sample_size"),
                    )
                    for f in rows
                ],
            )
        except MeasurementErrors as error:
            for index, reason in error.errors.items():
                rows[index].add_error(None, reason)
            refused(request, error)
        except DomainError as error:
            refused(request, error, form)
        else:
            messages.success(
                request,
                # Translators: the number of measurements stored.
                ngettext("%(count)d measurement recorded.", "%(count)d measurements recorded.", len(rows))
                % {"count": len(rows)},
            )
            return HttpResponseRedirect(initiative_url(initiative))
    return form_page(
        request,
        model_admin,
        # Translators: the initiative's title.
        title=_("Record KPI measurements of “%(title)s”") % {"title": initiative.title},
        intro=_("One row per month. All rows are stored, or none."),
        form=form,
        formset=formset,
        back_url=initiative_url(initiative),
        submit_label=_("Record the measurements"),
        obj=initiative,
    )


def experiment(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_experiment(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.ExperimentForm(request.POST or None, initiative=initiative),
        save=lambda data: experiment_record(
            actor=request.user, **{k: v for k, v in data.items() if v is not None}
        ),
        success=_("The experiment was recorded; ValueGate computed its lift and p-value."),
        # Translators: the initiative's title.
        title=_("Record an A/B experiment of “%(title)s”") % {"title": initiative.title},
        intro=_(
            "Summaries only (counts, or means and variances): ValueGate computes the lift, its "
            "confidence interval and the p-value itself. Record later looks as the experiment runs."
        ),
        submit_label=_("Record the experiment"),
    )


def experiment_look(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_experiment(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.ExperimentLookForm(request.POST or None, initiative=initiative),
        save=lambda data: experiment_look_record(
            actor=request.user, **{k: v for k, v in data.items() if v is not None}
        ),
        success=_("The look was recorded; the verdict now covers every look so far."),
        # Translators: the initiative's title.
        title=_("Record a later look at an experiment of “%(title)s”") % {"title": initiative.title},
        intro=_("The cumulative figures on that day: counts never decrease and looks come in date order."),
        submit_label=_("Record the look"),
    )


def _register_plan(actor, data: dict):
    figures = {k: v for k, v in data.items() if k not in ("kpi", "reason")}
    return experiment_plan_register(
        actor=actor, kpi=data["kpi"], plan=PlanInput(**figures), reason=data.get("reason") or ""
    )


def experiment_plan(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_experiment(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.ExperimentPlanForm(request.POST or None, initiative=initiative),
        save=lambda data: _register_plan(request.user, data),
        success=_("The experiment plan was registered and pinned in the ledger."),
        # Translators: the initiative's title.
        title=_("Register an experiment plan of “%(title)s”") % {"title": initiative.title},
        intro=_(
            "Register the plan before the experiment's data arrives. Before the first look a new plan "
            "replaces the old one; after it, a change needs a reason and stays visible to the committee."
        ),
        submit_label=_("Register the plan"),
    )


def kpi_source(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_measurements(initiative))
    connectors = configured_connectors().values()
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.KPISourceForm(request.POST or None, initiative=initiative, connectors=connectors),
        save=lambda data: kpi_source_register(actor=request.user, **data),
        success=_(
            "The source was registered and its query pinned in the ledger; it is read within the hour, "
            "then daily."
        ),
        # Translators: the initiative's title.
        title=_("Measure a KPI of “%(title)s” from its source") % {"title": initiative.title},
        intro=_(
            "ValueGate reads the KPI's closed months from the system of record on schedule, read-only, "
            "and records each with its provenance: the committee sees it as measured from source. "
            "A reading that fails records nothing and tells you why."
        ),
        submit_label=_("Register the source"),
    )


def money(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_record_money(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.FinancialEntryForm(request.POST or None),
        save=lambda data: financial_entry_record(actor=request.user, initiative=initiative, **data),
        success=_("The entry was recorded."),
        # Translators: the initiative's title.
        title=_("Record a cost or benefit of “%(title)s”") % {"title": initiative.title},
        submit_label=_("Record the entry"),
    )


def evidence(request, model_admin, object_id):
    """Upload evidence. Wrapped so that the file's name is checked exactly as it was sent."""
    initiative = visible_initiative(request, object_id)
    require(access(request).may_upload_evidence(initiative))
    return _service_form(
        request,
        model_admin,
        initiative,
        forms.EvidenceForm(request.POST or None, request.FILES or None, initiative=initiative),
        save=lambda data: evidence_submit(
            actor=request.user,
            initiative=initiative,
            kind=data["kind"],
            title=data["title"],
            file=data["file"],
            file_name=sent_name(data["file"]),
            replaces=data["replaces"],
        ),
        # Translators: the evidence's title.
        success=lambda data: _("The evidence “%(title)s” was stored.") % {"title": data["title"]},
        # Translators: the initiative's title.
        title=_("Upload evidence for “%(title)s”") % {"title": initiative.title},
        submit_label=_("Upload"),
        multipart=True,
    )


@require_POST
def submit(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_submit(initiative))
    try:
        initiative_submit(actor=request.user, initiative=initiative)
    except DomainError as error:
        refused(request, error)
    else:
        messages.success(request, _("Submitted: the initiative is now a proposal facing the pilot gate."))
    return HttpResponseRedirect(initiative_url(initiative))


def request_review(request, model_admin, object_id):
    initiative = visible_initiative(request, object_id)
    require(access(request).may_request_review(initiative, has_open_review=_has_open_review(initiative)))
    gates = GATES_FROM_STAGE.get(initiative.stage, ())
    form = forms.ReviewRequestForm(request.POST or None, gates=gates)
    if request.method == "POST" and form.is_valid():
        try:
            review = review_open(actor=request.user, initiative=initiative, gate=form.cleaned_data["gate"])
        except DomainError as error:
            refused(request, error, form)
        else:
            messages.success(
                request,
                # Translators: the gate, in lower case ("pilot gate").
                _("The %(gate)s review is open; the committee was notified.")
                % {"gate": review.get_gate_display().lower()},
            )
            return HttpResponseRedirect(initiative_url(initiative))
    elif request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return form_page(
        request,
        model_admin,
        # Translators: the initiative's title.
        title=_("Request a gate review of “%(title)s”") % {"title": initiative.title},
        intro=_(
            "The review is pinned to the gate's current policy; each required function is asked to sign."
        ),
        form=form,
        back_url=initiative_url(initiative),
        submit_label=_("Open the review"),
        obj=initiative,
    )
