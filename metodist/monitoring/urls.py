"""Stage 6 pages (`views`)."""

from metodist.monitoring import views

app_name = "monitoring"
urlpatterns = [*views.urlpatterns]
