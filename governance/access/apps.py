"""A room of the governance app, installed as an app of its own so that Django finds its
management commands (role, permission_matrix); its models belong to the governance app."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "governance.access"
    label = "governance_access"
    verbose_name = _("Governance: access")

    def ready(self) -> None:
        # Connects the sign-in receiver that copies a person's language and time zone into the session.
        from governance.access import preferences  # noqa: F401
