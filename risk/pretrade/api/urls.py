"""Routes of the pre-trade check; included under ``/api/v1/`` by ``settings/urls.py``."""

from django.urls import path

from risk.pretrade.api import views

urlpatterns = [
    path("pretrade/check", views.PretradeCheckView.as_view(), name="pretrade-check"),
    path("pretrade/check-batch", views.PretradeBatchView.as_view(), name="pretrade-batch"),
]
