"""Initiatives: create, describe, submit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.access.checks import lock_initiative, require_on, require_single_line
from governance.access.matrix import Operation, require
from governance.errors import GateNotSatisfied, InvalidInput, WrongStage
from governance.ledger.chain import ledger_append
from governance.ledger.events import (
    BUSINESS_CASE_RECORDED,
    INITIATIVE_CREATED,
    INITIATIVE_SUBMITTED,
    INITIATIVE_UPDATED,
    KPI_DEFINED,
)
from governance.reviews.facts import gate_inputs, initiative_with_gate_data
from governance.rules.gates import SUBMISSION_RULES, evaluate_gate
from projects.models import KPI, BusinessCase, GateClearance, Initiative
from projects.money import validate_currency
from projects.values import parse_decimal
from projects.vocabulary import Direction, RiskTier, Stage


@transaction.atomic
def initiative_create(
    *,
    actor,
    title: str,
    department: str,
    pain_point: str,
    process_embedding: str,
    risk_tier: str = RiskTier.LIMITED,
    uses_personal_data: bool = False,
    sponsor=None,
) -> Initiative:
    """A project lead registers a draft initiative they own. Ledger: initiative.created."""
    # Translators: completes the refusal "Only <who> may …."
    require(actor, Operation.REGISTER_INITIATIVE, doing=pgettext("refusal", "register initiatives"))
    if not title.strip():
        raise InvalidInput(_("An initiative needs a title."))
    require_single_line(title=title, department=department)
    if risk_tier not in RiskTier.values:
        raise InvalidInput(_unknown_risk_tier(risk_tier))
    initiative = Initiative.objects.create(
        title=title.strip(),
        owner=actor,
        sponsor=sponsor,
        department=department,
        pain_point=pain_point,
        process_embedding=process_embedding,
        risk_tier=risk_tier,
        uses_personal_data=uses_personal_data,
    )
    ledger_append(
        actor=actor,
        action=INITIATIVE_CREATED,
        initiative=initiative,
        payload={
            "title": initiative.title,
            "department": department,
            "pain_point": pain_point,
            "process_embedding": process_embedding,
            "risk_tier": risk_tier,
            "uses_personal_data": uses_personal_data,
            "sponsor": sponsor.get_username() if sponsor else None,
        },
    )
    return initiative


def _unknown_risk_tier(risk_tier) -> str:
    # Translators: %(tier)s is the risk tier code that was sent, quoted, e.g. 'severe'.
    return _("Unknown risk tier %(tier)s.") % {"tier": repr(risk_tier)}


def _stage_word(initiative: Initiative) -> str:
    """The initiative's stage in lower case, as a sentence names it ("draft", "pilot")."""
    return initiative.get_stage_display().lower()


def _editable_by_owner(actor, initiative: Initiative, *, action: str) -> Initiative:
    """`action` words the edit in a refusal, translated by the caller."""
    initiative = lock_initiative(initiative)
    require_on(actor, Operation.EDIT_DRAFT, initiative, action=action)
    if initiative.stage != Stage.DRAFT:
        # Translators: %(stage)s is the initiative's stage in lower case, e.g. "pilot".
        message = _("Only a draft can be edited; this initiative is in %(stage)s.")
        raise WrongStage(message % {"stage": _stage_word(initiative)})
    return initiative


@transaction.atomic
def business_case_record(
    *,
    actor,
    initiative: Initiative,
    budget: Decimal | str,
    expected_annual_benefit: Decimal | str,
    horizon_months: int,
    exit_criteria: str,
    missed_periods_to_retire: int = 3,
    currency: str = "",
) -> BusinessCase:
    """Record or replace the draft's business case; `currency` is the ISO 4217 code of its amounts
    (blank: the deployment's). Ledger: business_case.recorded."""
    initiative = _editable_by_owner(
        actor,
        initiative,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "edit its business case"),
    )
    try:
        budget = parse_decimal(budget, what=_("Budget"), max_digits=14, decimal_places=2)
        benefit = parse_decimal(
            expected_annual_benefit, what=_("Expected annual benefit"), max_digits=14, decimal_places=2
        )
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if budget < 0 or benefit < 0:
        raise InvalidInput(_("Budget and expected benefit cannot be negative."))
    if horizon_months < 1 or missed_periods_to_retire < 1:
        raise InvalidInput(_("The horizon and the missed periods before retirement must be at least 1."))
    currency = (currency or "").strip().upper()
    try:
        validate_currency(currency)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages)) from None
    case, _created = BusinessCase.objects.update_or_create(
        initiative=initiative,
        defaults={
            "budget": budget,
            "expected_annual_benefit": benefit,
            "horizon_months": horizon_months,
            "exit_criteria": exit_criteria,
            "missed_periods_to_retire": missed_periods_to_retire,
            "currency": currency,
        },
    )
    ledger_append(
        actor=actor,
        action=BUSINESS_CASE_RECORDED,
        initiative=initiative,
        payload={
            "budget": budget,
            "expected_annual_benefit": benefit,
            "horizon_months": horizon_months,
            "exit_criteria": exit_criteria,
            "missed_periods_to_retire": missed_periods_to_retire,
            **({"currency": currency} if currency else {}),
        },
    )
    return case


