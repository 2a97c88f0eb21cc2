"""The words of the domain, declared once: stages, risk tiers, KPI directions, experiment metrics
and methods, gates, review outcomes, sign-off decisions and committee functions.

Models take their choices from here, the pure rules compare with these members, serializers and
templates show their labels. Each word is a `StrEnum` member, so it equals the text stored in the
database and in the ledger ("pilot", "approve_with_conditions"), and that text never changes:
stored history and hashed ledger payloads are made of it.

Pure Python, no Django: the gate rules (governance/rules/) use these words and import nothing of
Django. A member's `label` is the English word for people; it is translated where it is shown.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from enum import EnumType, StrEnum


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

    label: str

    def __new__(cls, value: str, label: str = ""):
        term = str.__new__(cls, value)
        term._value_ = value
        term.label = label
        return term


class Stage(Term):
    DRAFT = "draft", "Draft"
    PROPOSAL = "proposal", "Proposal"
    PILOT = "pilot", "Pilot"
    SCALE = "scale", "Scale"
    RETIRED = "retired", "Retired"
    REJECTED = "rejected", "Rejected"


TERMINAL_STAGES = frozenset({Stage.RETIRED, Stage.REJECTED})


class RiskTier(Term):
    MINIMAL = "minimal", "Minimal"
    LIMITED = "limited", "Limited"
    HIGH = "high", "High"
    PROHIBITED = "prohibited", "Prohibited"


class Direction(Term):
    """Which way a KPI improves."""

    INCREASE = "increase", "Higher is better"
    DECREASE = "decrease", "Lower is better"


# When a KPI misses its target, as the lookup that finds the misses in SQL (Django's names): below
# the target where higher is better, above it where lower is better. The one definition of "meets
# its target", read by the gate rules in Python (`meets_target`) and by the dashboard in SQL.
MISSES_TARGET_LOOKUP: dict[str, str] = {Direction.INCREASE: "lt", Direction.DECREASE: "gt"}
_MISSES = {"lt": operator.lt, "gt": operator.gt}


def meets_target(direction: str, value: Decimal, target: Decimal) -> bool:
    return not _MISSES[MISSES_TARGET_LOOKUP[direction]](value, target)


class Metric(Term):
    """What an experiment's arms record."""

    PROPORTION = "proportion", "Proportion (successes out of visitors)"
    MEAN = "mean", "Mean (time or amount per observation)"


class ExperimentMethod(Term):
    """How a gate judges an A/B experiment."""

    ALWAYS_VALID = "always_valid", "Always-valid (stays valid however often the committee looks)"
    FIXED_HORIZON = "fixed_horizon", "Fixed-horizon (valid for one planned look)"


class Gate(Term):
    PILOT = "pilot", "Pilot gate"
    SCALE = "scale", "Scale gate"
    RETIRE = "retire", "Retire gate"


# Which gate each stage faces. A pilot faces the scale gate, or the retire gate when retirement
# is proposed.
GATES_FROM_STAGE: dict[str, tuple[Gate, ...]] = {
    Stage.PROPOSAL: (Gate.PILOT,),
    Stage.PILOT: (Gate.SCALE, Gate.RETIRE),
    Stage.SCALE: (Gate.RETIRE,),
}


class Outcome(Term):
    """What the committee decided at a gate."""

    GO = "go", "Go"
    CONDITIONAL_GO = "conditional_go", "Conditional Go"
    KILL = "kill", "Kill"
    RECYCLE = "recycle", "Recycle"
    HOLD = "hold", "Hold"


class Decision(Term):
    """What one committee function signed."""

    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"


APPROVING_DECISIONS = frozenset({Decision.APPROVE, Decision.APPROVE_WITH_CONDITIONS})


class FunctionCode(Term):
    """A function at the committee table."""

    BUSINESS = "business", "Business"
    LEGAL = "legal", "Legal"
    FINANCE = "finance", "Finance"
    TECHNICAL = "technical", "Technical"
    RISK_ETHICS = "risk_ethics", "Risk & ethics"


def function_name(code: str) -> str:
    """A committee function as a sentence names it ("the risk & ethics sign-off"); an unknown code
    as it is."""
    try:
        return FunctionCode(code).label.lower()
    except ValueError:
        return code
