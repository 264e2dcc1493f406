"""The risk pages, inside the console's URL namespace (``console:pretrade``...)."""

from django.urls import path

from console.risk import kill_switches, views

urlpatterns = [
    path("kill-switches/", kill_switches.kill_switch_page, name="kill-switches"),
    path("pretrade/", views.pretrade, name="pretrade"),
    path("pretrade/<int:decision_id>/", views.pretrade_detail, name="pretrade-decision"),
]
