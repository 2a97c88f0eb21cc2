"""Domain errors. Each carries a reason the person who hit it can act on."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.reasons import say
from governance.refusals import log_refusal
from governance.rules.gates import GateEvaluation


class DomainError(Exception):
    """A refusal by the rules; nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    """The actor's role does not allow this operation. Every refusal is logged (audit_log)."""

    def __init__(self, message: str, *, actor=None, target: object = "", operation: str = ""):
        super().__init__(message)
        log_refusal(actor=actor, operation=operation or type(self).__name__, target=target, reason=message)


class NotACommitteeMember(NotAllowed):
    pass


class SegregationOfDuties(NotAllowed):
    pass


class WrongStage(DomainError):
    """The initiative or review is not in a state where this can happen."""


class InvalidInput(DomainError):
    pass


class GateNotSatisfied(DomainError):
    def __init__(self, evaluation: GateEvaluation):
        self.evaluation = evaluation
        lines = pgettext("between the clauses of a list", "; ").join(
            _("%(requirement)s: %(reason)s") % {"requirement": say(r.label), "reason": say(r.reason)}
            for r in evaluation.failing
        )
        super().__init__(
            _("The %(gate)s gate is not satisfied. %(requirements)s")
            % {"gate": evaluation.gate, "requirements": lines}
        )

    @property
    def requirements(self):
        return self.evaluation.failing
