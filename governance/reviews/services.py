"""Gate reviews: open, decide (Go, Conditional Go, Kill, Recycle, Hold), advance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from governance.access import roles
from governance.access.checks import lock_initiative, require_on
from governance.access.matrix import SCHEDULER, Operation, require
from governance.errors import GateNotSatisfied, InvalidInput, WrongStage
from governance.ledger.chain import ledger_append, ledger_batched
from governance.ledger.events import INITIATIVE_TRANSITIONED, REVIEW_DECIDED, REVIEW_OPENED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notification_batch, notify
from governance.reviews.facts import (
    current_policy,
    evaluate_locked_review,
    policy_by_id,
    policy_rules,
)
from governance.reviews.models import GateReview
from governance.rules.gates import (
    GateEvaluation,
    GateInputs,
    required_functions,
    review_outcome,
)
from projects.models import GateClearance, Initiative
from projects.vocabulary import GATES_FROM_STAGE, Gate, Outcome, ReviewStatus, Stage, function_name

# What each gate's outcome does to the initiative: the transition of its state machine that moves
# it, declared once here; an outcome not listed (a Hold, a Kill at the retire gate) leaves it where
# it is. A Go or Conditional Go moves it through the gate's clearance for the transition's target.
GATE_MOVES: dict[tuple[Gate, Outcome], Callable[..., None]] = {
    (Gate.PILOT, Outcome.GO): Initiative.start_pilot,
    (Gate.PILOT, Outcome.CONDITIONAL_GO): Initiative.start_pilot,
    (Gate.PILOT, Outcome.KILL): Initiative.reject,
    (Gate.PILOT, Outcome.RECYCLE): Initiative.recycle,
    (Gate.SCALE, Outcome.GO): Initiative.scale_up,
    (Gate.SCALE, Outcome.CONDITIONAL_GO): Initiative.scale_up,
    (Gate.SCALE, Outcome.KILL): Initiative.kill_pilot,
    (Gate.RETIRE, Outcome.GO): Initiative.retire,
    (Gate.RETIRE, Outcome.CONDITIONAL_GO): Initiative.retire,
}
# The columns a transition and a decision write; nothing else of the rows changes.
TRANSITION_FIELDS = ("stage", "stage_entered_at", "pilot_deadline")
DECISION_FIELDS = ("status", "outcome", "outcome_reason", "revisit_on", "decided_at", "decided_by")


def move_target(transition: Callable[..., None]) -> Stage:
    """The stage a transition of the initiative's state machine leads to (django-fsm's own record)."""
    (target,) = {t.target for t in transition._django_fsm.transitions.values()}  # type: ignore[attr-defined]
    return Stage(target)


@transaction.atomic
@ledger_batched
def review_open(
    *, actor, initiative: Initiative, gate: str | None = None, now: dt.datetime | None = None
) -> GateReview:
    """Open a review of the gate the initiative faces, pinned to the gate's current policy.

    The initiative's project lead or the chair may request it. Ledger: review.opened.
    Side effects: the members of each required function are notified.
    """
    initiative = lock_initiative(initiative)
    require_on(actor, Operation.REQUEST_REVIEW, initiative, action="request a gate review")
    return _open_review(initiative=initiative, gate=gate, actor=actor, reason="", now=now or timezone.now())


@transaction.atomic
@ledger_batched
def review_open_by_system(*, initiative: Initiative, gate: str, reason: str, now: dt.datetime) -> GateReview:
    """ValueGate opens a review itself, with no one requesting it: a pilot past its time box
    faces the scale gate, a KPI past its exit criteria the retire gate.

    Ledger: review.opened (actor "system", with the reason). Side effects as for review_open.
    """
    if not reason.strip():
        raise InvalidInput("A review opened by ValueGate states why.")
    initiative = lock_initiative(initiative)
    require_on(SCHEDULER, Operation.REQUEST_REVIEW, initiative)
    return _open_review(initiative=initiative, gate=gate, actor=None, reason=reason.strip(), now=now)


def _open_review(
    *, initiative: Initiative, gate: str | None, actor, reason: str, now: dt.datetime
) -> GateReview:
    """Open the review (caller holds the initiative's lock); `actor` None: ValueGate itself."""
    gates = GATES_FROM_STAGE.get(initiative.stage, ())
    if not gates:
        raise WrongStage(f"An initiative in {initiative.stage} faces no gate.")
    gate = gate or gates[0]
    if gate not in gates:
        raise WrongStage(f"An initiative in {initiative.stage} cannot face the {gate} gate.")
    if GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN).exists():
        raise WrongStage("This initiative already has an open review.")
    policy = current_policy(gate)
    review = GateReview.objects.create(
        initiative=initiative, gate=gate, policy=policy, requested_by=actor, opened_at=now
    )
    functions = required_functions(policy_rules(policy), initiative.risk_tier)
    payload = {
        "review": review.pk,
        "gate": gate,
        "policy_version": policy.version,
        "functions": list(functions),
    }
    if reason:
        payload["reason"] = reason
    ledger_append(actor=actor, action=REVIEW_OPENED, initiative=initiative, payload=payload)
    opened_by = actor.get_username() if actor is not None else "ValueGate"
    notify(
        recipients=members_of(roles.FUNCTION_GROUPS[f] for f in functions),
        event_key=f"review-{review.pk}-opened",
        event=NotificationEvent.REVIEW_OPENED,
        initiative=initiative,
        about=review,
        to_do="Read the gate checklist and the evidence, then sign off for your function.",
        subject=f"[ValueGate] {review.get_gate_display()} awaits your sign-off: {initiative.title}",
        body=(
            f"A {review.get_gate_display().lower()} review of “{initiative.title}” was opened by "
            f"{opened_by}. Functions asked to sign: "
            + ", ".join(function_name(f) for f in functions)
            + "."
            + (f"\nWhy: {reason}" if reason else "")
        ),
    )
    return review


