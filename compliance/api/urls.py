from django.urls import path

from compliance.api import views

urlpatterns = [
    path("access/check", views.AccessCheckView.as_view(), name="access-check"),
    path("accounts/<str:account_id>", views.AccountProfileView.as_view(), name="account"),
]
