"""The relay: outbox rows fanned out into deliveries, each sent, retried and settled on its own.

- Fan-out: each undispatched notification becomes a delivery per channel its recipient chose for
  its event (e-mail by default), plus one per configured channel that takes every such event
  (a webhook for integrations, a committee's group chat). Unique keys make it idempotent: a relay
  that dies half-way, or two relays at once, create nothing twice.
- Sending: the due deliveries, soonest first, claimed a few at a time for one relay alone (a short
  transaction moves them past a lease, skipping rows another relay holds), each settled in its own
  commit right after it is sent. Whatever sending raises — a refused address, a
  header Django will not write, a receiver's 500 or time-out, a misconfigured channel — is written
  on that delivery alone, which is tried again later with exponential backoff and is dead after
  VALUEGATE_NOTIFICATION_MAX_ATTEMPTS failures. A failed delivery moves behind the others, so no row
  is "oldest first forever", and nothing raised reaches the decision that wrote the notification.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.access.matrix import Operation, require
from governance.errors import InvalidInput
from governance.ledger.chain import ledger_append
from governance.ledger.events import (
    NOTIFICATION_CHANNEL_CHOSEN,
    NOTIFICATION_CHANNEL_DROPPED,
    NOTIFICATION_RETRIED,
)
from governance.notifications.channels import EMAIL, DeliveryFailed, Message, configured
from governance.notifications.events import IN_APP_ONLY_BY_DEFAULT
from governance.notifications.models import (
    DeliveryState,
    Notification,
    NotificationDelivery,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

# A failed delivery is tried again after 1, 2, 4 … minutes, at most every 6 hours, until it has
# failed VALUEGATE_NOTIFICATION_MAX_ATTEMPTS times (8 by default: about four hours of trying).
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=6)
# Rows relayed per call, so that one call stays well inside the task's time limit.
RELAY_BATCH = 500
FAN_OUT_BATCH = 200
# Deliveries one relay claims at a time (see _claim).
CLAIM_BATCH = 20


@dataclass(frozen=True)
class RelayResult:
    sent: int
    failed: int
    dead: int = 0


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after `attempts` failed sends."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def max_attempts() -> int:
    return max(int(settings.VALUEGATE_NOTIFICATION_MAX_ATTEMPTS), 1)


# Fan-out -------------------------------------------------------------------------------------


def _deliveries_of(
    notification: Notification, chosen: dict[tuple[int, str], list[str]], channels, now: dt.datetime
) -> list:
    defaults = list(settings.VALUEGATE_NOTIFICATION_DEFAULT_CHANNELS)
    wanted = chosen.get((notification.recipient_id, notification.event))
    if wanted is None:
        wanted = [] if notification.event in IN_APP_ONLY_BY_DEFAULT else defaults
    elif not any(name == EMAIL or name in channels for name in wanted):
        # Every channel the person chose was removed from the settings since: the defaults, rather
        # than nothing but the in-app list.
        wanted = defaults
    rows = []
    for name in dict.fromkeys(wanted):
        if name == EMAIL:
            if notification.recipient.email:
                rows.append((name, f"user:{notification.recipient_id}"))
        elif name in channels:
            rows.append((name, ""))  # a chat group: one message per event, whoever asked for it
    rows += [(name, "") for name, config in channels.items() if notification.event in config.events]
    return [
        NotificationDelivery(
            notification=notification,
            event_key=notification.event_key,
            channel=name,
            destination=destination,
            next_attempt_at=now,
            created_at=now,
        )
        for name, destination in dict.fromkeys(rows)
    ]


def dispatch_pending(*, now: dt.datetime | None = None, limit: int = FAN_OUT_BATCH) -> int:
    """Make the deliveries of undispatched notifications; returns how many notifications."""
    now = now or timezone.now()
    channels = configured()
    with transaction.atomic():
        batch = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(dispatched_at__isnull=True)
            .select_related("recipient")
            .only("recipient_id", "event", "event_key", "recipient__email")
            .order_by("id")[:limit]
        )
        if not batch:
            return 0
        chosen: dict[tuple[int, str], list[str]] = {}
        for user_id, event, channel in NotificationPreference.objects.filter(
            user_id__in={n.recipient_id for n in batch}
        ).values_list("user_id", "event", "channel"):
            chosen.setdefault((user_id, event), []).append(channel)
        rows = [row for notification in batch for row in _deliveries_of(notification, chosen, channels, now)]
        NotificationDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        Notification.objects.filter(pk__in=[n.pk for n in batch]).update(dispatched_at=timezone.now())
    return len(batch)


# Sending -------------------------------------------------------------------------------------


def message_of(delivery: NotificationDelivery) -> Message:
    notification = delivery.notification
    recipient = notification.recipient
    return Message(
        delivery_key=delivery.idempotency_key,
        event=notification.event,
        event_key=notification.event_key,
        subject=notification.subject,
        summary=notification.body,
        to_do=notification.to_do,
        link=notification.link,
        occurred_at=notification.created_at,
        initiative_id=notification.initiative_id,
        initiative_title=notification.initiative.title if notification.initiative is not None else "",
        recipient_email=recipient.email if delivery.channel == EMAIL else "",
    )


def claim_lease() -> dt.timedelta:
    """How long claimed deliveries stay out of other relays' reach: longer than a batch can take."""
    return dt.timedelta(seconds=CLAIM_BATCH * float(settings.VALUEGATE_NOTIFICATION_TIMEOUT) + 60)


