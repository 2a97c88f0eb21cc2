"""The words of the domain, declared once: stages, risk tiers, KPI directions, experiment metrics
and methods, kinds of money and evidence, gates, review states, review outcomes, sign-off decisions,
follow-ups, value-review recommendations and committee functions.

Models take their choices from here, the pure rules compare with these members, serializers and
templates show their labels. Each word is a `StrEnum` member, so it equals the text stored in the
database and in the ledger ("pilot", "approve_with_conditions"), and that text never changes:
stored history and hashed ledger payloads are made of it.

Pure Python, no Django: the gate rules (governance/rules/) use these words and import nothing of
Django. A member's `label` is the word for people. It is written here in English, marked for
`makemessages` by `gettext_lazy` and `pgettext_lazy` (this module's own, named as Django's so that
makemessages finds the words), and translated when it is shown: projects/apps.py plugs Django's
lazy translation in (`translate_with`), so under Django a label is a lazy text, said in the
language active where it is rendered. Without Django a label is the English word.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import EnumType, StrEnum
from typing import Any


@dataclass(frozen=True)
class Message:
    """A text for people as written in English, and the context that tells one sense of an English
    word from another ("Pilot" the stage, not the gate), as gettext's msgctxt."""

    text: str
    context: str = ""


def gettext_lazy(text: str) -> Message:
    """`text` marked for translation (makemessages reads the call); translated when shown."""
    return Message(text)


def pgettext_lazy(context: str, text: str) -> Message:
    """`text` marked for translation in `context` (makemessages reads the call)."""
    return Message(text, context)


def _as_written(text: str) -> str:
    return text


def _as_written_in_context(context: str, text: str) -> str:
    return text


# How a Message is said: as written, until the Django side plugs its translation in. A translation
# returns the text, or a lazy text that becomes it when rendered (Django's: a str to every reader).
_say: Callable[[str], Any] = _as_written
_say_in_context: Callable[[str, str], Any] = _as_written_in_context


def translate_with(say: Callable[[str], Any], say_in_context: Callable[[str, str], Any]) -> None:
    """Say every label with `say(text)`, or `say_in_context(context, text)` where a context tells
    its sense: Django's gettext_lazy and pgettext_lazy (projects/apps.py), so that each label is
    translated where it is rendered, in the language active there."""
    global _say, _say_in_context
    _say, _say_in_context = say, say_in_context


def translated(message: Message) -> str:
    """`message` as people read it: a lazy translation under Django, the English text without."""
    if message.context:
        return _say_in_context(message.context, message.text)
    return _say(message.text)


class _TermType(EnumType):
    """The class-level views Django's model fields and forms expect of a set of choices."""

    do_not_call_in_templates = True  # a template shows the class's members, it does not call it

    @property
    def choices(cls) -> list[tuple[str, str]]:
        terms: list[Term] = list(cls)
        return [(term.value, term.label) for term in terms]

    @property
    def values(cls) -> list[str]:
        terms: list[Term] = list(cls)
        return [term.value for term in terms]


class Term(StrEnum, metaclass=_TermType):
    """One word of the domain: its stored value and its label."""

    _message: Message

    def __new__(cls, value: str, label: Message = Message("")):
        term = str.__new__(cls, value)
        term._value_ = value
        term._message = label
        return term

    @property
    def label(self) -> str:
        """The word for people, translated where it is shown (see `translate_with`)."""
        return translated(self._message)


class Stage(Term):
    DRAFT = "draft", pgettext_lazy("initiative stage", "Draft")
    PROPOSAL = "proposal", pgettext_lazy("initiative stage", "Proposal")
    PILOT = "pilot", pgettext_lazy("initiative stage", "Pilot")
    SCALE = "scale", pgettext_lazy("initiative stage", "Scale")
    RETIRED = "retired", pgettext_lazy("initiative stage", "Retired")
    REJECTED = "rejected", pgettext_lazy("initiative stage", "Rejected")


TERMINAL_STAGES = frozenset({Stage.RETIRED, Stage.REJECTED})


class RiskTier(Term):
    MINIMAL = "minimal", pgettext_lazy("risk tier", "Minimal")
    LIMITED = "limited", pgettext_lazy("risk tier", "Limited")
    HIGH = "high", pgettext_lazy("risk tier", "High")
    PROHIBITED = "prohibited", pgettext_lazy("risk tier", "Prohibited")


class Direction(Term):
    """Which way a KPI improves."""

    INCREASE = "increase", gettext_lazy("Higher is better")
    DECREASE = "decrease", gettext_lazy("Lower is better")


# When a KPI misses its target (Django's lookup names): below the target where higher is better,
# above it where lower is better. The one definition of "meets its target", read by the gate rules
# in Python (`meets_target`); the database's running figures (projects migration 0006) judge the
# same in SQL, and tests/projects/test_running_figures.py holds the two to each other.
MISSES_TARGET_LOOKUP: dict[str, str] = {Direction.INCREASE: "lt", Direction.DECREASE: "gt"}
_MISSES = {"lt": operator.lt, "gt": operator.gt}


