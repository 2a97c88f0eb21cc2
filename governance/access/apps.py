"""A room of the governance app, installed as an app of its own only so that Django finds
its management commands (role, permission_matrix); it has no models."""

from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "governance.access"
    label = "governance_access"
    verbose_name = "Governance: access"