# What a delivery's message and its settling read: the claim loads these columns alone (the
# recipient's user row has a dozen more, loaded for every message).
_MESSAGE_FIELDS = (
    "channel",
    "event_key",
    "destination",
    "attempts",
    "notification__event",
    "notification__event_key",
    "notification__subject",
    "notification__body",
    "notification__to_do",
    "notification__link",
    "notification__created_at",
    "notification__recipient__email",
    "notification__initiative__title",
)


# The columns the claim's single statement returns, per model (each in its model's field order,
# as Model.from_db reads them).
_CLAIMED_FIELDS = {
    "delivery": ("id", "channel", "event_key", "destination", "attempts", "notification_id"),
    "notification": (
        "id",
        "event",
        "event_key",
        "subject",
        "body",
        "to_do",
        "link",
        "created_at",
        "recipient_id",
        "initiative_id",
    ),
    "recipient": ("id", "email"),
    "initiative": ("id", "title"),
}


def _related_model(name: str) -> type[models.Model]:
    """The model a notification's foreign key `name` points at (its recipient, its initiative)."""
    return cast(type[models.Model], Notification._meta.get_field(name).related_model)


def _in_field_order(model, names) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


@functools.cache
def _claimed_columns() -> dict[str, tuple[str, ...]]:
    claimed = {
        "delivery": NotificationDelivery,
        "notification": Notification,
        "recipient": _related_model("recipient"),
        "initiative": _related_model("initiative"),
    }
    return {part: _in_field_order(claimed[part], names) for part, names in _CLAIMED_FIELDS.items()}


