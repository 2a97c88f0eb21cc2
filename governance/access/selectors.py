"""What each role may see."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access.matrix import Operation, Scope, scope
from projects.models import Initiative


def sees_whole_portfolio(user) -> bool:
    """Whether the matrix lets `user` (or a Principal already read) see any initiative: the
    committee, auditors, governance admins."""
    return scope(user, Operation.VIEW_INITIATIVE) == Scope.ANY


def visible_initiatives(user, queryset: QuerySet[Initiative] | None = None) -> QuerySet[Initiative]:
    """The whole portfolio for the committee; a project lead's own initiatives for a lead."""
    queryset = queryset if queryset is not None else Initiative.objects.all()
    reach = scope(user, Operation.VIEW_INITIATIVE)
    if reach == Scope.ANY:
        return queryset
    if reach == Scope.OWN:
        return queryset.filter(owner=user)
    return queryset.none()
