"""The committee's functions and the people who hold roles: the access room's tables."""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.vocabulary import FunctionCode


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Every IANA time zone this machine knows (a scan of the zone files, so read once)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    if name and name not in time_zone_names():
        raise ValidationError(
            _("%(name)s is not a time zone name (e.g. Asia/Shanghai)."), params={"name": name}
        )


class CommitteeFunction(models.Model):
    """One function at the committee table, backed by the group of its members."""

    code = models.CharField(_("code"), max_length=16, choices=FunctionCode.choices, unique=True)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="committee_function", verbose_name=_("group")
    )

    class Meta:
        app_label = "governance"  # the access room is an app of its own only for its commands
        ordering = ["code"]
        verbose_name = _("committee function")
        verbose_name_plural = _("committee functions")

    def __str__(self) -> str:
        return self.get_code_display()


class Member(User):
    """A user account seen as a holder of governance roles: the admin's people-and-roles pages.

    A proxy, so the roles stay the user's groups and change only through the membership services.
    """

    class Meta:
        app_label = "governance"
        proxy = True
        verbose_name = _("person and roles")
        verbose_name_plural = _("people and roles")


class UserPreferences(models.Model):
    """A person's language and time zone: for their pages, e-mails and chat messages.

    Blank means "not chosen": the browser's language and the deployment's time zone apply.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("user")
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Blank: the browser's."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("An IANA name such as Asia/Shanghai. Blank: the deployment's."),
    )

    class Meta:
        app_label = "governance"
        verbose_name = _("my preferences")
        verbose_name_plural = _("my preferences")

    def __str__(self) -> str:
        return str(self.user)
