"""Links in messages: the admin page where the recipient acts, absolute (VALUEGATE_BASE_URL)."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def absolute(path: str) -> str:
    return settings.VALUEGATE_BASE_URL.rstrip("/") + path


def admin_link(obj) -> str:
    """The admin change page of `obj` (a review, an initiative, a condition), or the admin index."""
    if obj is None:
        return absolute(reverse("admin:index"))
    opts = obj._meta
    try:
        return absolute(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    except NoReverseMatch:
        return absolute(reverse("admin:index"))


def admin_page(name: str, *args) -> str:
    """An admin page by URL name, e.g. admin_page("governance_ledgerevent_changelist")."""
    return absolute(reverse(f"admin:{name}", args=args))
