"""The notifications room's tables: the outbox and its deliveries.

The outbox (Notification) is written in the decision's transaction and is also each person's
in-app notification; the relay fans each notification out into deliveries, per channel and
recipient, and sends them one by one. A delivery that fails is tried again later with backoff;
after VALUEGATE_NOTIFICATION_MAX_ATTEMPTS failures it is dead, shown in the admin to the chair and
governance admins, and may be retried from there. No delivery waits for another.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.notifications.events import NotificationEvent
from projects.models import Initiative


class Notification(models.Model):
    """Outbox: written in the decision's transaction, fanned out into deliveries after commit.

    Also the person's in-app notification: they see their own on the admin index until read.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    event_key = models.CharField(
        max_length=120, help_text=_("What happened, e.g. review-12-opened."), verbose_name=_("event key")
    )
    event = models.CharField(
        max_length=40,
        default="other",
        help_text=_("Its kind (governance/notifications/events.py)."),
        verbose_name=_("event"),
    )
    initiative = models.ForeignKey(
        Initiative,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("initiative"),
    )
    subject = models.CharField(max_length=200, verbose_name=_("subject"))
    body = models.TextField(verbose_name=_("body"))
    to_do = models.TextField(
        blank=True, help_text=_("What the recipient should do."), verbose_name=_("to do")
    )
    link = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("The admin page where the recipient acts."),
        verbose_name=_("link"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the relay made its deliveries (governance/notifications)."),
        verbose_name=_("dispatched at"),
    )
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="one_notification_per_recipient_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="notification_undispatched"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class DeliveryState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("notification delivery state", "Pending")
    SENT = "sent", pgettext_lazy("notification delivery state", "Sent")
    DEAD = "dead", pgettext_lazy("notification delivery state", "Dead (gave up)")


class NotificationDelivery(models.Model):
    """One message on one channel: to one person (e-mail), or once per event (a chat group, a webhook)."""

    notification = models.ForeignKey(
        "governance.Notification",
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text=_("The outbox row the message is made from."),
        verbose_name=_("notification"),
    )
    event_key = models.CharField(max_length=120, verbose_name=_("event key"))
    channel = models.CharField(
        max_length=64,
        help_text=_("'email', or a channel of VALUEGATE_NOTIFICATION_CHANNELS."),
        verbose_name=_("channel"),
    )
    destination = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("user:<id> for a person's e-mail; empty for a channel's one message."),
        verbose_name=_("destination"),
    )
    state = models.CharField(
        max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    dead_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dead at"))

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "channel", "destination"],
                name="one_delivery_per_event_channel_destination",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state="pending"),
                name="delivery_due",
            ),
            models.Index(fields=["state"], condition=Q(state="dead"), name="delivery_dead"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.destination or ''} {self.event_key}".replace("  ", " ")

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt: a receiver that saw it already knows the message is a repeat."""
        return f"vg_delivery_{self.pk}"


class NotificationPreference(models.Model):
    """A person's choice: this event reaches them on this channel.

    A person with no choice for an event gets it on VALUEGATE_NOTIFICATION_DEFAULT_CHANNELS.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    event = models.CharField(max_length=40, choices=NotificationEvent.choices, verbose_name=_("event"))
    channel = models.CharField(max_length=64, verbose_name=_("channel"))

    class Meta:
        verbose_name = _("my notification channel")
        verbose_name_plural = _("my notification channels")
        ordering = ["event", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "channel"], name="one_preference_per_event_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.channel}"
