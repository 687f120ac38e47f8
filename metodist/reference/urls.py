"""Reference data pages: assessments with their tasks, content elements, skills and grade scales."""

from metodist.reference import views

app_name = "reference"
urlpatterns = [*views.urlpatterns]
