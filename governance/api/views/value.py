"""Value data an initiative's lead or its integration feeds: measurements, experiments, money, evidence."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from governance.api.idempotency import idempotent
from governance.api.parsers import BoundedMultiPartParser
from governance.api.serializers import (
    EvidenceSerializer,
    ExperimentSerializer,
    FinancialEntrySerializer,
    MeasurementBatchResultSerializer,
    MeasurementBatchSerializer,
    MeasurementSerializer,
)
from governance.api.views.base import ApiView, Pages
from governance.services.portfolio import (
    evidence_submit,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from projects.models import Evidence, Experiment, FinancialEntry, KPIMeasurement

TAG = ["value data"]
FEED = frozenset({"GET", "POST"})


@extend_schema(tags=TAG)
class MeasurementListView(ListModelMixin, ApiView):
    """A KPI's measurements, oldest period first."""

    serializer_class = MeasurementSerializer
    pagination_class = Pages
    integration_methods = FEED

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no KPI
            return KPIMeasurement.objects.none()
        return (
            KPIMeasurement.objects.filter(kpi=self.get_kpi()).select_related("recorded_by").order_by("period")
        )

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Record up to 10,000 measurements, all or nothing",
        description=(
            "Either every row is stored or none is. A refused batch answers 400 with `error.rows`, "
            "mapping each bad row's index to its reason."
        ),
        request=MeasurementBatchSerializer,
        responses={201: MeasurementBatchResultSerializer},
    )
    @idempotent
    def post(self, request, *args, **kwargs):
        kpi = self.get_kpi()
        serializer = MeasurementBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["measurements"]
        measurements_record(actor=request.user, kpi=kpi, measurements=rows)
        periods = sorted(row.period for row in rows)
        body = {"kpi": kpi.pk, "recorded": len(rows), "first_period": periods[0], "last_period": periods[-1]}
        return Response(MeasurementBatchResultSerializer(body).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG)
class ExperimentListView(ApiView):
    """A/B experiments on a KPI. Send the counts; ValueGate computes lift, interval and p-value."""

    queryset = Experiment.objects.none()
    serializer_class = ExperimentSerializer
    integration_methods = FEED

    @extend_schema(responses={200: ExperimentSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        experiments = Experiment.objects.filter(kpi=self.get_kpi()).select_related("recorded_by")
        return Response(ExperimentSerializer(experiments, many=True).data)

    @extend_schema(responses={201: ExperimentSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        kpi = self.get_kpi()
        serializer = ExperimentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = experiment_record(actor=request.user, kpi=kpi, **serializer.validated_data)
        return Response(ExperimentSerializer(experiment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG)
class FinancialEntryListView(ApiView):
    """Monthly costs and realised benefits."""

    queryset = FinancialEntry.objects.none()
    serializer_class = FinancialEntrySerializer
    integration_methods = FEED

    @extend_schema(responses={200: FinancialEntrySerializer(many=True)})
    def get(self, request, *args, **kwargs):
        entries = FinancialEntry.objects.filter(initiative=self.get_initiative()).select_related(
            "recorded_by"
        )
        return Response(FinancialEntrySerializer(entries, many=True).data)

    @extend_schema(responses={201: FinancialEntrySerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        initiative = self.get_initiative()
        serializer = FinancialEntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = financial_entry_record(actor=request.user, initiative=initiative, **serializer.validated_data)
        return Response(FinancialEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG)
class EvidenceListView(ApiView):
    """Evidence files, by SHA-256. Uploads go through the same checks as the admin's."""

    queryset = Evidence.objects.none()
    serializer_class = EvidenceSerializer
    integration_methods = FEED
    parser_classes = [BoundedMultiPartParser]

    @extend_schema(responses={200: EvidenceSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        evidence = Evidence.objects.filter(initiative=self.get_initiative()).select_related("submitted_by")
        return Response(EvidenceSerializer(evidence, many=True).data)

    @extend_schema(responses={201: EvidenceSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        initiative = self.get_initiative()
        serializer = EvidenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = evidence_submit(actor=request.user, initiative=initiative, **serializer.validated_data)
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)
