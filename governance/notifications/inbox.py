"""In-app notifications: each person's own, newest first, with how many are unread."""

from __future__ import annotations

from dataclasses import dataclass

from governance.notifications.models import Notification

INBOX_SIZE = 8


@dataclass(frozen=True)
class Inbox:
    unread: int
    latest: list[Notification]


def inbox_of(user) -> Inbox | None:
    """The person's latest notifications and unread count (two queries); None when signed out."""
    if user is None or not user.is_authenticated:
        return None
    own = Notification.objects.filter(recipient=user)
    return Inbox(
        unread=own.filter(read_at__isnull=True).count(),
        latest=list(own.select_related("initiative").order_by("-created_at", "-id")[:INBOX_SIZE]),
    )
