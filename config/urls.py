from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from config.health import health
from governance.workspace.views.evidence import download as evidence_download
from governance.workspace.views.preferences import choose_language, my_preferences

admin.site.site_header = "ValueGate"
admin.site.site_title = "ValueGate"
admin.site.index_title = _("AI initiative governance")
# The admin is the whole site: no "View site" link to a page that would only lead back.
admin.site.site_url = None


def favicon(request):
    """For browsers that ask for /favicon.ico whatever the page names."""
    return HttpResponsePermanentRedirect(static("governance/favicon.svg"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("favicon.ico", favicon),
    path("health/", health, name="health"),
    # Evidence files are never served from MEDIA_URL: only through this permission-checked view.
    path("evidence/<int:pk>/download/", admin.site.admin_view(evidence_download), name="evidence-download"),
    path("preferences/", admin.site.admin_view(my_preferences), name="my-preferences"),
    # Open to everyone, the sign-in page included: it only sets the language of the next pages.
    path("preferences/language/", choose_language, name="choose-language"),
    path("admin/", admin.site.urls),
    path("api/", include("governance.api.urls")),
]

# A refusal or a missing page outside the API is a page in the admin's look saying why and where to
# go (templates 403.html and 404.html of the workspace). A defect under /api/ answers in the API's
# error format; elsewhere with the workspace's 500.html.
handler500 = "governance.api.exceptions.server_error"
