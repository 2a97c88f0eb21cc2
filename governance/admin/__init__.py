"""Admin registrations, one module per area."""

from governance.admin import ledger, portfolio  # noqa: F401  (registers the model admins)
