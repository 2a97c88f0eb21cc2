"""The decision ledger's tables: its events and the head of the chain."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Initiative


class LedgerHead(models.Model):
    """The chain's last sequence number and hash; a single row locked by every append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Ledger head #{self.seq}"


class LedgerEvent(models.Model):
    """One decision, append-only. See governance/ledger/chain.py for the hash chain."""

    seq = models.BigIntegerField(unique=True)
    recorded_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The actor's username when it acted.")
    action = models.CharField(max_length=64, db_index=True)
    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_events"
    )
    payload = models.TextField(help_text="Canonical JSON.")
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Ledger events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger events are append-only.")
