from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("metodist.core.urls")),
    path("collection/", include("metodist.collection.urls")),
    path("reference/", include("metodist.reference.urls")),
    path("analysis/", include("metodist.analysis.urls")),
    path("practices/", include("metodist.practices.urls")),
    path("planning/", include("metodist.planning.urls")),
    path("assistance/", include("metodist.assistance.urls")),
    path("monitoring/", include("metodist.monitoring.urls")),
    path("api/", include("metodist.api_urls")),
    path("admin/", admin.site.urls),
]
