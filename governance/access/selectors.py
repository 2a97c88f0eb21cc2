"""What each role may see."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from governance.access.matrix import Operation, Scope, principal, scope
from projects.models import Initiative

Row = TypeVar("Row", bound=Model)


def sees_whole_portfolio(user) -> bool:
    """Whether the matrix lets `user` (or a Principal already read) see any initiative: the
    committee, auditors, governance admins."""
    return scope(user, Operation.VIEW_INITIATIVE) == Scope.ANY


def visible_initiatives(user, queryset: QuerySet[Initiative] | None = None) -> QuerySet[Initiative]:
    """The whole portfolio for the committee; a project lead's own initiatives for a lead."""
    return of_visible_initiatives(user, queryset if queryset is not None else Initiative.objects.all())


def of_visible_initiatives(user, queryset: QuerySet[Row], *, initiative: str = "") -> QuerySet[Row]:
    """The rows of `queryset` that belong to an initiative `user` may see; `initiative` is the
    path from a row to its initiative ("" for initiatives themselves).

    The whole portfolio is the query unfiltered: no subquery over every initiative."""
    who = principal(user)
    reach = scope(who, Operation.VIEW_INITIATIVE)
    if reach == Scope.ANY:
        return queryset
    if reach == Scope.OWN:
        return queryset.filter(**{f"{initiative}__owner_id" if initiative else "owner_id": who.pk})
    return queryset.none()
