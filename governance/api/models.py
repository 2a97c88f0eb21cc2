"""API tokens for integrations, and the idempotency keys that make retried requests safe."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import Initiative


class ApiToken(models.Model):
    """A bearer token. Only the SHA-256 of its secret is stored; the secret is shown once.

    A token bound to an initiative is an integration's: it acts as the initiative's project lead
    (its owner, checked when it is issued) but reaches only that initiative's value data.
    """

    name = models.CharField(
        max_length=120, help_text=_("What uses it, e.g. 'BI nightly export'."), verbose_name=_("name")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("Owner."),
        verbose_name=_("user"),
    )
    initiative = models.ForeignKey(
        Initiative,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Bind the token to one initiative's integration."),
        verbose_name=_("initiative"),
    )
    prefix = models.CharField(
        max_length=12,
        help_text=_("The secret's first characters, to recognise it."),
        verbose_name=_("prefix"),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("token hash"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    expires_at = models.DateTimeField(
        help_text=_("After this, the token answers 401."), verbose_name=_("expires at")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name_plural = _("API tokens")
        verbose_name = _("API token")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_live(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at


class IdempotencyKey(models.Model):
    """The stored outcome of a successful request sent with an `Idempotency-Key` header."""

    key = models.CharField(max_length=255, verbose_name=_("key"))
    principal = models.CharField(
        max_length=40, help_text=_("'token:<id>' or 'user:<id>'."), verbose_name=_("principal")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    token = models.ForeignKey(
        ApiToken, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("token")
    )
    fingerprint = models.CharField(
        max_length=64, help_text=_("SHA-256 of the method, path and body."), verbose_name=_("fingerprint")
    )
    response_status = models.PositiveSmallIntegerField(verbose_name=_("response status"))
    response_body = models.TextField(verbose_name=_("response body"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_unique_per_principal"),
            models.CheckConstraint(condition=~Q(key=""), name="idempotency_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
