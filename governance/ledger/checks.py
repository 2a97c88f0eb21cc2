"""System checks of the ledger's configuration, run by `manage.py check` (and `--deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from governance.ledger.signing import ledger_signing_key, ledger_verifier_keys


@register(Tags.security)
def ledger_keys_readable(app_configs=None, **kwargs):
    """Without its signing key the ledger cannot record a decision: say so before the first one."""
    try:
        ledger_signing_key()
        ledger_verifier_keys()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Generate one with `manage.py ledger_keygen --output FILE`, keep FILE outside the "
                "database and its backups, and give its public key (`manage.py ledger_public_key`) "
                "to the auditors.",
                id="valuegate.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def ledger_witnesses_configured(app_configs=None, **kwargs):
    """In production, checkpoints must also land outside the database to be worth anything."""
    if getattr(settings, "VALUEGATE_LEDGER_WITNESS_DIRS", []):
        return []
    return [
        Warning(
            "VALUEGATE_LEDGER_WITNESS_DIRS is empty: signed checkpoints are kept only in the database, "
            "where whoever can rewrite the ledger can also remove them.",
            hint="Point it at write-once storage or a directory on another host.",
            id="valuegate.W001",
        )
    ]
