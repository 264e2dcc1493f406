"""Project URLs. Everything under ``/api/`` answers in the contract's error body, including
404 for unknown paths (see ``core.errors``)."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import health
from core.errors import api_not_found

# The hot paths first: Django tries the patterns in order, and the ~35 it tried before the
# pre-trade check cost every check 16 µs (resolve() 27.6 µs -> 11.5 µs, measured in process;
# no path overlaps another, so the order changes nothing else).
api_v1 = [
    path("", include("risk.pretrade.api.urls")),
    path("", include("compliance.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("core.api.urls")),
    path("", include("custody.api.urls")),
    path("", include("risk.markets.api.urls")),
    path("", include("risk.positions.api.urls")),
    path("", include("oversight.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    re_path(r"^api/", api_not_found),
    path("", include("console.urls", namespace="console")),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
