from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "ValueGate"
admin.site.site_title = "ValueGate"
admin.site.index_title = "AI initiative governance"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("governance.api.urls")),
]
