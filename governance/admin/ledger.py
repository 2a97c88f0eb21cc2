"""The decision ledger in the admin: read-only for everyone."""

from __future__ import annotations

from django.contrib import admin

from governance.admin.base import ReadOnlyAdmin
from governance.models import LedgerEvent


@admin.register(LedgerEvent)
class LedgerEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "recorded_at", "actor_name", "action", "initiative", "hash"]
    list_filter = ["action"]
    list_select_related = ["initiative"]
    search_fields = ["actor_name", "action"]
