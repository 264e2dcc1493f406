from django.urls import path

from compliance.api import screening, views

urlpatterns = [
    path("access/check", views.AccessCheckView.as_view(), name="access-check"),
    path("accounts/<str:account_id>", views.AccountProfileView.as_view(), name="account"),
    path("screening/check", screening.ScreeningCheckView.as_view(), name="screening-check"),
    path("screening/lists", screening.ScreeningListsView.as_view(), name="screening-lists"),
]
