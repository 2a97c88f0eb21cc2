"""Admin registrations, one module per area."""

from django.contrib import admin

from governance.workspace.admin import background, ledger, members, policies, portfolio, reviews  # noqa: F401  (registers the model admins)

# The index page opens with the workspace: the sign-off queue and the portfolio dashboard.
admin.site.index_template = "governance/admin/index.html"
