"""The outbox: notifications written with the decision, relayed after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from governance.models import Notification


def notify(*, recipients: Iterable, event_key: str, subject: str, body: str) -> int:
    """Queue one notification per recipient for this event; a repeated event adds nothing."""
    rows = [
        Notification(recipient=user, event_key=event_key, subject=subject, body=body)
        for user in {u.pk: u for u in recipients if u.is_active and u.email}.values()
    ]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_relay_soon)
    return len(rows)


def _relay_soon() -> None:
    from governance.tasks import relay_notifications

    relay_notifications.delay()


def members_of(group_names: Iterable[str]):
    return get_user_model().objects.filter(groups__name__in=list(group_names), is_active=True).distinct()
