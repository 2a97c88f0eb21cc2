"""Sign-offs by committee functions, and the conditions approvals carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance import roles
from governance.errors import InvalidInput, NotACommitteeMember, SegregationOfDuties, WrongStage
from governance.ledger import ledger_append, ledger_batched
from governance.ledger_events import CONDITION_CLOSED, SIGNOFF_RECORDED, SIGNOFF_SUPERSEDED
from governance.models import CommitteeFunction, Condition, Decision, GateReview, SignOff
from governance.notifications.events import NotificationEvent
from governance.permissions import Operation, allowed, require
from governance.rules.gates import FUNCTION_LABELS, evaluate_gate, required_functions
from governance.selectors.gates import (
    FACTS_VERSION,
    facts_digest,
    initiative_with_gate_data,
    inputs_from_facts,
    policy_rules,
    review_facts,
    signoff_facts,
)
from governance.services.common import lock_initiative, require_active
from governance.services.notifications import members_of, notify
from governance.services.reviews import lock_review, settle_if_decided


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
    initiative, review = lock_review(review)

    if decision not in Decision.values:
        raise InvalidInput(f"Decision must be one of {', '.join(Decision.values)}.")
    if not rationale or not rationale.strip():
        raise InvalidInput("A sign-off needs a rationale.")
    if decision == Decision.APPROVE_WITH_CONDITIONS and not conditions:
        raise InvalidInput("An approval with conditions needs at least one condition.")
    if conditions and decision != Decision.APPROVE_WITH_CONDITIONS:
        raise InvalidInput("Only an approval with conditions carries conditions.")
    for condition in conditions:
        if not condition.text.strip():
            raise InvalidInput("Each condition needs a text.")
        if condition.due_on is None or condition.due_on < now.date():
            raise InvalidInput("Each condition needs a due date that is not in the past.")

    rules = policy_rules(review.policy)
    needed = required_functions(rules, initiative.risk_tier)
    if function not in needed:
        raise InvalidInput(
            f"The {review.get_gate_display().lower()} of this initiative does not ask for a "
            f"{FUNCTION_LABELS.get(function, function)} sign-off."
        )
    if not allowed(actor, Operation.SIGN_OFF, function=function):
        raise NotACommitteeMember(
            f"{actor.get_username()} is not a member of the {FUNCTION_LABELS[function]} committee.",
            actor=actor,
            target=f"review #{review.pk} of {initiative.title}",
            operation=f"sign for {function}",
        )
    committee_function = CommitteeFunction.objects.get(code=function)
    given = list(SignOff.objects.filter(review=review).select_related("function"))
    _check_segregation(actor, initiative, review, function, given)
    active = [s for s in given if s.superseded_at is None]

    previous = next((s for s in active if s.function.code == function), None)
    if previous is not None:
        previous.superseded_at = now
        previous.save(update_fields=["superseded_at"])

    # What the signer approves: the gate facts, read once (the initiative is locked, so they hold
    # until commit); this sign-off's own conditions bind the next gate and are not among them.
    facts = review_facts(initiative_with_gate_data(initiative.pk), rules, review)
    digest = facts_digest(facts)
    signoff = SignOff.objects.create(
        review=review,
        function=committee_function,
        reviewer=actor,
        decision=decision,
        rationale=rationale.strip(),
        digest=digest,
        signed_at=now,
    )
    created_conditions = _attach_conditions(signoff, initiative, conditions)
    signoffs = tuple(signoff_facts(s) for s in active if s is not previous) + (signoff_facts(signoff),)
    inputs = inputs_from_facts(facts, rules, signoffs, digest=digest)
    evaluated = (inputs, evaluate_gate(inputs, now=now))
    if previous is not None:
        ledger_append(
            actor=actor,
            action=SIGNOFF_SUPERSEDED,
            initiative=initiative,
            payload={"signoff": previous.pk, "review": review.pk, "function": function},
        )
    ledger_append(
        actor=actor,
        action=SIGNOFF_RECORDED,
        initiative=initiative,
        payload={
            "signoff": signoff.pk,
            "review": review.pk,
            "function": function,
            "decision": decision,
            "rationale": signoff.rationale,
            "digest": signoff.digest,
            "facts": FACTS_VERSION,
            "conditions": [
                {"condition": c.pk, "text": c.text, "due_on": c.due_on, "owner": c.owner.get_username()}
                for c in created_conditions
            ],
        },
    )
    notify(
        recipients=[initiative.owner],
        event_key=f"signoff-{signoff.pk}-recorded",
        event=NotificationEvent.SIGNOFF_RECORDED,
        initiative=initiative,
        about=review,
        subject=f"[ValueGate] {FUNCTION_LABELS[function]} signed the {review.get_gate_display().lower()} of {initiative.title}",
        body=f"Decision: {signoff.get_decision_display()}. Rationale: {signoff.rationale}",
    )
    settle_if_decided(initiative=initiative, review=review, actor=actor, now=now, evaluated=evaluated)
    return signoff


def _check_segregation(actor, initiative, review: GateReview, function: str, given: list[SignOff]) -> None:
    """`given`: every sign-off of the review, superseded ones included: a person who signed a
    review for one function never signs it for another, even after someone superseded them."""
    if actor.pk == initiative.owner_id:
        raise SegregationOfDuties("The initiative's project lead may not sign off on it.")
    if actor.pk == initiative.sponsor_id:
        raise SegregationOfDuties("The initiative's sponsor may not sign off on it.")
    if actor.pk == review.requested_by_id:
        raise SegregationOfDuties("Whoever requested the review may not sign off on it.")
    other = next((s for s in given if s.reviewer_id == actor.pk and s.function.code != function), None)
    if other is not None:
        raise SegregationOfDuties(
            f"{actor.get_username()} already signed this review for {other.function}; "
            "one person signs for one function only."
        )


def _attach_conditions(signoff: SignOff, initiative, conditions: Sequence[ConditionInput]) -> list[Condition]:
    owners = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in={c.owner_id for c in conditions if c.owner_id})
    }
    created = []
    for condition in conditions:
        owner = owners.get(condition.owner_id) if condition.owner_id else initiative.owner
        if owner is None:
            raise InvalidInput(f"Unknown condition owner {condition.owner_id}.")
        created.append(
            Condition.objects.create(
                signoff=signoff,
                initiative=initiative,
                text=condition.text.strip(),
                owner=owner,
                due_on=condition.due_on,
            )
        )
    return created


@transaction.atomic
@ledger_batched
def condition_close(*, actor, condition: Condition, note: str, now: dt.datetime | None = None) -> Condition:
    """The condition's owner or the chair closes it. Ledger: condition.closed."""
    now = now or timezone.now()
    initiative = lock_initiative(condition.initiative_id)
    condition = Condition.objects.select_for_update().get(pk=condition.pk)
    require(
        actor,
        Operation.CLOSE_CONDITION,
        owner_id=condition.owner_id,
        doing="close it",
        target=f"condition #{condition.pk} of {initiative.title}",
        target_noun="condition",
    )
    if condition.closed_at is not None:
        raise WrongStage("This condition is already closed.")
    if not note.strip():
        raise InvalidInput("Say how the condition was met.")
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
        subject=f"[ValueGate] Condition closed on {initiative.title}",
        body=f"{condition.text}\nClosed by {actor.get_username()}: {condition.closing_note}",
    )
    return condition
