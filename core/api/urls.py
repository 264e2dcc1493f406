from django.urls import path

from core.api import views

urlpatterns = [
    path("auth/whoami", views.WhoAmIView.as_view(), name="whoami"),
    path("signing/public-key", views.SigningKeyView.as_view(), name="signing-public-key"),
]
