"""Gate reviews: open, decide (Go, Conditional Go, Kill, Recycle, Hold), advance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.access import roles
from governance.access.checks import lock_initiative, require_on
from governance.access.matrix import SCHEDULER, Operation, require
from governance.errors import GateNotSatisfied, InvalidInput, WrongStage
from governance.ledger.chain import ledger_append, ledger_batched
from governance.ledger.events import INITIATIVE_TRANSITIONED, REVIEW_DECIDED, REVIEW_OPENED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notification_batch, notify
from governance.reasons import say
from governance.reviews.facts import (
    current_policy,
    evaluate_locked_review,
    policy_by_id,
    policy_rules,
)
from governance.reviews.models import GatePolicy, GateReview
from governance.rules.gates import (
    GateEvaluation,
    GateInputs,
    required_functions,
    review_outcome,
)
from governance.rules.reasons import Reason
from projects.models import GateClearance, Initiative
from projects.power import pilot_deadline
from projects.vocabulary import (
    GATES_FROM_STAGE,
    Gate,
    Outcome,
    ReviewStatus,
    Stage,
    function_name,
    stage_word,
)

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
DECISION_FIELDS = (
    "status",
    "outcome",
    "outcome_reason",
    "outcome_reason_code",
    "revisit_on",
    "decided_at",
    "decided_by",
)


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
    require_on(
        actor, Operation.REQUEST_REVIEW, initiative, action=pgettext("refusal", "request a gate review")
    )
    return _open_review(initiative=initiative, gate=gate, actor=actor, reason="", now=now or timezone.now())


@transaction.atomic
@ledger_batched
def review_open_by_system(
    *, initiative: Initiative, gate: str, reason: str | Reason, now: dt.datetime
) -> GateReview:
    """ValueGate opens a review itself, with no one requesting it: a pilot past its time box
    faces the scale gate, a KPI past its exit criteria the retire gate.

    Ledger: review.opened (actor "system", with the reason, and its code when it is one).
    Side effects as for review_open.
    """
    if isinstance(reason, str):
        reason = reason.strip()
    if not reason:
        raise InvalidInput(_("A review opened by ValueGate states why."))
    initiative = lock_initiative(initiative)
    require_on(SCHEDULER, Operation.REQUEST_REVIEW, initiative)
    return _open_review(initiative=initiative, gate=gate, actor=None, reason=reason, now=now)


def _open_review(
    *, initiative: Initiative, gate: str | None, actor, reason: str | Reason, now: dt.datetime
) -> GateReview:
    """Open the review (caller holds the initiative's lock); `actor` None: ValueGate itself."""
    gates = GATES_FROM_STAGE.get(initiative.stage, ())
    if not gates:
        raise WrongStage(_("An initiative in %(stage)s faces no gate.") % {"stage": initiative.stage})
    gate = gate or gates[0]
    if gate not in gates:
        raise WrongStage(
            _("An initiative in %(stage)s cannot face the %(gate)s gate.")
            % {"stage": initiative.stage, "gate": gate}
        )
    if GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN).exists():
        raise WrongStage(_("This initiative already has an open review."))
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
    if isinstance(reason, Reason):
        with translation.override("en"):
            payload["reason"] = say(reason)
        payload["reason_code"] = reason.as_json()
    elif reason:
        payload["reason"] = reason
    ledger_append(actor=actor, action=REVIEW_OPENED, initiative=initiative, payload=payload)
    opened_by = actor.get_username() if actor is not None else "ValueGate"
    gate_name = Gate(gate).label

    def opened_body() -> str:
        text = _(
            "A %(gate)s review of “%(title)s” was opened by %(who)s. Functions asked to sign: %(functions)s."
        ) % {
            "gate": str(gate_name).lower(),
            "title": initiative.title,
            "who": opened_by,
            "functions": pgettext("between the words of a list", ", ").join(
                function_name(f) for f in functions
            ),
        }
        if reason:
            text += "\n" + _("Why: %(reason)s") % {
                "reason": say(reason) if isinstance(reason, Reason) else reason
            }
        return text

    notify(
        recipients=members_of(roles.FUNCTION_GROUPS[f] for f in functions),
        event_key=f"review-{review.pk}-opened",
        event=NotificationEvent.REVIEW_OPENED,
        initiative=initiative,
        about=review,
        to_do=lambda: _("Read the gate checklist and the evidence, then sign off for your function."),
        subject=lambda: (
            _("[ValueGate] %(gate)s awaits your sign-off: %(title)s")
            % {"gate": gate_name, "title": initiative.title}
        ),
        body=opened_body,
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
        raise WrongStage(
            _("This review was already decided (%(outcome)s).") % {"outcome": review.get_outcome_display()}
        )
    if review.gate not in GATES_FROM_STAGE.get(initiative.stage, ()):
        raise WrongStage(
            _("The initiative moved to %(stage)s; this review no longer applies.")
            % {"stage": initiative.stage}
        )
    return initiative, review


def pilot_time_box(policy: GatePolicy, evaluation: GateEvaluation | None, *, now: dt.datetime) -> dt.date:
    """The deadline of a pilot starting now: as long as its registered plans need to show their
    minimum effects (the time box follows from power), else the policy's default time box."""
    months = evaluation.proposed_pilot_months if evaluation is not None else None
    if months is not None:
        return pilot_deadline(now.date(), months)
    return now.date() + dt.timedelta(days=policy.max_pilot_days)


def decide(
    *,
    initiative: Initiative,
    review: GateReview,
    outcome: str,
    actor,
    reason: str | Reason,
    evaluation: GateEvaluation | None = None,
    revisit_on: dt.date | None = None,
    now: dt.datetime,
) -> GateReview:
    """Close the review with `outcome` and apply it to the initiative (caller holds the locks).

    `reason`: a person's words (a hold or a kill), or ValueGate's own as a code (`Reason`), which
    the ledger keeps as a code so that it reads in any language.
    """
    from_stage = initiative.stage
    # The ledger's own words are English; readers show the code's words in their language.
    with translation.override("en"):
        reason_text = say(reason) if isinstance(reason, Reason) else reason
        requirements = [
            {
                "code": r.code,
                "passed": r.passed,
                "reason": say(r.reason),
                "label_code": r.label.as_json(),
                "reason_code": r.reason.as_json(),
            }
            for r in (evaluation.requirements if evaluation else ())
        ]
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
            move(initiative, now=now, deadline=pilot_time_box(review.policy, evaluation, now=now))
        else:
            move(initiative, now=now)
    if initiative.stage != from_stage:
        initiative.save(update_fields=TRANSITION_FIELDS)

    review.status = ReviewStatus.DECIDED
    review.outcome = outcome
    review.outcome_reason = reason_text
    review.outcome_reason_code = reason.as_json() if isinstance(reason, Reason) else None
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
            "reason": reason_text,
            **({"reason_code": reason.as_json()} if isinstance(reason, Reason) else {}),
            "revisit_on": revisit_on,
            "requirements": requirements,
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
                subject=lambda: (
                    _("[ValueGate] %(title)s moved from %(from)s to %(to)s")
                    % {
                        "title": initiative.title,
                        "from": stage_word(from_stage),
                        "to": stage_word(initiative.stage),
                    }
                ),
                body=lambda: (
                    _("The %(gate)s decided %(outcome)s.")
                    % {"gate": str(Gate(review.gate).label).lower(), "outcome": Outcome(outcome).label}
                ),
            )
        recipients = list(members_of([roles.COMMITTEE_CHAIR])) + [initiative.owner]
        notify(
            recipients=recipients,
            event_key=f"review-{review.pk}-decided",
            event=NotificationEvent.REVIEW_DECIDED,
            initiative=initiative,
            about=review,
            subject=lambda: (
                _("[ValueGate] %(gate)s of %(title)s: %(outcome)s")
                % {
                    "gate": Gate(review.gate).label,
                    "title": initiative.title,
                    "outcome": Outcome(outcome).label,
                }
            ),
            body=lambda: (
                _("Outcome: %(outcome)s. %(reason)s")
                % {
                    "outcome": Outcome(outcome).label,
                    "reason": say(reason) if isinstance(reason, Reason) else reason,
                }
            ).strip(),
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
        decide(
            initiative=initiative,
            review=review,
            outcome=outcome,
            actor=actor,
            reason=Reason.of(f"review.settled.{outcome}"),
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
    require_on(
        actor, Operation.ADVANCE_INITIATIVE, initiative, action=pgettext("refusal", "ask to advance it")
    )
    inputs, evaluation = evaluate_locked_review(initiative, review, now=now)
    outcome = review_outcome(inputs, evaluation)
    if outcome not in (Outcome.GO, Outcome.CONDITIONAL_GO):
        raise GateNotSatisfied(evaluation)
    return decide(
        initiative=initiative,
        review=review,
        outcome=outcome,
        actor=actor,
        reason=Reason.of("review.advanced_on_request"),
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
        raise InvalidInput(_("A hold needs a reason."))
    if revisit_on is None or revisit_on <= now.date():
        raise InvalidInput(_("A hold needs a revisit date in the future."))
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
        raise InvalidInput(_("A kill needs a reason."))
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
    require(actor, Operation.DECIDE_REVIEW, doing=pgettext("refusal", "decide this"))
