"""The custody pages, inside the console's URL namespace (``console:custody``...)."""

from django.urls import path

from console.custody import breaks, views

urlpatterns = [
    path("custody/", views.custody, name="custody"),
    path("custody/breaks/<int:break_id>/", breaks.break_detail, name="reconciliation-break"),
    path(
        "custody/breaks/<int:break_id>/resolve",
        breaks.resolve,
        name="reconciliation-break-resolve",
    ),
]
