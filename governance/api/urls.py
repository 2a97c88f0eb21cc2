"""`/api/v1/…` endpoints, the OpenAPI schema at `/api/schema/` and its docs (served from static files)."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from governance.api.exceptions import not_found_view
from governance.api.views import initiatives, ledger, reviews, value


class IdConverter:
    """A database id: digits that fit a 64-bit integer (longer ones are simply not found)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

v1 = [
    path("initiatives/", initiatives.InitiativeListView.as_view(), name="initiatives"),
    path("initiatives/<id:initiative_id>/", initiatives.InitiativeDetailView.as_view(), name="initiative"),
    path(
        "initiatives/<id:initiative_id>/submit/",
        initiatives.InitiativeSubmitView.as_view(),
        name="initiative-submit",
    ),
    path(
        "initiatives/<id:initiative_id>/business-case/",
        initiatives.BusinessCaseView.as_view(),
        name="business-case",
    ),
    path("initiatives/<id:initiative_id>/kpis/", initiatives.KPIListView.as_view(), name="kpis"),
    path(
        "initiatives/<id:initiative_id>/kpis/<id:kpi_id>/measurements/",
        value.MeasurementListView.as_view(),
        name="measurements",
    ),
    path(
        "initiatives/<id:initiative_id>/kpis/<id:kpi_id>/experiments/",
        value.ExperimentListView.as_view(),
        name="experiments",
    ),
    path(
        "initiatives/<id:initiative_id>/kpis/<id:kpi_id>/plan/",
        value.ExperimentPlanView.as_view(),
        name="experiment-plan",
    ),
    path(
        "initiatives/<id:initiative_id>/kpis/<id:kpi_id>/source/",
        value.KPISourceView.as_view(),
        name="kpi-source",
    ),
    path(
        "initiatives/<id:initiative_id>/kpis/<id:kpi_id>/experiments/<id:experiment_id>/looks/",
        value.ExperimentLookListView.as_view(),
        name="experiment-looks",
    ),
    path(
        "initiatives/<id:initiative_id>/financial-entries/",
        value.FinancialEntryListView.as_view(),
        name="financial-entries",
    ),
    path("initiatives/<id:initiative_id>/evidence/", value.EvidenceListView.as_view(), name="evidence"),
    path("initiatives/<id:initiative_id>/checklist/", reviews.ChecklistView.as_view(), name="checklist"),
    path(
        "initiatives/<id:initiative_id>/reviews/",
        reviews.InitiativeReviewsView.as_view(),
        name="initiative-reviews",
    ),
    path("reviews/<id:review_id>/", reviews.ReviewDetailView.as_view(), name="review"),
    path("reviews/<id:review_id>/signoffs/", reviews.SignOffCreateView.as_view(), name="signoffs"),
    path("signoffs/pending/", reviews.PendingSignOffsView.as_view(), name="pending-signoffs"),
    path("ledger/", ledger.LedgerListView.as_view(), name="ledger"),
    path("ledger/head/", ledger.LedgerHeadView.as_view(), name="ledger-head"),
    path("ledger/proof/", ledger.LedgerProofView.as_view(), name="ledger-proof"),
    path("ledger/consistency/", ledger.LedgerConsistencyView.as_view(), name="ledger-consistency"),
    path("me/", ledger.MeView.as_view(), name="me"),
]

app_name = "api"
# Redoc styles itself at run time with styled-components, which writes <style> elements: its page
# alone may use inline styles (never inline scripts), and its search runs in a worker it makes
# from a blob. Its template loads nothing from other sites (no web fonts).
REDOC = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
)

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", REDOC, name="redoc"),
    re_path(r"^.*$", not_found_view),
]
