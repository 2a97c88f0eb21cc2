"""The decision ledger's tables: its events, the Merkle tree over them, its head and checkpoints.

A decision's transaction inserts its events with no sequence number; the sequencer
(governance/ledger/sequencer.py) gives each a seq in the order they became visible, adds its leaf
to the tree and moves the head. Rows are never updated after that, nor deleted (database triggers:
governance/ledger/guards.py); the only update the triggers let through is the sequencer's, which
sets seq and sequenced_at once on a row that had none.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from governance.ledger.events import CATALOGUE
from projects.models import Initiative


class LedgerHead(models.Model):
    """The Merkle tree's size (`seq`: the last sequenced event) and root hash, moved by the sequencer."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(
        default=0, help_text=_("Tree size: the number of sequenced events."), verbose_name=_("seq")
    )
    hash = models.CharField(
        max_length=64, help_text=_("Root hash of the tree (hex)."), verbose_name=_("hash")
    )
    frontier = models.TextField(
        blank=True,
        help_text=_(
            "The perfect subtrees' hashes (hex, largest first, space-separated) the next leaf extends."
        ),
        verbose_name=_("frontier"),
    )

    class Meta:
        verbose_name = _("ledger head")
        verbose_name_plural = _("ledger heads")

    def __str__(self) -> str:
        return gettext("Ledger head #%(seq)s") % {"seq": self.seq}


class LedgerEvent(models.Model):
    """One decision, append-only. See governance/ledger/content.py for what its hash and signature cover.

    Signed events (those written since the ledger became a signed log) carry a nonce, the signing
    key's id and an Ed25519 signature, and `hash` is their Merkle leaf hash. Events written before
    (no signature) form the ledger's first stretch: a SHA-256 hash chain (`prev_hash`), each
    `hash` the chain hash; the tree covers them as well.
    """

    seq = models.BigIntegerField(unique=True, null=True, blank=True, verbose_name=_("seq"))
    recorded_at = models.DateTimeField(verbose_name=_("recorded at"))
    sequenced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sequenced at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(
        max_length=150, help_text=_("The actor's username when it acted."), verbose_name=_("actor name")
    )
    action = models.CharField(max_length=64, db_index=True, verbose_name=_("action"))
    initiative = models.ForeignKey(
        Initiative,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_events",
        verbose_name=_("initiative"),
    )
    payload = models.TextField(help_text=_("Canonical JSON."), verbose_name=_("payload"))
    nonce = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("Random; hides withheld events' content."),
        verbose_name=_("nonce"),
    )
    key_id = models.CharField(
        max_length=8, blank=True, help_text=_("The signing key's id."), verbose_name=_("key id")
    )
    signature = models.CharField(
        max_length=88, blank=True, help_text=_("Ed25519, base64."), verbose_name=_("signature")
    )
    prev_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, verbose_name=_("prev hash")
    )
    hash = models.CharField(max_length=64, unique=True, verbose_name=_("hash"))

    class Meta:
        verbose_name = _("ledger event")
        verbose_name_plural = _("ledger events")
        ordering = [models.F("seq").asc(nulls_last=True), "id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="ledger_pending"),
        ]

    def __str__(self) -> str:
        if self.seq is None:
            # Translators: action is the event's name, e.g. "Sign-off recorded".
            return gettext("(pending) %(action)s") % {"action": self.action_label}
        return f"#{self.seq} {self.action_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Ledger events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger events are append-only.")

    @property
    def action_label(self) -> str:
        """The action's name from the event catalogue, in the reader's language; its code for an
        action the catalogue no longer declares."""
        declared = CATALOGUE.get(self.action)
        return str(declared.label) if declared is not None else self.action

    @classmethod
    def last_seq(cls, using: str = "default") -> int:
        """The last sequence number given (0 for none); events waiting to be sequenced have none."""
        return cls.objects.using(using).aggregate(last=models.Max("seq"))["last"] or 0

    @property
    def signed(self) -> bool:
        return bool(self.signature)

    def receipt(self) -> dict[str, str]:
        """What the person who made the decision keeps: the event's hash, time, key id and signature."""
        from governance.ledger.canonical import utc_text

        return {
            "hash": self.hash,
            "recorded_at": utc_text(self.recorded_at),
            "key_id": self.key_id,
            "signature": self.signature,
            "action": self.action,
        }


class LedgerTreeNode(models.Model):
    """A perfect subtree of the Merkle tree: level L, index i cover leaves [i·2^L, (i+1)·2^L).

    Kept so that inclusion and consistency proofs take O(log n) reads. Verification never trusts
    them: it rebuilds the tree from the events.
    """

    level = models.PositiveSmallIntegerField(verbose_name=_("level"))
    index = models.BigIntegerField(verbose_name=_("index"))
    hash = models.CharField(max_length=64, verbose_name=_("hash"))

    class Meta:
        verbose_name = _("ledger tree node")
        verbose_name_plural = _("ledger tree nodes")
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_tree_node_position")]

    def __str__(self) -> str:
        # Translators: a node of the ledger's Merkle tree, by level and index: "node 3/17".
        return gettext("node %(level)s/%(index)s") % {"level": self.level, "index": self.index}


class LedgerCheckpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note), as published to the witnesses."""

    size = models.BigIntegerField(verbose_name=_("size"))
    root = models.CharField(max_length=64, verbose_name=_("root"))
    published_at = models.DateTimeField(verbose_name=_("published at"))
    note = models.TextField(verbose_name=_("note"))

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["-size", "-published_at"]
        get_latest_by = "size"

    def __str__(self) -> str:
        # Translators: size is the number of events the signed checkpoint covers (at least 1).
        return ngettext("Checkpoint of %(size)s event", "Checkpoint of %(size)s events", self.size) % {
            "size": self.size
        }