@functools.cache
def _claim_statement() -> str:
    """PostgreSQL's claim as one statement: lock the next due rows (skipping those another relay
    holds), move their next attempt past the lease and return them with what their messages read.

    Written by hand because the ORM has no UPDATE … RETURNING joined to other tables: through it
    the claim took five round trips and the ORM's compiling, a quarter of what the relay adds to
    posting each message.
    """
    quote = connection.ops.quote_name
    delivery, notification = NotificationDelivery._meta, Notification._meta
    recipient, initiative = _related_model("recipient")._meta, _related_model("initiative")._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name.removesuffix("_id")).column)

    def listed(alias: str, meta, names) -> str:
        return ", ".join(f"{alias}.{column(meta, name)}" for name in names)

    table = quote(delivery.db_table)
    due_at, pk = column(delivery, "next_attempt_at"), column(delivery, "id")
    return (
        f"WITH claimed AS (UPDATE {table} SET {due_at} = %s WHERE {pk} IN ("
        f"SELECT {pk} FROM {table} WHERE {column(delivery, 'state')} = %s AND {due_at} <= %s "
        f"ORDER BY {due_at}, {pk} LIMIT %s FOR UPDATE SKIP LOCKED) "
        f"RETURNING {', '.join(column(delivery, name) for name in _claimed_columns()['delivery'])}) "
        f"SELECT {listed('c', delivery, _claimed_columns()['delivery'])}, "
        f"{listed('n', notification, _claimed_columns()['notification'])}, "
        f"{listed('u', recipient, _claimed_columns()['recipient'])}, {listed('i', initiative, _claimed_columns()['initiative'])} "
        f"FROM claimed c JOIN {quote(notification.db_table)} n ON n.{column(notification, 'id')} = "
        f"c.{column(delivery, 'notification_id')} "
        f"JOIN {quote(recipient.db_table)} u ON u.{column(recipient, 'id')} = n.{column(notification, 'recipient_id')} "
        f"LEFT JOIN {quote(initiative.db_table)} i ON i.{column(initiative, 'id')} = "
        f"n.{column(notification, 'initiative_id')} ORDER BY c.{pk}"
    )


def _claimed_delivery(row: tuple) -> NotificationDelivery:
    """A claimed row as the ORM would load it with only() those columns (the rest deferred)."""
    alias = connection.alias
    names = _claimed_columns()
    at = 0
    parts = {}
    for part in ("delivery", "notification", "recipient", "initiative"):
        parts[part] = row[at : at + len(names[part])]
        at += len(names[part])
    recipient_model, initiative_model = _related_model("recipient"), _related_model("initiative")
    delivery = NotificationDelivery.from_db(alias, names["delivery"], parts["delivery"])
    notification = Notification.from_db(alias, names["notification"], parts["notification"])
    Notification.recipient.field.set_cached_value(
        notification, recipient_model.from_db(alias, names["recipient"], parts["recipient"])
    )
    initiative = (
        None
        if parts["initiative"][0] is None
        else initiative_model.from_db(alias, names["initiative"], parts["initiative"])
    )
    Notification.initiative.field.set_cached_value(notification, initiative)
    NotificationDelivery.notification.field.set_cached_value(delivery, notification)
    return delivery


