"""A URLconf for tests of the error handling: the project's URLs plus probe views that fail
in each way an API view can."""

from django.http import HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.api.serializers import StrictSerializer
from core.errors import BusinessRuleViolation


class OrderProbe(StrictSerializer):
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8)
    side = serializers.ChoiceField(choices=["buy", "sell"])


class EchoView(APIView):
    required_scope = "operator"

    def post(self, request):
        body = OrderProbe(data=request.data)
        body.is_valid(raise_exception=True)
        return Response({"quantity": str(body.validated_data["quantity"])})


class ExplodingView(APIView):
    required_scope = None

    def get(self, request):
        raise RuntimeError("boom")


class RuleView(APIView):
    required_scope = None

    def get(self, request):
        raise BusinessRuleViolation("not enough", code="INSUFFICIENT_FUNDS")


class AlwaysThrottle(BaseThrottle):
    def allow_request(self, request, view):
        return False

    def wait(self):
        return 7


class ThrottledView(APIView):
    required_scope = None
    throttle_classes = [AlwaysThrottle]

    def get(self, request):
        return Response({})


def plain_exploding_view(request):
    raise RuntimeError("boom in a plain view")


def plain_ok_view(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/test/echo", EchoView.as_view()),
    path("api/v1/test/explode", ExplodingView.as_view()),
    path("api/v1/test/rule", RuleView.as_view()),
    path("api/v1/test/throttled", ThrottledView.as_view()),
    path("api/v1/test/plain-explode", plain_exploding_view),
    path("", include("settings.urls")),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
