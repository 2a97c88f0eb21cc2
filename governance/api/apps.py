from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "governance.api"
    label = "api"
    verbose_name = _("API access")

    def ready(self) -> None:
        from governance.api import (
            lifecycle,
            schema,  # noqa: F401  (registers the token security scheme)
        )

        lifecycle.connect()
