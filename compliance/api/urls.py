from django.urls import path

from compliance.api import views
from oversight.api import views as report_views

urlpatterns = [
    path("access/check", views.AccessCheckView.as_view(), name="access-check"),
    path("accounts/<str:account_id>", views.AccountProfileView.as_view(), name="account"),
    path("reports/", report_views.ReportListView.as_view(), name="reports"),
    path("reports/<int:report_id>", report_views.ReportDetailView.as_view(), name="report"),
    path(
        "reports/<int:report_id>/files/<str:name>",
        report_views.ReportFileView.as_view(),
        name="report-file",
    ),
]
