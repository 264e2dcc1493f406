from django.urls import path

from . import orders_views, views

urlpatterns = [
    path("pretrade/check", views.PretradeCheckView.as_view(), name="pretrade-check"),
    path("pretrade/check-batch", views.PretradeBatchView.as_view(), name="pretrade-batch"),
    path("orders/<str:order_id>/fills", orders_views.FillView.as_view(), name="order-fills"),
    path("orders/<str:order_id>/cancel", orders_views.CancelView.as_view(), name="order-cancel"),
    path("accounts/<str:account_id>/risk", orders_views.RiskView.as_view(), name="account-risk"),
]
