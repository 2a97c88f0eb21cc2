"""The committee's pages: the sign-off queue, the sign-off form, the chair's decisions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from governance.access.matrix import Operation
from governance.access.selectors import visible_initiatives
from governance.errors import DomainError
from governance.reviews.models import Condition, GateReview
from governance.reviews.portfolio import review_checklists
from governance.reviews.queue import awaiting_signoff
from governance.reviews.services import initiative_advance, review_hold, review_kill
from governance.reviews.signoffs import ConditionInput, condition_close, signoff_record
from governance.workspace.admin.access import access, require
from governance.workspace.views import forms
from governance.workspace.views.common import admin_page, form_page, initiative_url, refused
from projects.models import BusinessCase
from projects.vocabulary import ReviewStatus, function_name


def queue_url() -> str:
    return reverse("admin:governance_gatereview_queue")


def visible_review(request, object_id) -> GateReview:
    if not request.user.has_perm("governance.view_gatereview"):
        raise PermissionDenied
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise Http404 from None
    review = (
        GateReview.objects.select_related("initiative", "policy", "requested_by")
        .filter(pk=pk, initiative__in=visible_initiatives(request.user))
        .first()
    )
    if review is None:
        raise Http404(_("No such review."))
    return review


def queue(request, model_admin):
    """Awaiting my sign-off: oldest first, with age and the checklist of each review."""
    who = access(request)
    require(who.allows(Operation.SIGN_OFF))
    now = timezone.now()
    try:
        page = int(request.GET.get("page", 1))
    except ValueError:
        page = 1
    queue_page = awaiting_signoff(request.user, who.functions, now=now, page=page)
    return admin_page(
        request,
        model_admin,
        "governance/admin/queue.html",
        title=_("Awaiting my sign-off"),
        items=queue_page.items,
        queue_page=queue_page,
        functions=sorted(who.functions),
        function_names=pgettext("between the words of a list", ", ").join(
            function_name(f) for f in sorted(who.functions)
        ),
        now=now,
    )


def _outcome_message(review: GateReview) -> str:
    review.refresh_from_db()
    initiative = review.initiative
    initiative.refresh_from_db()
    if review.status == ReviewStatus.OPEN:
        return _("Your sign-off was recorded. The review stays open for the other functions.")
    # Translators: the review's outcome ("Go"), the initiative's title and its new stage, in lower case.
    return _(
        "Your sign-off was recorded and the review closed: %(outcome)s. “%(title)s” is now in %(stage)s."
    ) % {
        "outcome": review.get_outcome_display(),
        "title": initiative.title,
        "stage": initiative.get_stage_display().lower(),
    }


def sign(request, model_admin, object_id):
    """The sign-off page: the checklist, the evidence, and decision, rationale and conditions."""
    review = visible_review(request, object_id)
    who = access(request)
    if not review.is_open and who.allows(Operation.SIGN_OFF):
        messages.info(
            request,
            # Translators: the gate, in lower case ("pilot gate"), the initiative's title, the review's outcome.
            _("The %(gate)s of “%(title)s” was already decided: %(outcome)s.")
            % {
                "gate": review.get_gate_display().lower(),
                "title": review.initiative.title,
                "outcome": review.get_outcome_display(),
            },
        )
        return HttpResponseRedirect(queue_url())
    functions = who.functions_to_sign(review)
    require(bool(functions))
    data = request.POST or None
    form = forms.SignOffForm(data, functions=functions)
    conditions = forms.ConditionFormSet(data, prefix="conditions")
    if request.method == "POST" and form.is_valid() and conditions.is_valid():
        try:
            signoff_record(
                actor=request.user,
                review=review,
                function=form.cleaned_data["function"],
                decision=form.cleaned_data["decision"],
                rationale=form.cleaned_data["rationale"],
                conditions=[
                    ConditionInput(text=c.cleaned_data["text"], due_on=c.cleaned_data["due_on"])
                    for c in conditions.forms
                    if c.has_changed() and c.cleaned_data
                ],
            )
        except DomainError as error:
            refused(request, error, form)
        else:
            messages.success(request, _outcome_message(review))
            return HttpResponseRedirect(queue_url())
    now = timezone.now()
    checklist = review_checklists([review], now=now)[review.pk] if review.is_open else None
    initiative = review.initiative
    return form_page(
        request,
        model_admin,
        template="governance/admin/signoff.html",
        # Translators: the gate, in lower case ("pilot gate"), and the initiative's title.
        title=_("Sign off: %(gate)s of “%(title)s”")
        % {"gate": review.get_gate_display().lower(), "title": initiative.title},
        form=form,
        formset=conditions,
        back_url=queue_url(),
        submit_label=_("Record my sign-off"),
        obj=review,
        review=review,
        initiative=initiative,
        checklist=checklist,
        currency=BusinessCase.objects.filter(initiative=initiative).values_list("currency", flat=True).first()
        or "",
        evidence=initiative.evidence.select_related("submitted_by").order_by("id"),
        signoffs=review.signoffs.select_related("function", "reviewer").order_by("signed_at", "id"),
        initiative_url=initiative_url(initiative),
    )


def hold(request, model_admin, object_id):
    review = visible_review(request, object_id)
    require(access(request).may_decide(review))
    form = forms.HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_hold(actor=request.user, review=review, **form.cleaned_data)
        except DomainError as error:
            refused(request, error, form)
        else:
            messages.success(
                request,
                # Translators: the day the decision is revisited (YYYY-MM-DD).
                _("The review is on hold until %(date)s.")
                % {"date": f"{form.cleaned_data['revisit_on']:%Y-%m-%d}"},
            )
            return HttpResponseRedirect(initiative_url(review.initiative_id))
    return form_page(
        request,
        model_admin,
        # Translators: the gate, in lower case ("pilot gate"), and the initiative's title.
        title=_("Hold the %(gate)s of “%(title)s”")
        % {"gate": review.get_gate_display().lower(), "title": review.initiative.title},
        intro=_("The initiative stays where it is; the decision is revisited on the date you set."),
        form=form,
        back_url=initiative_url(review.initiative_id),
        submit_label=pgettext("review action", "Hold"),
        obj=review,
    )


def kill(request, model_admin, object_id):
    review = visible_review(request, object_id)
    require(access(request).may_decide(review))
    form = forms.KillForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_kill(actor=request.user, review=review, **form.cleaned_data)
        except DomainError as error:
            refused(request, error, form)
        else:
            review.initiative.refresh_from_db()
            messages.success(
                request,
                # Translators: the initiative's title and its new stage, in lower case.
                _("Killed: “%(title)s” is now %(stage)s.")
                % {"title": review.initiative.title, "stage": review.initiative.get_stage_display().lower()},
            )
            return HttpResponseRedirect(initiative_url(review.initiative_id))
    return form_page(
        request,
        model_admin,
        # Translators: the gate, in lower case ("pilot gate"), and the initiative's title.
        title=_("Kill the %(gate)s of “%(title)s”")
        % {"gate": review.get_gate_display().lower(), "title": review.initiative.title},
        intro=_("A proposal is rejected, a pilot retired, a proposed retirement refused."),
        form=form,
        back_url=initiative_url(review.initiative_id),
        submit_label=pgettext("review action", "Kill"),
        obj=review,
        danger=True,
    )


@require_POST
def advance(request, model_admin, object_id):
    review = visible_review(request, object_id)
    require(access(request).may_advance(review))
    try:
        initiative_advance(actor=request.user, review=review)
    except DomainError as error:
        refused(request, error)
    else:
        review.initiative.refresh_from_db()
        messages.success(
            request,
            # Translators: the initiative's title and its new stage, in lower case.
            _("Advanced: “%(title)s” is now %(stage)s.")
            % {"title": review.initiative.title, "stage": review.initiative.get_stage_display().lower()},
        )
    return HttpResponseRedirect(initiative_url(review.initiative_id))


def close_condition(request, model_admin, object_id):
    if not request.user.has_perm("governance.view_condition"):
        raise PermissionDenied
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise Http404 from None
    condition = (
        Condition.objects.select_related("initiative")
        .filter(pk=pk, initiative__in=visible_initiatives(request.user))
        .first()
    )
    if condition is None:
        raise Http404(_("No such condition."))
    require(access(request).may_close_condition(condition))
    form = forms.ConditionCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            condition_close(actor=request.user, condition=condition, note=form.cleaned_data["note"])
        except DomainError as error:
            refused(request, error, form)
        else:
            messages.success(request, _("The condition is closed."))
            return HttpResponseRedirect(initiative_url(condition.initiative_id))
    return form_page(
        request,
        model_admin,
        title=_("Close a condition"),
        intro=condition.text,
        form=form,
        back_url=initiative_url(condition.initiative_id),
        submit_label=_("Close the condition"),
        obj=condition,
    )
