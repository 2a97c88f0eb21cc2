"""The committee's functions and the people who hold roles: the access room's tables."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import models

from projects.vocabulary import FunctionCode


class CommitteeFunction(models.Model):
    """One function at the committee table, backed by the group of its members."""

    code = models.CharField(max_length=16, choices=FunctionCode.choices, unique=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="committee_function")

    class Meta:
        app_label = "governance"  # the access room is an app of its own only for its commands
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class Member(User):
    """A user account seen as a holder of governance roles: the admin's people-and-roles pages.

    A proxy, so the roles stay the user's groups and change only through the membership services.
    """

    class Meta:
        app_label = "governance"
        proxy = True
        verbose_name = "person and roles"
        verbose_name_plural = "people and roles"
