"""Who reaches what. Initiatives are scoped by the same selector the admin uses; the services
still check ownership and committee membership on every write."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from governance.access.matrix import Operation, allowed, refusal
from governance.access.selectors import visible_initiatives
from governance.api.authentication import bound_initiative_id
from projects.models import Initiative


def initiatives_for(request) -> QuerySet[Initiative]:
    """What the caller may see: the portfolio or a lead's own initiatives, and for an integration
    token only the initiative it is bound to."""
    queryset = visible_initiatives(request.user)
    bound = bound_initiative_id(request)
    if bound is not None:
        queryset = queryset.filter(pk=bound)
    return queryset


class IntegrationScope(BasePermission):
    """An integration token may use only the methods a view lists in `integration_methods`."""

    message = _(
        "An integration token reaches only its initiative's KPIs, measurements, experiments, "
        "costs and benefits, evidence and checklist."
    )

    def has_permission(self, request, view) -> bool:
        if bound_initiative_id(request) is None:
            return True
        return request.method in getattr(view, "integration_methods", ())


class ReadsLedger(BasePermission):
    @property
    def message(self) -> str:
        """Worded when a request is refused, in its language."""
        return refusal(Operation.READ_LEDGER)

    def has_permission(self, request, view) -> bool:
        return allowed(request.user, Operation.READ_LEDGER)
