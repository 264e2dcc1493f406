"""Routes of the order-event API (fills, cancels, the account's risk view); included under
``/api/v1/`` by ``settings/urls.py``."""

from django.urls import path

from risk.positions.api import views

urlpatterns = [
    path("orders/<str:order_id>/fills", views.FillView.as_view(), name="order-fills"),
    path("orders/<str:order_id>/cancel", views.CancelView.as_view(), name="order-cancel"),
    path("accounts/<str:account_id>/risk", views.RiskView.as_view(), name="account-risk"),
]
