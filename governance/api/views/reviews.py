"""Gates: the checklist ahead, review requests, the committee's queue and its sign-offs."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from governance.access.matrix import principal
from governance.api.exceptions import requirement_lines
from governance.api.idempotency import idempotent
from governance.api.permissions import initiatives_for
from governance.api.serializers import (
    ChecklistSerializer,
    PendingSignOffSerializer,
    ReviewRequestSerializer,
    ReviewSerializer,
    SignOffRecordedSerializer,
    SignOffSerializer,
)
from governance.api.views.base import ApiView
from governance.reviews.facts import next_gate_checklist, policy_rules
from governance.reviews.models import Condition, GateReview, SignOff
from governance.reviews.queue import functions_signed_for
from governance.reviews.services import review_open
from governance.reviews.signoffs import ConditionInput, signoff_receipt, signoff_record
from governance.rules.gates import required_functions
from projects.vocabulary import ReviewStatus

TAG = ["gates and reviews"]


def reviews_with_signoffs():
    signoffs = SignOff.objects.select_related("function", "reviewer").prefetch_related(
        Prefetch("conditions", queryset=Condition.objects.select_related("owner"))
    )
    return GateReview.objects.select_related("initiative", "policy", "requested_by").prefetch_related(
        Prefetch("signoffs", queryset=signoffs, to_attr="api_signoffs")
    )


@extend_schema(
    tags=TAG,
    description=_("The checklist of the gate the initiative faces next (its open review's, if one is open)."),
)
class ChecklistView(ApiView):
    serializer_class = ChecklistSerializer
    integration_methods = frozenset({"GET"})

    def get(self, request, *args, **kwargs):
        initiative = self.get_initiative()
        evaluation = next_gate_checklist(initiative.pk, now=timezone.now())
        review = (
            GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN)
            .values_list("pk", flat=True)
            .first()
        )
        body = {
            "initiative": initiative.pk,
            "stage": initiative.stage,
            "gate": evaluation.gate if evaluation else None,
            "policy_version": evaluation.policy_version if evaluation else None,
            "review": review,
            "passed": bool(evaluation and evaluation.passed),
            "requirements": requirement_lines(evaluation.requirements) if evaluation else [],
        }
        return Response(ChecklistSerializer(body).data)


@extend_schema(
    tags=TAG,
    description=_("The initiative's gate reviews, newest first; POST requests the review of the next gate."),
)
class InitiativeReviewsView(ApiView):
    queryset = GateReview.objects.none()
    serializer_class = ReviewSerializer

    @extend_schema(responses={200: ReviewSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        reviews = reviews_with_signoffs().filter(initiative=self.get_initiative())
        return Response(ReviewSerializer(reviews, many=True).data)

    @extend_schema(
        summary=_("Request a gate review (the initiative's lead or the chair)"),
        request=ReviewRequestSerializer,
        responses={201: ReviewSerializer},
    )
    @idempotent
    def post(self, request, *args, **kwargs):
        initiative = self.get_initiative()
        serializer = ReviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = review_open(
            actor=request.user, initiative=initiative, gate=serializer.validated_data.get("gate")
        )
        return Response(ReviewSerializer(reviews_with_signoffs().get(pk=review.pk)).data, status=201)


def visible_review(request, review_id: int) -> GateReview:
    review = reviews_with_signoffs().filter(pk=review_id, initiative__in=initiatives_for(request)).first()
    if review is None:
        # Translators: %(review)s is an id.
        raise NotFound(gettext("No review %(review)s is visible to you.") % {"review": review_id})
    return review


@extend_schema(tags=TAG)
class ReviewDetailView(ApiView):
    serializer_class = ReviewSerializer

    def get(self, request, *args, **kwargs):
        return Response(ReviewSerializer(visible_review(request, self.kwargs["review_id"])).data)


@extend_schema(
    tags=TAG,
    description=_("Record your sign-off for one committee function, through the same service as the admin."),
)
class SignOffCreateView(ApiView):
    serializer_class = SignOffSerializer

    @extend_schema(request=SignOffSerializer, responses={201: SignOffRecordedSerializer})
    @idempotent
    def post(self, request, *args, **kwargs):
        review = visible_review(request, self.kwargs["review_id"])
        serializer = SignOffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signoff = signoff_record(
            actor=request.user,
            review=review,
            function=data["function"]["code"],
            decision=data["decision"],
            rationale=data["rationale"],
            conditions=[
                ConditionInput(
                    text=c["text"], due_on=c["due_on"], owner_id=c["owner"].pk if c["owner"] else None
                )
                for c in data["conditions"]
            ],
        )
        receipt = signoff_receipt(signoff)
        review = reviews_with_signoffs().get(pk=review.pk)
        signoff = next(s for s in review.api_signoffs if s.pk == signoff.pk)
        body = {
            "signoff": signoff,
            "review": review,
            "initiative_stage": review.initiative.stage,
            "receipt": receipt,
        }
        return Response(SignOffRecordedSerializer(body).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAG,
    description=_(
        "Open reviews that ask for one of your committee functions and that you have not signed, "
        "oldest first.\n\nReviews you may not sign (you lead, sponsor or requested them) are left out."
    ),
)
class PendingSignOffsView(ApiView):
    queryset = GateReview.objects.none()
    serializer_class = PendingSignOffSerializer

    @extend_schema(responses={200: PendingSignOffSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        user = request.user
        mine = principal(user).functions
        if not mine:
            return Response([])
        reviews = (
            GateReview.objects.filter(status=ReviewStatus.OPEN)
            .exclude(
                pk__in=SignOff.objects.filter(reviewer=user, superseded_at__isnull=True).values("review_id")
            )
            .exclude(Q(initiative__owner=user) | Q(initiative__sponsor=user) | Q(requested_by=user))
            .select_related("initiative", "policy")
            .order_by("opened_at", "id")
        )
        signed_for = functions_signed_for(user)
        pending = []
        for review in reviews:
            asked = required_functions(policy_rules(review.policy), review.initiative.risk_tier)
            functions = [f for f in asked if f in mine and signed_for.get(review.pk, f) == f]
            if functions:
                pending.append(
                    {
                        "review": review.pk,
                        "gate": review.gate,
                        "opened_at": review.opened_at,
                        "initiative": review.initiative,
                        "functions": functions,
                    }
                )
        return Response(PendingSignOffSerializer(pending, many=True).data)
