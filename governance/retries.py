"""The retry policy of the Celery tasks: the database briefly unreachable is worth waiting for."""

from __future__ import annotations

from typing import TypedDict

from django.db import InterfaceError, OperationalError


class RetryPolicy(TypedDict):
    autoretry_for: tuple[type[Exception], ...]
    retry_backoff: bool
    retry_backoff_max: int
    max_retries: int


# Backoff tops out at 10 minutes, well inside the broker's visibility timeout (config/settings.py):
# a retry waiting for its countdown must not be redelivered as a second copy.
RETRY: RetryPolicy = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}
