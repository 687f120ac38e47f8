"""Stage 2 pages: dashboards (`views`), reports (`report_views`)."""

from metodist.analysis import report_views, views

app_name = "analysis"
urlpatterns = [*views.urlpatterns, *report_views.urlpatterns]