def _claim(now: dt.datetime, size: int) -> list[NotificationDelivery]:
    """Take the next due deliveries for this relay alone, in one short transaction.

    Their next attempt moves past the lease, so another relay (or this task delivered twice) does
    not take them; each is settled on its own as soon as it is sent. A relay that dies before
    settling one leaves it to be taken again once the lease is over: nothing is lost, and only the
    message in hand when it died can go twice, under the same idempotency key.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_claim_statement(), [now + claim_lease(), DeliveryState.PENDING, now, size])
            return [_claimed_delivery(row) for row in cursor.fetchall()]
    with transaction.atomic():
        ids = list(
            NotificationDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return []
        NotificationDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + claim_lease())
    return list(
        NotificationDelivery.objects.filter(pk__in=ids)
        .select_related("notification__recipient", "notification__initiative")
        .only(*_MESSAGE_FIELDS)
        .order_by("id")
    )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


@functools.cache
def _sent_statement(vendor: str) -> str:
    """The UPDATE that settles a sent delivery (state, attempts, sent_at, last_error by id),
    written once per database vendor from the model's own names.

    Every message the relay sends ends with it. Built through the ORM for each message, the
    same statement cost twice its execution (0.68 ms against 0.35 ms per message on PostgreSQL),
    the largest part of what the relay adds to posting the message.
    """
    meta = NotificationDelivery._meta
    quote = connection.ops.quote_name
    column = {field.name: field.column for field in meta.concrete_fields}
    columns = ", ".join(
        f"{quote(column[name])} = %s" for name in ("state", "attempts", "sent_at", "last_error")
    )
    return f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(column['id'])} = %s"


def _settle_sent(pk: int, attempts: int, sent_at: dt.datetime) -> None:
    sent_at_value = connection.ops.adapt_datetimefield_value(sent_at)
    with connection.cursor() as cursor:
        cursor.execute(
            _sent_statement(connection.vendor), [DeliveryState.SENT, attempts, sent_at_value, "", pk]
        )


def _settle(delivery: NotificationDelivery, *, now: dt.datetime, error: BaseException | None) -> str:
    """Write one delivery's outcome at once, one UPDATE in its own commit: sent, pending again
    later, or dead."""
    attempts = delivery.attempts + 1
    if error is None:
        _settle_sent(delivery.pk, attempts, timezone.now())
        return DeliveryState.SENT
    last_error = _describe(error)
    state = DeliveryState.DEAD if attempts >= max_attempts() else DeliveryState.PENDING
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        attempts=attempts,
        last_error=last_error,
        next_attempt_at=now + retry_delay(attempts),
        dead_at=timezone.now() if state == DeliveryState.DEAD else None,
    )
    logger.warning(
        "Notification delivery %s (%s, %s) failed, attempt %s of %s%s: %s",
        delivery.pk,
        delivery.channel,
        delivery.event_key,
        attempts,
        max_attempts(),
        ", now dead" if state == DeliveryState.DEAD else "",
        last_error,
    )
    return state


@contextmanager
def _commits_not_waiting_for_the_disk():
    """On PostgreSQL, the outcomes' commits do not wait for the disk (synchronous_commit off, for
    this relay's session only, put back afterwards).

    The server has an outcome as soon as it answers, so a relay killed right after loses nothing;
    only a crash of the database server itself within a fraction of a second could forget one,
    and then that message is sent again under the same idempotency key. Waiting for the disk on
    every message would cost the relay much of its throughput.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_one(delivery: NotificationDelivery, channels, *, now: dt.datetime) -> str:
    """Send one delivery and settle it; its failure, whatever it is, is its own."""
    try:
        config = channels.get(delivery.channel)
        if config is None:
            raise DeliveryFailed(f"No notification channel {delivery.channel!r} is configured.")
        config.channel.send(message_of(delivery))
    except Exception as error:  # never the relay's, never the decision's: this message's alone
        return _settle(delivery, now=now, error=error)
    return _settle(delivery, now=now, error=None)


def deliver_due(
    *, now: dt.datetime | None = None, limit: int = RELAY_BATCH, max_seconds: float | None = None
) -> RelayResult:
    """Send due deliveries, each once; `max_seconds` bounds a relay that runs inside a request."""
    now = now or timezone.now()
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    outcomes: list[str] = []
    channels = configured()
    with _commits_not_waiting_for_the_disk():
        while len(outcomes) < limit and (deadline is None or time.monotonic() < deadline):
            batch = _claim(now, min(CLAIM_BATCH, limit - len(outcomes)))
            if not batch:
                break
            unsettled = {d.pk for d in batch}
            try:
                for delivery in batch:
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    outcomes.append(_send_one(delivery, channels, now=now))
                    unsettled.discard(delivery.pk)
            finally:
                # Stopped early (out of time, or the database failed): what was not tried is due again.
                if unsettled:
                    NotificationDelivery.objects.filter(pk__in=unsettled, state=DeliveryState.PENDING).update(
                        next_attempt_at=now
                    )
    sent = outcomes.count(DeliveryState.SENT)
    return RelayResult(sent=sent, failed=len(outcomes) - sent, dead=outcomes.count(DeliveryState.DEAD))


def relay(
    *, now: dt.datetime | None = None, limit: int = RELAY_BATCH, max_seconds: float | None = None
) -> RelayResult:
    """Fan out what the outbox holds, then send what is due."""
    now = now or timezone.now()
    while dispatch_pending(now=now):
        pass
    return deliver_due(now=now, limit=limit, max_seconds=max_seconds)


# The admin's view of it ----------------------------------------------------------------------


def delivery_counts() -> dict[str, int]:
    """Deliveries by state (the dashboard and /health/)."""
    counts = dict.fromkeys(DeliveryState.values, 0)
    for state, count in NotificationDelivery.objects.values_list("state").annotate(n=Count("id")):
        counts[state] = count
    return counts


