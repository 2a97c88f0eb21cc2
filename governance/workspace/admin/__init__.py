"""Admin registrations, one module per area."""

from django.contrib import admin

from governance.workspace.admin import (  # noqa: F401  (registers the model admins)
    background,
    ledger,
    members,
    notifications,  # noqa: F401  (registers the model admins)
    policies,
    portfolio,
    reviews,
)

# The index page opens with the workspace: the sign-off queue and the portfolio dashboard.
admin.site.index_template = "governance/admin/index.html"

_index = admin.site.index


def _index_with_inbox(request, extra_context=None):
    """The index shows the person's own notifications (in-app), with the unread count."""
    from governance.notifications.inbox import inbox_of

    return _index(request, {**(extra_context or {}), "inbox": inbox_of(request.user)})


admin.site.index = _index_with_inbox  # type: ignore[method-assign]
