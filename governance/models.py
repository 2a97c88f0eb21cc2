"""The governance app's models, each declared in the room that owns it. Django loads an app's
models from this module; product code imports a model from its room."""

from __future__ import annotations

from governance.access.models import CommitteeFunction, Member
from governance.ledger.models import LedgerCheckpoint, LedgerEvent, LedgerHead, LedgerTreeNode
from governance.notifications.models import Notification, NotificationDelivery, NotificationPreference
from governance.oversight.models import ExitCriteriaBreach, PilotEscalation, SignOffFollowUp
from governance.reviews.models import Condition, GatePolicy, GateReview, SignOff
from governance.value.models import ValueReview
from projects.vocabulary import FollowUpKind, Recommendation, ReviewStatus

__all__ = [
    "CommitteeFunction",
    "Condition",
    "ExitCriteriaBreach",
    "FollowUpKind",
    "GatePolicy",
    "GateReview",
    "LedgerEvent",
    "LedgerCheckpoint",
    "LedgerHead",
    "LedgerTreeNode",
    "Member",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "PilotEscalation",
    "Recommendation",
    "ReviewStatus",
    "SignOff",
    "SignOffFollowUp",
    "ValueReview",
]
