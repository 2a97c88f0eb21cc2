"""Sign-offs by committee functions, and the conditions approvals carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.access import roles
from governance.access.checks import lock_initiative, require_active
from governance.access.matrix import Operation, allowed, principal_from_groups, require
from governance.errors import InvalidInput, NotACommitteeMember, SegregationOfDuties, WrongStage
from governance.ledger.chain import ledger_append, ledger_batched
from governance.ledger.events import CONDITION_CLOSED, SIGNOFF_RECORDED, SIGNOFF_SUPERSEDED
from governance.ledger.models import LedgerEvent
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notification_batch, notify
from governance.reviews.facts import (
    FACTS_VERSION,
    DecisionSnapshot,
    SignOffRow,
    committee_function,
    committee_functions,
    decision_snapshot,
    facts_digest,
    gate_facts,
    inputs_from_facts,
    policy_rules,
    signoff_facts,
)
from governance.reviews.models import Condition, GateReview, SignOff
from governance.reviews.services import lock_review, settle_if_decided
from governance.rules.gates import GateEvaluation, GateInputs, evaluate_gate, required_functions
from projects.vocabulary import Decision, FunctionCode, Gate, function_name


@dataclass(frozen=True)
class ConditionInput:
    text: str
    due_on: dt.date
    owner_id: int | None = None  # defaults to the initiative's project lead


@transaction.atomic
@ledger_batched
def signoff_record(
    *,
    actor,
    review: GateReview,
    function: str,
    decision: str,
    rationale: str,
    conditions: Sequence[ConditionInput] = (),
    now: dt.datetime | None = None,
) -> SignOff:
    """Record `actor`'s sign-off for `function`, superseding that function's earlier one.

    Checks membership and segregation of duties, pins the digest of the evidence and KPI values
    the reviewer saw, and settles the review when the sign-offs force an outcome: a reject kills
    it, a request for changes recycles it, the last approval with every requirement holding
    advances the initiative in this same transaction.
    Ledger: signoff.superseded, signoff.recorded, then review.decided / initiative.transitioned.
    Side effects: the project lead is notified; a decision notifies the chair and the lead.
    """
    require_active(actor)
    now = now or timezone.now()
    with notification_batch():
        initiative, review = lock_review(review, signer_sits=_sits_for(actor, function))
        _check_input(decision, rationale, conditions, now=now)
        rules = policy_rules(review.policy)
        _check_function_asked(rules, initiative, review, function)
        _check_seat(actor, initiative, review, function)
        seen = decision_snapshot(initiative, review, rules)
        _check_segregation(actor, initiative, review, function, seen.signoffs)
        previous = _supersede(seen, function, now=now)
        # What the signer approves: the gate facts, read once under the locks, so they hold until
        # commit; this sign-off's own conditions bind the next gate and are not among them.
        facts = gate_facts(seen.data, rules, seen.open_conditions)
        signoff = _write_signoff(actor, review, function, decision, rationale, facts_digest(facts), now=now)
        created_conditions = _attach_conditions(signoff, initiative, conditions)
        evaluated = _evaluate(facts, rules, seen, previous, signoff, now=now)
        _append_to_ledger(actor, initiative, review, function, previous, signoff, created_conditions)
        _notify_lead(initiative, review, function, signoff)
        settle_if_decided(initiative=initiative, review=review, actor=actor, now=now, evaluated=evaluated)
    return signoff


def signoff_receipt(signoff: SignOff) -> dict[str, str] | None:
    """The signed receipt of a recorded sign-off: what its signer keeps to prove the decision later."""
    events = LedgerEvent.objects.filter(
        action=SIGNOFF_RECORDED.code, initiative_id=signoff.review.initiative_id
    )
    # Canonical JSON: `"signoff":<id>` followed by the next key or the end of the object.
    mention = f'"signoff":{signoff.pk}'
    event = (
        events.filter(Q(payload__contains=mention + ",") | Q(payload__contains=mention + "}"))
        .order_by("-id")
        .first()
    )
    return event.receipt() if event is not None else None


def _sits_for(actor, function: str) -> Exists | Value:
    """Whether `actor` sits in `function`'s group, read with the initiative's locked row."""
    seat = committee_function(function)
    if seat is None:
        return Value(False)
    memberships = get_user_model().groups.through.objects
    return Exists(memberships.filter(user_id=actor.pk, group_id=seat.group_id))


def _check_input(
    decision: str, rationale: str, conditions: Sequence[ConditionInput], *, now: dt.datetime
) -> None:
    if decision not in Decision.values:
        raise InvalidInput(
            _("Decision must be one of %(decisions)s.") % {"decisions": ", ".join(Decision.values)}
        )
    if not rationale or not rationale.strip():
        raise InvalidInput(_("A sign-off needs a rationale."))
    if decision == Decision.APPROVE_WITH_CONDITIONS and not conditions:
        raise InvalidInput(_("An approval with conditions needs at least one condition."))
    if conditions and decision != Decision.APPROVE_WITH_CONDITIONS:
        raise InvalidInput(_("Only an approval with conditions carries conditions."))
    for condition in conditions:
        if not condition.text.strip():
            raise InvalidInput(_("Each condition needs a text."))
        if condition.due_on is None or condition.due_on < now.date():
            raise InvalidInput(_("Each condition needs a due date that is not in the past."))


def _check_function_asked(rules, initiative, review: GateReview, function: str) -> None:
    if function not in required_functions(rules, initiative.risk_tier):
        raise InvalidInput(
            _("The %(gate)s of this initiative does not ask for a %(function)s sign-off.")
            % {"gate": review.get_gate_display().lower(), "function": function_name(function)}
        )


def _check_seat(actor, initiative, review: GateReview, function: str) -> None:
    """The permission matrix decides, on the one group that matters here (read with the lock)."""
    who = principal_from_groups(actor, [roles.FUNCTION_GROUPS[function]] if initiative.signer_sits else [])
    if not allowed(who, Operation.SIGN_OFF, function=function):
        raise NotACommitteeMember(
            _("%(user)s is not a member of the %(function)s committee.")
            % {"user": actor.get_username(), "function": function_name(function)},
            actor=actor,
            target=f"review #{review.pk} of {initiative.title}",
            operation=f"sign for {function}",
        )


def _check_segregation(actor, initiative, review: GateReview, function: str, given) -> None:
    """`given`: every sign-off of the review, superseded ones included: a person who signed a
    review for one function never signs it for another, even after someone superseded them."""
    if actor.pk == initiative.owner_id:
        raise SegregationOfDuties(_("The initiative's project lead may not sign off on it."))
    if actor.pk == initiative.sponsor_id:
        raise SegregationOfDuties(_("The initiative's sponsor may not sign off on it."))
    if actor.pk == review.requested_by_id:
        raise SegregationOfDuties(_("Whoever requested the review may not sign off on it."))
    other = next((s for s in given if s.reviewer_id == actor.pk and s.function != function), None)
    if other is not None:
        raise SegregationOfDuties(
            _("%(user)s already signed this review for %(function)s; one person signs for one function only.")
            % {"user": actor.get_username(), "function": FunctionCode(other.function).label}
        )


def _supersede(seen: DecisionSnapshot, function: str, *, now: dt.datetime) -> SignOffRow | None:
    """Mark the function's active sign-off superseded; return it (None when there is none)."""
    previous = next((s for s in seen.active_signoffs if s.function == function), None)
    if previous is not None:
        SignOff.objects.filter(pk=previous.id).update(superseded_at=now)
    return previous