def lock_review(review: GateReview | int, **annotations) -> tuple[Initiative, GateReview]:
    """Lock the initiative first, then its review: the one lock order every service follows.

    `annotations` are read with the initiative's locked row. The review's policy, never edited,
    comes from this process's copy.
    """
    if isinstance(review, GateReview):
        pk, initiative_id = review.pk, review.initiative_id  # a review never changes initiative
    else:
        pk = review
        initiative_id = GateReview.objects.values_list("initiative_id", flat=True).get(pk=pk)
    initiative = lock_initiative(initiative_id, **annotations)
    review = GateReview.objects.select_for_update(of=("self",)).get(pk=pk)
    review.policy = policy_by_id(review.policy_id)
    if not review.is_open:
        raise WrongStage(f"This review was already decided ({review.get_outcome_display()}).")
    if review.gate not in GATES_FROM_STAGE.get(initiative.stage, ()):
        raise WrongStage(f"The initiative moved to {initiative.stage}; this review no longer applies.")
    return initiative, review


def decide(
    *,
    initiative: Initiative,
    review: GateReview,
    outcome: str,
    actor,
    reason: str,
    evaluation: GateEvaluation | None = None,
    revisit_on: dt.date | None = None,
    now: dt.datetime,
) -> GateReview:
    """Close the review with `outcome` and apply it to the initiative (caller holds the locks)."""
    from_stage = initiative.stage
    if outcome in (Outcome.GO, Outcome.CONDITIONAL_GO):
        if evaluation is None:
            raise TypeError("A Go or a Conditional Go is decided on the gate's evaluation.")
        if not evaluation.passed:
            raise GateNotSatisfied(evaluation)
    move = GATE_MOVES.get((Gate(review.gate), Outcome(outcome)))
    if move is not None:
        target = move_target(move)
        if outcome in (Outcome.GO, Outcome.CONDITIONAL_GO):
            initiative.gate_clearance = GateClearance(target=target, passed=True)
        if target == Stage.PILOT:
            move(initiative, now=now, deadline=now.date() + dt.timedelta(days=review.policy.max_pilot_days))
        else:
            move(initiative, now=now)
    if initiative.stage != from_stage:
        initiative.save(update_fields=TRANSITION_FIELDS)

    review.status = ReviewStatus.DECIDED
    review.outcome = outcome
    review.outcome_reason = reason
    review.revisit_on = revisit_on
    review.decided_at = now
    review.decided_by = actor
    review.save(update_fields=DECISION_FIELDS)
    ledger_append(
        actor=actor,
        action=REVIEW_DECIDED,
        initiative=initiative,
        payload={
            "review": review.pk,
            "gate": review.gate,
            "policy_version": review.policy.version,
            "outcome": outcome,
            "reason": reason,
            "revisit_on": revisit_on,
            "requirements": [
                {"code": r.code, "passed": r.passed, "reason": r.reason}
                for r in (evaluation.requirements if evaluation else ())
            ],
        },
    )
    if initiative.stage != from_stage:
        ledger_append(
            actor=actor,
            action=INITIATIVE_TRANSITIONED,
            initiative=initiative,
            payload={
                "review": review.pk,
                "from": from_stage,
                "to": initiative.stage,
                "at": initiative.stage_entered_at,
            },
        )
    # The lead hears of the move and everyone of the decision: one insert for both.
    with notification_batch():
        if initiative.stage != from_stage:
            notify(
                recipients=[initiative.owner],
                event_key=f"initiative-{initiative.pk}-{from_stage}-to-{initiative.stage}-review-{review.pk}",
                event=NotificationEvent.INITIATIVE_TRANSITIONED,
                initiative=initiative,
                subject=f"[ValueGate] {initiative.title} moved from {from_stage} to {initiative.stage}",
                body=f"The {review.get_gate_display().lower()} decided {review.get_outcome_display()}.",
            )
        recipients = list(members_of([roles.COMMITTEE_CHAIR])) + [initiative.owner]
        notify(
            recipients=recipients,
            event_key=f"review-{review.pk}-decided",
            event=NotificationEvent.REVIEW_DECIDED,
            initiative=initiative,
            about=review,
            subject=f"[ValueGate] {review.get_gate_display()} of {initiative.title}: {review.get_outcome_display()}",
            body=f"Outcome: {review.get_outcome_display()}. {reason}".strip(),
        )
    return review


