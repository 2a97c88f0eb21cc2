from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from config.health import health
from governance.workspace.views.evidence import download as evidence_download

admin.site.site_header = "ValueGate"
admin.site.site_title = "ValueGate"
admin.site.index_title = "AI initiative governance"

urlpatterns = [
    path("health/", health, name="health"),
    # Evidence files are never served from MEDIA_URL: only through this permission-checked view.
    path("evidence/<int:pk>/download/", admin.site.admin_view(evidence_download), name="evidence-download"),
    path("admin/", admin.site.urls),
    path("api/", include("governance.api.urls")),
]

# A defect under /api/ answers in the API's error format; elsewhere, Django's page.
handler500 = "governance.api.exceptions.server_error"