def _write_signoff(
    actor, review: GateReview, function: str, decision: str, rationale: str, digest: str, *, now: dt.datetime
) -> SignOff:
    return SignOff.objects.create(
        review=review,
        function=committee_functions()[function],  # read by _sits_for under the lock
        reviewer=actor,
        decision=decision,
        rationale=rationale.strip(),
        digest=digest,
        signed_at=now,
    )


def _evaluate(
    facts: dict,
    rules,
    seen: DecisionSnapshot,
    previous: SignOffRow | None,
    signoff: SignOff,
    *,
    now: dt.datetime,
) -> tuple[GateInputs, GateEvaluation]:
    """The gate on the pinned facts and the review's active sign-offs, this one in its function's place."""
    signoffs = tuple(s.facts for s in seen.active_signoffs if s is not previous) + (signoff_facts(signoff),)
    inputs = inputs_from_facts(facts, rules, signoffs, digest=signoff.digest)
    return inputs, evaluate_gate(inputs, now=now)


def _append_to_ledger(
    actor, initiative, review: GateReview, function: str, previous, signoff: SignOff, conditions
) -> None:
    if previous is not None:
        ledger_append(
            actor=actor,
            action=SIGNOFF_SUPERSEDED,
            initiative=initiative,
            payload={"signoff": previous.id, "review": review.pk, "function": function},
        )
    ledger_append(
        actor=actor,
        action=SIGNOFF_RECORDED,
        initiative=initiative,
        payload={
            "signoff": signoff.pk,
            "review": review.pk,
            "function": function,
            "decision": signoff.decision,
            "rationale": signoff.rationale,
            "digest": signoff.digest,
            "facts": FACTS_VERSION,
            "conditions": [
                {"condition": c.pk, "text": c.text, "due_on": c.due_on, "owner": c.owner.get_username()}
                for c in conditions
            ],
        },
    )


