"""Value data an initiative's lead or its integration feeds: measurements, experiments, money, evidence."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from governance.api.idempotency import idempotent
from governance.api.parsers import BoundedMultiPartParser
from governance.api.serializers import (
    EvidenceSerializer,
    ExperimentLookRecordedSerializer,
    ExperimentLookSerializer,
    ExperimentPlanSerializer,
    ExperimentSerializer,
    FinancialEntrySerializer,
    KPISourceSerializer,
    MeasurementBatchResultSerializer,
    MeasurementBatchSerializer,
    MeasurementSerializer,
)
from governance.api.views.base import ApiView, Pages
from governance.reviews.facts import experiment_judgements, judging_policy, kpi_definition, policy_rules
from governance.reviews.models import GateReview
from governance.value.connectors.services import kpi_source_register
from governance.value.plans import PlanInput, experiment_plan_register
from governance.value.services import (
    evidence_submit,
    experiment_look_record,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from projects.models import (
    KPI,
    Evidence,
    Experiment,
    ExperimentLook,
    ExperimentPlan,
    FinancialEntry,
    KPIMeasurement,
    KPISource,
)
from projects.vocabulary import ReviewStatus

TAG = ["value data"]
FEED = frozenset({"GET", "POST"})


@extend_schema(tags=TAG, description=_("A KPI's measurements, oldest period first."))
class MeasurementListView(ListModelMixin, ApiView):
    serializer_class = MeasurementSerializer
    pagination_class = Pages
    integration_methods = FEED

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no KPI
            return KPIMeasurement.objects.none()
        return (
            KPIMeasurement.objects.filter(kpi=self.get_kpi())
            .select_related("recorded_by", "reading")
            .order_by("period")
        )

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary=_("Record up to 10,000 measurements, all or nothing"),
        description=_(
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


def experiments_with_looks() -> QuerySet[Experiment]:
    """Experiments with their looks, oldest first: two queries however many of either."""
    return (
        Experiment.objects.select_related("recorded_by")
        .prefetch_related(Prefetch("looks", queryset=ExperimentLook.objects.order_by("looked_on")))
        .order_by("recorded_at", "id")
    )


def judging_context(kpi: KPI, experiments) -> dict:
    """The KPI's experiments judged: against the effect its target claims, by the rules of the gate
    that judges them, chosen as the initiative page chooses them (the open review's pinned policy,
    else the scale gate's current one), so both show the same verdict."""
    review = (
        GateReview.objects.select_related("policy")
        .filter(initiative_id=kpi.initiative_id, status=ReviewStatus.OPEN)
        .first()
    )
    policy = judging_policy(review)
    facts, rules = kpi_definition(kpi), policy_rules(policy)
    return {"kpi": facts, "rules": rules, "judgements": experiment_judgements(experiments, facts, rules)}


@extend_schema(
    tags=TAG,
    description=_(
        "A/B experiments on a KPI. Send the figures of the first look; ValueGate computes the verdict\n"
        "over every look, by the fixed-horizon and the always-valid test, and says which one decides."
    ),
)
class ExperimentListView(ApiView):
    queryset = Experiment.objects.none()
    serializer_class = ExperimentSerializer
    integration_methods = FEED

    @extend_schema(responses={200: ExperimentSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        kpi = self.get_kpi()
        experiments = list(experiments_with_looks().filter(kpi=kpi))
        return Response(
            ExperimentSerializer(experiments, many=True, context=judging_context(kpi, experiments)).data
        )

    @extend_schema(responses={201: ExperimentSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        kpi = self.get_kpi()
        serializer = ExperimentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = experiment_record(actor=request.user, kpi=kpi, **serializer.validated_data)
        experiment = experiments_with_looks().get(pk=experiment.pk)
        body = ExperimentSerializer(experiment, context=judging_context(kpi, [experiment])).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAG,
    description=_(
        "The looks at one experiment, oldest first. POST records a later look: the cumulative figures\n"
        "on that day, after the latest look; the answer carries the verdict over every look."
    ),
)
class ExperimentLookListView(ApiView):
    queryset = ExperimentLook.objects.none()
    serializer_class = ExperimentLookSerializer
    integration_methods = FEED

    def get_experiment(self) -> Experiment:
        """The experiment in the URL, if it is one of the KPI's; else 404."""
        kpi = self.get_kpi()
        pk = self.kwargs["experiment_id"]
        experiment = Experiment.objects.filter(kpi=kpi, pk=pk).first()
        if experiment is None:
            # Translators: %(kpi)s and %(experiment)s are ids.
            raise NotFound(
                gettext("KPI %(kpi)s has no experiment %(experiment)s.") % {"kpi": kpi.pk, "experiment": pk}
            )
        experiment.kpi = kpi
        return experiment

    @extend_schema(responses={200: ExperimentLookSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        experiment = self.get_experiment()
        looks = ExperimentLook.objects.filter(experiment=experiment).select_related("recorded_by")
        body = ExperimentLookSerializer(
            looks.order_by("looked_on"), many=True, context={"metric": experiment.metric}
        ).data
        return Response(body)

    @extend_schema(responses={201: ExperimentLookRecordedSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        experiment = self.get_experiment()
        kpi = experiment.kpi
        context = {"metric": experiment.metric}
        serializer = ExperimentLookSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        look = experiment_look_record(actor=request.user, experiment=experiment, **serializer.validated_data)
        # Both read back as stored, so that the answer shows the figures as every later GET does.
        body = {
            "look": ExperimentLook.objects.select_related("recorded_by").get(pk=look.pk),
            "experiment": experiments_with_looks().get(pk=experiment.pk),
        }
        context.update(judging_context(kpi, [body["experiment"]]))
        return Response(
            ExperimentLookRecordedSerializer(body, context=context).data, status=status.HTTP_201_CREATED
        )


@extend_schema(
    tags=TAG,
    description=_(
        "A KPI's experiment plan, registered before its experiment's data. POST registers it, or "
        "changes it: before the first look the new plan replaces the old one; after it, only with a "
        "reason, kept as a change after data arrived that the checklist and the signers' snapshots show."
    ),
)
class ExperimentPlanView(ApiView):
    queryset = ExperimentPlan.objects.none()
    serializer_class = ExperimentPlanSerializer
    # The lead's own commitment: an integration token may read it, never set it.
    integration_methods = frozenset({"GET"})

    def get_plan(self, kpi: KPI) -> ExperimentPlan:
        plan = ExperimentPlan.objects.select_related("registered_by").filter(kpi=kpi).first()
        if plan is None:
            # Translators: %(kpi)s is an id.
            raise NotFound(gettext("KPI %(kpi)s has no registered experiment plan.") % {"kpi": kpi.pk})
        return plan

    @extend_schema(responses={200: ExperimentPlanSerializer})
    def get(self, request, *args, **kwargs):
        return Response(ExperimentPlanSerializer(self.get_plan(self.get_kpi())).data)

    @extend_schema(
        summary=_("Register or change the plan"),
        responses={201: ExperimentPlanSerializer},
    )
    @idempotent
    def post(self, request, *args, **kwargs):
        kpi = self.get_kpi()
        serializer = ExperimentPlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        figures = dict(serializer.validated_data)
        reason = figures.pop("reason", "")
        experiment_plan_register(actor=request.user, kpi=kpi, plan=PlanInput(**figures), reason=reason)
        body = ExperimentPlanSerializer(self.get_plan(kpi)).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAG,
    description=_(
        "Where a KPI is measured from: a connector of the deployment and the query (or file) it reads, "
        "every hour, recording closed months with their provenance. POST registers it or changes it "
        "(a new version in the ledger)."
    ),
)
class KPISourceView(ApiView):
    queryset = KPISource.objects.none()
    serializer_class = KPISourceSerializer
    # The lead's own choice of what produces the figures: an integration token may read it only.
    integration_methods = frozenset({"GET"})

    def get_source(self, kpi: KPI) -> KPISource:
        source = KPISource.objects.select_related("registered_by").filter(kpi=kpi).first()
        if source is None:
            # Translators: %(kpi)s is an id.
            raise NotFound(gettext("KPI %(kpi)s is not measured from a source.") % {"kpi": kpi.pk})
        return source

    @extend_schema(responses={200: KPISourceSerializer})
    def get(self, request, *args, **kwargs):
        return Response(KPISourceSerializer(self.get_source(self.get_kpi())).data)

    @extend_schema(summary=_("Register or change the KPI's source"), responses={201: KPISourceSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        kpi = self.get_kpi()
        serializer = KPISourceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kpi_source_register(actor=request.user, kpi=kpi, **serializer.validated_data)
        return Response(KPISourceSerializer(self.get_source(kpi)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG, description=_("Monthly costs and realised benefits."))
class FinancialEntryListView(ApiView):
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
        return self.recorded_by_service(financial_entry_record, initiative=self.get_initiative())


@extend_schema(
    tags=TAG, description=_("Evidence files, by SHA-256. Uploads go through the same checks as the admin's.")
)
class EvidenceListView(ApiView):
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
        return self.recorded_by_service(evidence_submit, initiative=self.get_initiative())
