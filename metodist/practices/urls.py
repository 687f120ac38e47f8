"""Stage 3 pages: the practice library, communities and their sessions, matching, mentor schools."""

from django.urls import path

from metodist.practices import views

app_name = "practices"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.practice_form, name="practice_new"),
    path("<int:pk>/", views.practice_page, name="practice"),
    path("<int:pk>/edit/", views.practice_form, name="practice_edit"),
    path("<int:pk>/publish/", views.practice_publish, name="practice_publish"),
    path("communities/", views.communities, name="communities"),
    path("communities/<slug:kind>/<int:pk>/", views.community_page, name="community"),
    path("communities/<slug:kind>/<int:pk>/sessions/new/", views.session_form, name="session_new"),
    path("communities/<slug:kind>/<int:pk>/sessions/<int:session>/", views.session_form, name="session_edit"),
    path("sessions/<int:pk>/", views.session_page, name="session"),
    path("match/<int:field>/", views.match, name="match"),
    path("mentor-schools/", views.mentors, name="mentors"),
]
