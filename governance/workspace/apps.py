"""A room of the governance app, installed as an app of its own only so that Django finds
its admin registrations, templates and static files; it has no models."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "governance.workspace"
    label = "governance_workspace"
    verbose_name = _("Governance: workspace")