def _notify_lead(initiative, review: GateReview, function: str, signoff: SignOff) -> None:
    notify(
        recipients=[initiative.owner],
        event_key=f"signoff-{signoff.pk}-recorded",
        event=NotificationEvent.SIGNOFF_RECORDED,
        initiative=initiative,
        about=review,
        subject=lambda: (
            _("[ValueGate] %(function)s signed the %(gate)s of %(title)s")
            % {
                "function": function_name(function),
                "gate": str(Gate(review.gate).label).lower(),
                "title": initiative.title,
            }
        ),
        body=lambda: (
            _("Decision: %(decision)s. Rationale: %(rationale)s")
            % {"decision": Decision(signoff.decision).label, "rationale": signoff.rationale}
        ),
    )


def _attach_conditions(signoff: SignOff, initiative, conditions: Sequence[ConditionInput]) -> list[Condition]:
    if not conditions:
        return []
    owners = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in={c.owner_id for c in conditions if c.owner_id})
    }
    created = []
    for condition in conditions:
        owner = owners.get(condition.owner_id) if condition.owner_id else initiative.owner
        if owner is None:
            raise InvalidInput(_("Unknown condition owner %(owner)s.") % {"owner": condition.owner_id})
        created.append(
            Condition(
                signoff=signoff,
                initiative=initiative,
                text=condition.text.strip(),
                owner=owner,
                due_on=condition.due_on,
            )
        )
    return Condition.objects.bulk_create(created)


@transaction.atomic
@ledger_batched
def condition_close(*, actor, condition: Condition, note: str, now: dt.datetime | None = None) -> Condition:
    """The condition's owner or the chair closes it. Ledger: condition.closed."""
    now = now or timezone.now()
    initiative = lock_initiative(condition.initiative_id)
    condition = Condition.objects.select_for_update(of=("self",)).get(pk=condition.pk)
    require(
        actor,
        Operation.CLOSE_CONDITION,
        owner_id=condition.owner_id,
        doing=pgettext("refusal", "close it"),
        target=f"condition #{condition.pk} of {initiative.title}",
        target_noun="condition",
    )
    if condition.closed_at is not None:
        raise WrongStage(_("This condition is already closed."))
    if not note.strip():
        raise InvalidInput(_("Say how the condition was met."))
    condition.closed_at = now
    condition.closed_by = actor
    condition.closing_note = note.strip()
    condition.save()
    ledger_append(
        actor=actor,
        action=CONDITION_CLOSED,
        initiative=initiative,
        payload={"condition": condition.pk, "note": condition.closing_note},
    )
    notify(
        recipients=members_of([roles.COMMITTEE_CHAIR]),
        event_key=f"condition-{condition.pk}-closed",
        event=NotificationEvent.CONDITION_CLOSED,
        initiative=initiative,
        about=condition,
        subject=lambda: _("[ValueGate] Condition closed on %(title)s") % {"title": initiative.title},
        body=lambda: (
            condition.text
            + "\n"
            + _("Closed by %(user)s: %(note)s")
            % {"user": actor.get_username(), "note": condition.closing_note}
        ),
    )
    return condition
