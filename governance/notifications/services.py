"""The outbox: notifications written with the decision, relayed after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from governance.access.preferences import in_words_of, readers_of
from governance.notifications.links import admin_link
from governance.notifications.models import Notification
from governance.notifications.tasks import relay_notifications
from governance.notifications.text import SUBJECT_LIMITS, one_line
from governance.redis_budget import redis_available, redis_call, stop_retrying_in_a_request

logger = logging.getLogger(__name__)


# The notifications of the innermost notification_batch() block; None outside any batch.
_batch: ContextVar[list | None] = ContextVar("notification_batch", default=None)


# What a notification says: a text, or a function that writes it, called in each recipient's
# language and time zone (for everything a person reads; a text is sent to everyone as it is).
Words = str | Callable[[], str]


def notify(
    *,
    recipients: Iterable,
    event_key: str,
    subject: Words,
    body: Words,
    event: str = "other",
    initiative=None,
    about=None,
    to_do: Words = "",
) -> int:
    """Queue one notification per recipient for this event; a repeated event adds nothing.

    `event` is its kind in the catalogue (governance/notifications/events.py), which people's
    channel choices and webhooks go by; `about` is the object whose admin page the message links
    to (the initiative's, if not given); `to_do` says what the recipient should do. Subject, body
    and to-do given as functions are written in each recipient's language and time zone, once per
    language and zone, when the rows are written. The subject is made one line and capped then, so
    no title can overflow the column or inject a header. The rows are written in the caller's
    transaction (inside a notification_batch() block, when the block ends: one query reads the
    recipients' choices for the whole block); one relay is asked for when it commits.
    """
    link = admin_link(about if about is not None else initiative)
    message = _Message(event_key, event, initiative, link, (subject, body, to_do))
    pending = [(user, message) for user in {u.pk: u for u in recipients if u.is_active}.values()]
    batch = _batch.get()
    if batch is not None:
        batch.extend(pending)
    elif pending:
        _write(pending)
    return len(pending)


@dataclass(frozen=True, eq=False)
class _Message:
    """One event's notification before it is put in each recipient's words."""

    event_key: str
    event: str
    initiative: Any
    link: str
    words: tuple[Words, Words, Words]  # subject, body, to-do

    def written(self, reader: tuple[str, str] | None) -> tuple[str, str, str]:
        if reader is None:
            texts = [w() if callable(w) else w for w in self.words]
        else:
            with in_words_of(reader):
                texts = [w() if callable(w) else w for w in self.words]
        subject, body, to_do = (str(text) for text in texts)
        return one_line(subject, limit=SUBJECT_LIMITS["outbox"]), body, to_do


@contextmanager
def notification_batch() -> Iterator[None]:
    """Write the notifications queued inside in one insert when the block ends (a nested block
    joins the outer one); if the block raises, nothing is written."""
    if _batch.get() is not None:
        yield
        return
    pending: list[tuple[Any, _Message]] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:
        _write(pending)


def _write(pending: list[tuple[Any, _Message]]) -> None:
    worded = [user for user, message in pending if any(callable(w) for w in message.words)]
    readers = readers_of(worded) if worded else {}
    written: dict[tuple[int, tuple[str, str] | None], tuple[str, str, str]] = {}
    rows = []
    for user, message in pending:
        reader = readers.get(user.pk)
        key = (id(message), reader)
        if key not in written:
            written[key] = message.written(reader)
        subject, body, to_do = written[key]
        rows.append(
            Notification(
                recipient=user,
                event_key=message.event_key,
                event=message.event,
                initiative=message.initiative,
                subject=subject,
                body=body,
                to_do=to_do,
                link=message.link,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # One relay per transaction is enough: it sends every pending row. A relay queued in this
    # transaction or savepoint (its savepoints all still open) will run; one queued in a savepoint
    # since released might be rolled back with it, so queue another.
    connection = transaction.get_connection()
    scope = set(connection.savepoint_ids)
    if not any(callback is relay_soon and sids <= scope for sids, callback, _ in connection.run_on_commit):
        transaction.on_commit(relay_soon)


def relay_soon() -> None:
    """Ask a worker to relay the outbox now, without ever failing or holding up the caller.

    Runs after the decision committed. With the broker down or unreachable, publishing gives up
    within the bounded timeouts of config/settings.py (a timed-out publish is not retried in a
    request), and is not even tried if Redis already failed to answer in this request
    (governance/redis_budget.py); the rows stay in the outbox and the periodic relay (beat, or
    governance_tick) sends them once the broker is back. Raising here would turn a committed
    decision into an error page.
    """
    eager = relay_notifications.app.conf.task_always_eager  # no broker: the relay runs in-process
    if not eager and not redis_available():
        logger.warning(
            "Did not queue the notification relay: Redis failed or took its time earlier in this "
            "request; the outbox keeps the notifications for the periodic relay."
        )
        return
    try:
        if eager:
            _relay_in_process()
        else:
            with redis_call():
                relay_notifications.apply_async(retry_policy={"errback": stop_retrying_in_a_request})
    except (KombuError, RedisError, OSError):
        logger.warning(
            "Could not queue the notification relay; the outbox keeps the notifications for the "
            "periodic relay.",
            exc_info=True,
        )


def _relay_in_process() -> None:
    """Without a broker the relay runs here, after the decision committed, for a bounded time.

    Every delivery's failure is already kept on its row; this guards the request against anything
    else (the database busy, a bug): the decision is recorded and the periodic relay catches up.
    """
    from governance.notifications.delivery import relay

    try:
        relay(max_seconds=settings.VALUEGATE_NOTIFICATION_EAGER_SECONDS)
    except Exception:
        logger.exception("The in-process notification relay failed; the periodic relay will catch up.")


def members_of(group_names: Iterable[str]):
    """The active members of the groups, each with their language and time zone (one query)."""
    return (
        get_user_model()
        .objects.filter(groups__name__in=list(group_names), is_active=True)
        .select_related("preferences")
        .distinct()
    )
