from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from governance.access.roles import ensure_roles
        from governance.reviews.default_policies import install_after_migrate

        post_migrate.connect(ensure_roles, sender=self)
        post_migrate.connect(install_after_migrate, sender=self)
        import governance.access.recording  # noqa: F401  (records role grants and revocations in the ledger)
        import governance.ledger.checks  # noqa: F401  (system checks of the signing key and witnesses)