def dead_deliveries() -> int:
    return NotificationDelivery.objects.filter(state=DeliveryState.DEAD).count()


def relay_soon() -> None:
    from governance.notifications.services import relay_soon as queue_relay

    queue_relay()


@transaction.atomic
def delivery_retry(
    *, actor, delivery: NotificationDelivery, now: dt.datetime | None = None
) -> NotificationDelivery:
    """The chair or a governance admin sends a dead delivery again: pending, due now, attempts
    afresh. Ledger: notification.retried (with the error it died of). Queues a relay after commit.
    """
    require(
        actor,
        Operation.RETRY_NOTIFICATIONS,
        # Translators: completes the refusal "Only <who> may …."
        doing=pgettext("refusal", "retry dead notifications"),
        target=f"delivery {delivery.pk}",
    )
    now = now or timezone.now()
    delivery = (
        NotificationDelivery.objects.select_for_update(of=("self",))
        .select_related("notification__initiative")
        .get(pk=delivery.pk)
    )
    if delivery.state != DeliveryState.DEAD:
        raise InvalidInput(
            # Translators: %(state)s is the delivery's state in lower case, e.g. "pending" or "sent".
            _("Delivery %(delivery)s is %(state)s, not dead.")
            % {"delivery": delivery.pk, "state": delivery.get_state_display().lower()}
        )
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.dead_at = None
    delivery.next_attempt_at = now
    delivery.save(update_fields=["state", "attempts", "dead_at", "next_attempt_at"])
    ledger_append(
        actor=actor,
        action=NOTIFICATION_RETRIED,
        initiative=delivery.notification.initiative,
        payload={
            "delivery": delivery.pk,
            "event_key": delivery.event_key,
            "channel": delivery.channel,
            "last_error": delivery.last_error,
        },
    )
    transaction.on_commit(relay_soon)
    return delivery


# People's choices ----------------------------------------------------------------------------


def selectable_channels() -> list[str]:
    return [name for name, config in configured().items() if config.selectable]


@transaction.atomic
def notification_preference_add(*, actor, event: str, channel: str) -> NotificationPreference:
    """A person chooses to get `event` on `channel` (their own choices only)."""
    require(
        actor,
        Operation.OWN_NOTIFICATIONS,
        owner_id=actor.pk,
        # Translators: completes the refusal "Only <who> may …."
        doing=pgettext("refusal", "choose their notification channels"),
    )
    from governance.notifications.events import NotificationEvent

    if event not in NotificationEvent.values:
        raise InvalidInput(_("Unknown event %(event)s.") % {"event": repr(event)})
    if channel not in selectable_channels():
        raise InvalidInput(
            # Translators: %(channel)s and %(channels)s are channel names from the settings (codes).
            _("Channel %(channel)s is not offered; choose one of %(channels)s.")
            % {"channel": repr(channel), "channels": ", ".join(selectable_channels())}
        )
    try:
        with transaction.atomic():
            preference = NotificationPreference.objects.create(user=actor, event=event, channel=channel)
    except IntegrityError:
        raise InvalidInput(_("You already get this event on this channel.")) from None
    ledger_append(
        actor=actor,
        action=NOTIFICATION_CHANNEL_CHOSEN,
        payload={"user": actor.get_username(), "event": event, "channel": channel},
    )
    return preference


@transaction.atomic
def notification_preference_remove(*, actor, preference: NotificationPreference) -> None:
    require(
        actor,
        Operation.OWN_NOTIFICATIONS,
        owner_id=preference.user_id,
        # Translators: completes the refusal "Only <who> may …."
        doing=pgettext("refusal", "choose their notification channels"),
        target_noun="preference",
    )
    ledger_append(
        actor=actor,
        action=NOTIFICATION_CHANNEL_DROPPED,
        payload={
            "user": preference.user.get_username(),
            "event": preference.event,
            "channel": preference.channel,
        },
    )
    preference.delete()
