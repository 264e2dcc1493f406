"""Markets endpoints: instruments, market state, halts, kill switches, corporate actions and
session parameters (API.md, "Reference data" and "Market data and market state"). Thin:
parse, call one service or the controller, render. The ticks feed is in ``ticks.py``."""

from __future__ import annotations

from contextlib import contextmanager

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clock
from core.errors import NotFound, ServiceUnavailable
from core.policy import SnapshotUnavailable
from core.redis_client import REDIS_ERRORS
from risk.markets import halts, kill_switches, selectors, services, snapshot
from risk.markets.api.serializers import (
    CorporateActionSerializer,
    InstrumentSerializer,
    KillSwitchSerializer,
    MarketEventSerializer,
    MarketStateSerializer,
    ReasonSerializer,
    SessionParametersSerializer,
    check_symbol,
)
from risk.markets.controller import UnknownInstrument
from risk.markets.live import live_controller
from risk.markets.store import MarketContention
from risk.models import CorporateActionHalt, SessionParameter

UNAVAILABLE = (*REDIS_ERRORS, SnapshotUnavailable, MarketContention)


@contextmanager
def market_store():
    """Redis is where market state lives: without it we answer 503, never a guess."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise ServiceUnavailable(f"market state unavailable: {exc}") from None
    except UnknownInstrument as exc:
        raise NotFound(f"no instrument {exc.args[0]}") from None


def market_state(symbol: str) -> dict:
    with market_store():
        snapshot.verified()  # read-your-writes: as new as every acknowledged change
        return live_controller().view(symbol, clock.now()).to_contract()


def _instrument_body(row) -> dict:
    body = InstrumentSerializer(row).data
    try:
        body["state"] = market_state(row.symbol)
    except ServiceUnavailable:
        body["state"] = None
    return body


class InstrumentView(APIView):
    required_scope = "reference"

    @extend_schema(
        summary="An instrument, with its live market state", responses=InstrumentSerializer
    )
    def get(self, request, symbol: str):
        row = selectors.instrument(check_symbol(symbol))
        if row is None:
            raise NotFound(f"no instrument {symbol}")
        return Response(_instrument_body(row))

    @extend_schema(
        summary="Create or replace an instrument",
        request=InstrumentSerializer,
        responses={
            200: InstrumentSerializer,
            201: InstrumentSerializer,
            400: OpenApiResponse(description="field errors"),
        },
    )
    def put(self, request, symbol: str):
        check_symbol(symbol)
        incoming = InstrumentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row, created = services.put_instrument(
            symbol=symbol, fields=incoming.validated_data, actor=request.user.actor
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(_instrument_body(row), status=code)


class MarketStateView(APIView):
    required_scope = None

    @extend_schema(
        summary="A market's state, exact at this instant", responses=MarketStateSerializer
    )
    def get(self, request, symbol: str):
        return Response(market_state(check_symbol(symbol)))


class MarketEventsView(APIView):
    required_scope = None

    @extend_schema(
        summary="A market's recent transitions, newest first",
        responses=MarketEventSerializer(many=True),
    )
    def get(self, request, symbol: str):
        events = selectors.market_events(check_symbol(symbol))
        return Response(MarketEventSerializer(events, many=True).data)


class HaltView(APIView):
    required_scope = "operator"
    resume = False

    @extend_schema(request=ReasonSerializer, responses=MarketStateSerializer)
    def post(self, request, symbol: str):
        check_symbol(symbol)
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        action = halts.resume_market if self.resume else halts.halt_market
        with market_store():
            update = action(
                symbol=symbol, reason=incoming.validated_data["reason"], actor=request.user.actor
            )
        return Response(update.view.to_contract())


class KillSwitchView(APIView):
    required_scope = "operator"

    @extend_schema(summary="Engaged kill switches", responses=KillSwitchSerializer(many=True))
    def get(self, request):
        return Response(KillSwitchSerializer(selectors.engaged_kill_switches(), many=True).data)

    @extend_schema(
        summary="Engage or release a kill switch (global, account or instrument)",
        request=KillSwitchSerializer,
        responses=KillSwitchSerializer,
    )
    def post(self, request):
        incoming = KillSwitchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        with market_store():
            switch, _ = kill_switches.set_kill_switch(
                scope=data["scope"],
                target=data["target"],
                engaged=data["engaged"],
                reason=data["reason"],
                actor=request.user.actor,
            )
        return Response(KillSwitchSerializer(switch).data)


class CorporateActionsView(APIView):
    required_scope = "operator"

    @extend_schema(
        summary="Scheduled corporate-action halts of an instrument",
        responses=CorporateActionSerializer(many=True),
    )
    def get(self, request, symbol: str):
        rows = CorporateActionHalt.objects.filter(symbol=check_symbol(symbol))
        return Response(CorporateActionSerializer(rows, many=True).data)

    @extend_schema(
        summary="Schedule a halt around a split, dividend or earnings release",
        request=CorporateActionSerializer,
        responses={201: CorporateActionSerializer},
    )
    def post(self, request, symbol: str):
        check_symbol(symbol)
        incoming = CorporateActionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        with market_store():
            action = halts.schedule_corporate_action(
                symbol=symbol, actor=request.user.actor, **incoming.validated_data
            )
        return Response(CorporateActionSerializer(action).data, status=status.HTTP_201_CREATED)


class CorporateActionView(APIView):
    required_scope = "operator"

    @extend_schema(
        summary="Cancel a scheduled corporate-action halt", responses=CorporateActionSerializer
    )
    def delete(self, request, symbol: str, action_id: int):
        with market_store():
            action = halts.cancel_corporate_action(
                symbol=check_symbol(symbol), action_id=action_id, actor=request.user.actor
            )
        return Response(CorporateActionSerializer(action).data)


class SessionParametersListView(APIView):
    required_scope = "reference"

    @extend_schema(
        summary="Per-session parameters (band multiplier, leverage cap, position limit)",
        responses=SessionParametersSerializer(many=True),
    )
    def get(self, request):
        rows = SessionParameter.objects.all()
        return Response(SessionParametersSerializer(rows, many=True).data)


class SessionParametersView(APIView):
    required_scope = "reference"

    @extend_schema(
        summary="Change one session's parameters",
        request=SessionParametersSerializer,
        responses=SessionParametersSerializer,
    )
    def put(self, request, session: str):
        incoming = SessionParametersSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = services.set_session_parameters(
            session=session, values=incoming.validated_data, actor=request.user.actor
        )
        return Response(SessionParametersSerializer(row).data)
