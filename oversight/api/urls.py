from django.urls import path

from oversight.api import views

urlpatterns = [
    path("reports/", views.ReportListView.as_view(), name="reports"),
    path("reports/<int:report_id>", views.ReportDetailView.as_view(), name="report"),
    path(
        "reports/<int:report_id>/files/<str:name>",
        views.ReportFileView.as_view(),
        name="report-file",
    ),
]
