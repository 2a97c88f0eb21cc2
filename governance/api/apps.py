from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "governance.api"
    label = "api"
    verbose_name = "API access"

    def ready(self) -> None:
        from governance.api import (
            lifecycle,
            schema,  # noqa: F401  (registers the token security scheme)
        )

        lifecycle.connect()
