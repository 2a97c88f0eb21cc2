"""Relay of the notification outbox: each notification fanned out into deliveries, each delivery
sent once, none lost, none blocking another (governance/notifications/delivery.py)."""

from __future__ import annotations

import datetime as dt

from governance.notifications.delivery import RELAY_BATCH, RelayResult, relay, retry_delay

__all__ = ["RELAY_BATCH", "RelayResult", "relay_pending", "retry_delay"]


def relay_pending(*, now: dt.datetime | None = None, limit: int = RELAY_BATCH) -> RelayResult:
    """Fan out the outbox and send the deliveries whose next attempt is due, each once.

    Deliveries are claimed for one relay at a time and each is settled as soon as it is sent: two
    relays, or one task delivered twice, never send the same message twice. A failed send records
    its error and next attempt on its own row and the relay moves on.
    """
    return relay(now=now, limit=limit)
