"""A room of the governance app, installed as an app of its own only so that Django finds
its management commands (verify_ledger, export_ledger, ledger_checkpoint, ledger_proof, ledger_keygen,
ledger_public_key, ledger_events); it has no models."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "governance.audit"
    label = "governance_audit"
    verbose_name = _("Governance: audit")