def settle_if_decided(
    *,
    initiative: Initiative,
    review: GateReview,
    actor,
    now: dt.datetime,
    evaluated: tuple[GateInputs, GateEvaluation] | None = None,
) -> GateEvaluation:
    """Close the review when its sign-offs force an outcome (caller holds the locks).

    `evaluated`: the review's evaluation (evaluate_review) when the caller already made it in
    this transaction.
    """
    inputs, evaluation = evaluated or evaluate_locked_review(initiative, review, now=now)
    outcome = review_outcome(inputs, evaluation)
    if outcome is not None:
        reasons: dict[str, str] = {
            Outcome.KILL: "A committee function rejected.",
            Outcome.RECYCLE: "A committee function requested changes.",
            Outcome.GO: "Every requirement holds and every required function approved.",
            Outcome.CONDITIONAL_GO: "Every requirement holds; approvals carry conditions to close before the next gate.",
        }
        decide(
            initiative=initiative,
            review=review,
            outcome=outcome,
            actor=actor,
            reason=reasons[outcome],
            evaluation=evaluation,
            now=now,
        )
    return evaluation


@transaction.atomic
@ledger_batched
def initiative_advance(*, actor, review: GateReview, now: dt.datetime | None = None) -> GateReview:
    """Advance through the review's gate now, or raise GateNotSatisfied listing what fails.

    For the chair or the project lead, e.g. after a condition was closed. Ledger: review.decided,
    initiative.transitioned.
    """
    now = now or timezone.now()
    initiative, review = lock_review(review)
    require_on(actor, Operation.ADVANCE_INITIATIVE, initiative, action="ask to advance it")
    inputs, evaluation = evaluate_locked_review(initiative, review, now=now)
    outcome = review_outcome(inputs, evaluation)
    if outcome not in (Outcome.GO, Outcome.CONDITIONAL_GO):
        raise GateNotSatisfied(evaluation)
    return decide(
        initiative=initiative,
        review=review,
        outcome=outcome,
        actor=actor,
        reason="Advanced on request: every requirement holds.",
        evaluation=evaluation,
        now=now,
    )


@transaction.atomic
@ledger_batched
def review_hold(
    *, actor, review: GateReview, reason: str, revisit_on: dt.date, now: dt.datetime | None = None
) -> GateReview:
    """The chair puts the decision on hold until `revisit_on`. The initiative stays. Ledger: review.decided."""
    now = now or timezone.now()
    _require_chair(actor)
    if not reason.strip():
        raise InvalidInput("A hold needs a reason.")
    if revisit_on is None or revisit_on <= now.date():
        raise InvalidInput("A hold needs a revisit date in the future.")
    initiative, review = lock_review(review)
    return decide(
        initiative=initiative,
        review=review,
        outcome=Outcome.HOLD,
        actor=actor,
        reason=reason.strip(),
        revisit_on=revisit_on,
        now=now,
    )


@transaction.atomic
@ledger_batched
def review_kill(*, actor, review: GateReview, reason: str, now: dt.datetime | None = None) -> GateReview:
    """The chair kills the review: a proposal is rejected, a pilot retired, a retirement refused.

    Ledger: review.decided, initiative.transitioned.
    """
    now = now or timezone.now()
    _require_chair(actor)
    if not reason.strip():
        raise InvalidInput("A kill needs a reason.")
    initiative, review = lock_review(review)
    return decide(
        initiative=initiative,
        review=review,
        outcome=Outcome.KILL,
        actor=actor,
        reason=reason.strip(),
        now=now,
    )


def _require_chair(actor) -> None:
    require(actor, Operation.DECIDE_REVIEW, doing="decide this")
