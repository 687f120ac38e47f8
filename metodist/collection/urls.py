"""Stage 1 pages: uploads (`views`), teacher data (`teacher_views`)."""

from metodist.collection import teacher_views, views

app_name = "collection"
urlpatterns = [*views.urlpatterns, *teacher_views.urlpatterns]
