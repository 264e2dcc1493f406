"""Routes of the markets API; included under ``/api/v1/`` by ``settings/urls.py``."""

from django.urls import path

from risk.markets.api import views
from risk.markets.api.ticks import TicksView

urlpatterns = [
    path("instruments/<str:symbol>", views.InstrumentView.as_view(), name="instrument"),
    path("market-data/ticks", TicksView.as_view(), name="market-ticks"),
    path("markets/<str:symbol>/state", views.MarketStateView.as_view(), name="market-state"),
    path("markets/<str:symbol>/events", views.MarketEventsView.as_view(), name="market-events"),
    path("markets/<str:symbol>/halt", views.HaltView.as_view(), name="market-halt"),
    path(
        "markets/<str:symbol>/resume",
        views.HaltView.as_view(resume=True),
        name="market-resume",
    ),
    path(
        "markets/<str:symbol>/corporate-actions",
        views.CorporateActionsView.as_view(),
        name="market-corporate-actions",
    ),
    path(
        "markets/<str:symbol>/corporate-actions/<int:action_id>",
        views.CorporateActionView.as_view(),
        name="market-corporate-action",
    ),
    path("kill-switch", views.KillSwitchView.as_view(), name="kill-switch"),
    path("market-sessions", views.SessionParametersListView.as_view(), name="market-sessions"),
    path(
        "market-sessions/<str:session>",
        views.SessionParametersView.as_view(),
        name="market-session",
    ),
]
