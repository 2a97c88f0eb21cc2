from __future__ import annotations

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from governance.roles import ensure_roles

        post_migrate.connect(ensure_roles, sender=self)
        import governance.membership  # noqa: F401  (records role grants and revocations in the ledger)