def meets_target(direction: str, value: Decimal, target: Decimal) -> bool:
    return not _MISSES[MISSES_TARGET_LOOKUP[direction]](value, target)


class Metric(Term):
    """What an experiment's arms record."""

    PROPORTION = "proportion", gettext_lazy("Proportion (successes out of visitors)")
    MEAN = "mean", gettext_lazy("Mean (time or amount per observation)")


class ExperimentMethod(Term):
    """How a gate judges an A/B experiment."""

    ALWAYS_VALID = (
        "always_valid",
        gettext_lazy("Always-valid (stays valid however often the committee looks)"),
    )
    FIXED_HORIZON = "fixed_horizon", gettext_lazy("Fixed-horizon (valid for one planned look)")


class EntryKind(Term):
    """A month's figure of money."""

    COST = "cost", gettext_lazy("Cost")
    BENEFIT = "benefit", gettext_lazy("Benefit")


class EvidenceKind(Term):
    """What an evidence file is."""

    BUSINESS_CASE = "business_case", gettext_lazy("Business case document")
    PRIVACY_IMPACT = "privacy_impact", gettext_lazy("Privacy impact assessment")
    PILOT_REPORT = "pilot_report", gettext_lazy("Pilot report")
    DECOMMISSION_PLAN = "decommission_plan", gettext_lazy("Decommission plan")
    DATA_DELETION = "data_deletion", gettext_lazy("Data deletion confirmation")
    OTHER = "other", pgettext_lazy("evidence kind", "Other")


class Gate(Term):
    PILOT = "pilot", gettext_lazy("Pilot gate")
    SCALE = "scale", gettext_lazy("Scale gate")
    RETIRE = "retire", gettext_lazy("Retire gate")


# Which gate each stage faces. A pilot faces the scale gate, or the retire gate when retirement
# is proposed.
GATES_FROM_STAGE: dict[str, tuple[Gate, ...]] = {
    Stage.PROPOSAL: (Gate.PILOT,),
    Stage.PILOT: (Gate.SCALE, Gate.RETIRE),
    Stage.SCALE: (Gate.RETIRE,),
}


class ReviewStatus(Term):
    OPEN = "open", pgettext_lazy("review status", "Open")
    DECIDED = "decided", pgettext_lazy("review status", "Decided")


class Outcome(Term):
    """What the committee decided at a gate."""

    GO = "go", pgettext_lazy("review outcome", "Go")
    CONDITIONAL_GO = "conditional_go", pgettext_lazy("review outcome", "Conditional Go")
    KILL = "kill", pgettext_lazy("review outcome", "Kill")
    RECYCLE = "recycle", pgettext_lazy("review outcome", "Recycle")
    HOLD = "hold", pgettext_lazy("review outcome", "Hold")


class Decision(Term):
    """What one committee function signed."""

    APPROVE = "approve", pgettext_lazy("sign-off decision", "Approve")
    APPROVE_WITH_CONDITIONS = (
        "approve_with_conditions",
        pgettext_lazy("sign-off decision", "Approve with conditions"),
    )
    REQUEST_CHANGES = "request_changes", pgettext_lazy("sign-off decision", "Request changes")
    REJECT = "reject", pgettext_lazy("sign-off decision", "Reject")


APPROVING_DECISIONS = frozenset({Decision.APPROVE, Decision.APPROVE_WITH_CONDITIONS})


class FollowUpKind(Term):
    """What the committee was sent about an overdue sign-off."""

    REMINDER = "reminder", gettext_lazy("Reminder to the function")
    ESCALATION = "escalation", gettext_lazy("Escalation to the chair")


class Recommendation(Term):
    """What a monthly value review recommends."""

    CONTINUE = "continue", pgettext_lazy("value review recommendation", "Continue")
    ADJUST = "adjust", pgettext_lazy("value review recommendation", "Adjust")
    ESCALATE = "escalate", pgettext_lazy("value review recommendation", "Escalate")
    RETIRE = "retire", pgettext_lazy("value review recommendation", "Retire")


class FunctionCode(Term):
    """A function at the committee table."""

    BUSINESS = "business", pgettext_lazy("committee function", "Business")
    LEGAL = "legal", pgettext_lazy("committee function", "Legal")
    FINANCE = "finance", pgettext_lazy("committee function", "Finance")
    TECHNICAL = "technical", pgettext_lazy("committee function", "Technical")
    RISK_ETHICS = "risk_ethics", pgettext_lazy("committee function", "Risk & ethics")


def function_name(code: str) -> str:
    """A committee function as a sentence names it ("the risk & ethics sign-off"), in the active
    language; an unknown code as it is. Call it when the sentence is made, not at import."""
    try:
        return FunctionCode(code).label.lower()
    except ValueError:
        return code


def stage_word(code: str) -> str:
    """A stage as a sentence names it ("moved from proposal to pilot"), in the active language."""
    try:
        return Stage(code).label.lower()
    except ValueError:
        return code