@transaction.atomic
def kpi_define(
    *,
    actor,
    initiative: Initiative,
    name: str,
    unit: str,
    direction: str,
    baseline: Decimal | str,
    target: Decimal | str,
    data_source: str,
    is_primary: bool = True,
    is_guardrail: bool = False,
    non_inferiority_margin: Decimal | str | None = None,
) -> KPI:
    """Define a KPI of a draft; a guardrail KPI (never primary) with its non-inferiority margin.
    Ledger: kpi.defined."""
    initiative = _editable_by_owner(
        actor,
        initiative,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "define its KPIs"),
    )
    try:
        baseline = parse_decimal(baseline, what=_("Baseline"))
        target = parse_decimal(target, what=_("Target"))
        margin = (
            None
            if non_inferiority_margin in (None, "")
            else parse_decimal(non_inferiority_margin, what=_("Non-inferiority margin"))
        )
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if direction not in Direction.values:
        # Translators: %(values)s lists the direction codes, e.g. "increase, decrease".
        message = _("Direction must be one of %(values)s.")
        raise InvalidInput(message % {"values": ", ".join(Direction.values)})
    if not name.strip() or not unit.strip() or not data_source.strip():
        raise InvalidInput(_("A KPI needs a name, a unit and a data source."))
    require_single_line(name=name, unit=unit, data_source=data_source)
    kpi = KPI(
        initiative=initiative,
        name=name.strip(),
        unit=unit,
        direction=direction,
        baseline=baseline,
        target=target,
        data_source=data_source,
        is_primary=is_primary,
        is_guardrail=is_guardrail,
        non_inferiority_margin=margin,
    )
    try:
        kpi.clean()
    except Exception as error:  # ValidationError: its messages name the field
        raise InvalidInput(" ".join(getattr(error, "messages", [str(error)]))) from None
    try:
        with transaction.atomic():
            kpi.save()
    except IntegrityError:
        # Translators: %(name)s is the KPI's name, quoted, e.g. 'Handling time'.
        message = _("This initiative already has a KPI named %(name)s.")
        raise InvalidInput(message % {"name": repr(name)}) from None
    ledger_append(
        actor=actor,
        action=KPI_DEFINED,
        initiative=initiative,
        payload={
            "kpi": kpi.pk,
            "name": kpi.name,
            "unit": unit,
            "direction": direction,
            "baseline": baseline,
            "target": target,
            "data_source": data_source,
            "is_primary": is_primary,
            # Only a guardrail's event carries these, so every other KPI's event is as it was.
            **({"is_guardrail": True, "non_inferiority_margin": margin} if is_guardrail else {}),
        },
    )
    return kpi


@transaction.atomic
def initiative_submit(*, actor, initiative: Initiative, now: dt.datetime | None = None) -> Initiative:
    """draft → proposal, when the business case and a primary KPI are complete.

    Ledger: initiative.submitted.
    """
    initiative = lock_initiative(initiative)
    # Translators: completes the refusal "Only <who> may …." ("it": the initiative).
    require_on(actor, Operation.SUBMIT_INITIATIVE, initiative, action=pgettext("refusal", "submit it"))
    if initiative.stage != Stage.DRAFT:
        # Translators: %(stage)s is the initiative's stage in lower case, e.g. "pilot".
        message = _("Only a draft can be submitted; this initiative is in %(stage)s.")
        raise WrongStage(message % {"stage": _stage_word(initiative)})
    now = now or timezone.now()
    loaded = initiative_with_gate_data(initiative.pk)
    inputs = gate_inputs(loaded, policy=None, rules=SUBMISSION_RULES)
    evaluation = evaluate_gate(inputs, now=now)
    if not evaluation.passed:
        raise GateNotSatisfied(evaluation)
    initiative.gate_clearance = GateClearance(target=Stage.PROPOSAL, passed=True)
    initiative.submit(now=now)
    initiative.save()
    ledger_append(
        actor=actor,
        action=INITIATIVE_SUBMITTED,
        initiative=initiative,
        payload={"from": Stage.DRAFT, "to": Stage.PROPOSAL, "at": initiative.stage_entered_at},
    )
    return initiative


# The draft fields a project lead may change before submission; the stage, owner and dates are
# the state machine's.
DRAFT_FIELDS = (
    "title",
    "department",
    "pain_point",
    "process_embedding",
    "risk_tier",
    "uses_personal_data",
    "sponsor",
)


@transaction.atomic
def initiative_update_draft(*, actor, initiative: Initiative, **changes) -> Initiative:
    """The project lead edits the description of a draft. Ledger: initiative.updated (changed fields)."""
    unknown = sorted(set(changes) - set(DRAFT_FIELDS))
    if unknown:
        message = ngettext(
            # Translators: %(fields)s lists the names of the fields sent, as the API spells them.
            "This field cannot be edited: %(fields)s.",
            "These fields cannot be edited: %(fields)s.",
            len(unknown),
        )
        raise InvalidInput(message % {"fields": ", ".join(unknown)})
    initiative = _editable_by_owner(
        actor,
        initiative,
        # Translators: completes the refusal "Only <who> may …." ("it": the draft initiative).
        action=pgettext("refusal", "edit it"),
    )
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            raise InvalidInput(_("An initiative needs a title."))
    require_single_line(**{f: changes[f] for f in ("title", "department") if isinstance(changes.get(f), str)})
    if "risk_tier" in changes and changes["risk_tier"] not in RiskTier.values:
        raise InvalidInput(_unknown_risk_tier(changes["risk_tier"]))
    if "uses_personal_data" in changes and not isinstance(changes["uses_personal_data"], bool):
        raise InvalidInput(_("Uses personal data must be true or false."))
    changed = {}
    for field, value in changes.items():
        if getattr(initiative, field) != value:
            setattr(initiative, field, value)
            changed[field] = value.get_username() if field == "sponsor" and value else value
    if not changed:
        return initiative
    initiative.save(update_fields=list(changed))
    ledger_append(actor=actor, action=INITIATIVE_UPDATED, initiative=initiative, payload=changed)
    return initiative
