"""GET /health/: whether the database and the broker answer, for load balancers and monitors.

Says "ok" or "unavailable" per dependency and nothing else: no versions, hosts or error text; and
how many notification deliveries are dead (gave up after their attempts), for a monitor to alert on.
A dead delivery does not make the service unhealthy: the application still works.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("valuegate.health")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "unavailable"; the reason goes to the log only
        logger.exception("Health check: the database did not answer.")
        return False


def _dead_notifications() -> int | None:
    from governance.notifications.delivery import dead_deliveries

    try:
        return dead_deliveries()
    except Exception:  # as above: the reason goes to the log only
        logger.exception("Health check: could not count dead notification deliveries.")
        return None


def _broker_state() -> str:
    if not settings.REDIS_URL:
        return "not configured"  # embedded mode: tasks run in-process
    from config.celery import app

    try:
        # One attempt, on a fresh connection, bounded by the broker's timeouts: a retry would only
        # add kombu's two-second pause and a second timeout to every probe of a frozen Redis.
        with app.connection_for_write(url=settings.REDIS_URL) as conn:
            conn.ensure_connection(max_retries=0)
        return "ok"
    except Exception:  # as above: the reason is logged, never shown
        logger.exception("Health check: the broker did not answer.")
        return "unavailable"


@never_cache
@require_GET
def health(request):
    database = "ok" if _database_ok() else "unavailable"
    broker = _broker_state()
    healthy = database == "ok" and broker != "unavailable"
    body: dict[str, object] = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "broker": broker,
    }
    if database == "ok":
        body["dead_notifications"] = _dead_notifications()
    return JsonResponse(
        body,
        status=200 if healthy else 503,
    )
