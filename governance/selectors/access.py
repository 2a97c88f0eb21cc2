"""What each role may see."""

from __future__ import annotations

from django.db.models import QuerySet

from governance import roles
from projects.models import Initiative


def sees_whole_portfolio(user) -> bool:
    """Committee members, the chair, auditors and governance admins see every initiative."""
    if not user or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.exclude(name=roles.PROJECT_LEADS).exists()


def visible_initiatives(user, queryset: QuerySet[Initiative] | None = None) -> QuerySet[Initiative]:
    """The whole portfolio for the committee; a project lead's own initiatives for a lead."""
    queryset = queryset if queryset is not None else Initiative.objects.all()
    if sees_whole_portfolio(user):
        return queryset
    if user and user.is_active:
        return queryset.filter(owner=user)
    return queryset.none()
