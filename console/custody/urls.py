"""The custody page, inside the console's URL namespace (``console:custody``)."""

from django.urls import path

from console.custody import views

urlpatterns = [
    path("custody/", views.custody, name="custody"),
]
