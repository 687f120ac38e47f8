"""Stage 4 pages: roadmaps (`views`) and recommendations."""

from metodist.planning import views

app_name = "planning"
urlpatterns = [*views.urlpatterns]
