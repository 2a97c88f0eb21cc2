"""Initiatives, their business case and KPIs."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from governance.api.fields import StrictSerializer
from governance.api.idempotency import idempotent
from governance.api.permissions import initiatives_for
from governance.api.serializers import BusinessCaseSerializer, InitiativeSerializer, KPISerializer
from governance.api.views.base import ApiView, Pages
from governance.reviews.initiatives import (
    business_case_record,
    initiative_create,
    initiative_submit,
    initiative_update_draft,
    kpi_define,
)
from projects.models import KPI, BusinessCase, Initiative
from projects.vocabulary import Stage

TAG = ["initiatives"]


class InitiativeFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    department = django_filters.CharFilter(lookup_expr="iexact", max_length=120)
    owner = django_filters.CharFilter(
        field_name="owner__username", max_length=150, label=_("Owner's username")
    )

    class Meta:
        model = Initiative
        fields = ["stage", "department", "owner"]


# Its schema description is StrictSerializer's (governance/api/fields.py), as it always was.
class EmptySerializer(StrictSerializer):
    pass


@extend_schema(
    tags=TAG,
    description=_("Initiatives you may see: a project lead's own, the whole portfolio for the committee."),
)
class InitiativeListView(ListModelMixin, ApiView):
    serializer_class = InitiativeSerializer
    pagination_class = Pages
    filterset_class = InitiativeFilter
    integration_methods = frozenset({"GET"})

    def get_queryset(self):
        return initiatives_for(self.request).select_related("owner", "sponsor").order_by("-created_at", "-id")

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary=_("Register a draft initiative (project leads)"), responses={201: InitiativeSerializer}
    )
    @idempotent
    def post(self, request, *args, **kwargs):
        return self.recorded_by_service(initiative_create)


@extend_schema(tags=TAG)
class InitiativeDetailView(ApiView):
    serializer_class = InitiativeSerializer
    integration_methods = frozenset({"GET"})

    def get(self, request, *args, **kwargs):
        return Response(InitiativeSerializer(self.get_initiative()).data)

    @extend_schema(summary=_("Edit your draft's description"))
    @idempotent
    def patch(self, request, *args, **kwargs):
        initiative = self.get_initiative()
        serializer = InitiativeSerializer(initiative, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        initiative = initiative_update_draft(
            actor=request.user, initiative=initiative, **serializer.validated_data
        )
        initiative = initiatives_for(request).select_related("owner", "sponsor").get(pk=initiative.pk)
        return Response(InitiativeSerializer(initiative).data)


@extend_schema(
    tags=TAG,
    description=_(
        "Submit your draft: it becomes a proposal if its business case and primary KPI are complete."
    ),
)
class InitiativeSubmitView(ApiView):
    serializer_class = EmptySerializer

    @extend_schema(request=EmptySerializer, responses={200: InitiativeSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        initiative = initiative_submit(actor=request.user, initiative=self.get_initiative())
        return Response(InitiativeSerializer(initiative).data)


@extend_schema(tags=TAG)
class BusinessCaseView(ApiView):
    serializer_class = BusinessCaseSerializer

    def get(self, request, *args, **kwargs):
        case = BusinessCase.objects.filter(initiative=self.get_initiative()).first()
        if case is None:
            raise NotFound(gettext("No business case is recorded for this initiative yet."))
        return Response(BusinessCaseSerializer(case).data)

    @extend_schema(summary=_("Record or replace your draft's business case"))
    @idempotent
    def put(self, request, *args, **kwargs):
        return self.recorded_by_service(
            business_case_record, answer_status=status.HTTP_200_OK, initiative=self.get_initiative()
        )


@extend_schema(tags=TAG)
class KPIListView(ApiView):
    queryset = KPI.objects.none()
    serializer_class = KPISerializer
    integration_methods = frozenset({"GET", "POST"})

    @extend_schema(responses={200: KPISerializer(many=True)})
    def get(self, request, *args, **kwargs):
        kpis = KPI.objects.filter(initiative=self.get_initiative())
        return Response(KPISerializer(kpis, many=True).data)

    @extend_schema(summary=_("Define a KPI of your draft"), responses={201: KPISerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        return self.recorded_by_service(kpi_define, initiative=self.get_initiative())
