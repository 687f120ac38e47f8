"""Stage 5 pages: courses, teachers' requests, development routes, mentoring and events."""

from django.urls import path

from metodist.assistance import views

app_name = "assistance"
urlpatterns = [
    path("", views.index, name="index"),
    path("courses/", views.course_list, name="courses"),
    path("courses/new/", views.course_form, name="course_new"),
    path("courses/<int:pk>/", views.course_page, name="course"),
    path("courses/<int:pk>/edit/", views.course_form, name="course_edit"),
    path("courses/<int:pk>/modules/new/", views.module_form, name="module_add"),
    path("courses/<int:pk>/modules/<int:module>/", views.module_form, name="module_edit"),
    path("courses/<int:pk>/enrol/", views.enrol, name="enrol"),
    path("courses/<int:pk>/enrolments/<int:enrolment>/", views.enrolment_status, name="enrolment_status"),
    path("courses/<int:pk>/surveys/", views.course_surveys, name="course_surveys"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_page, name="request"),
    path("routes/", views.route_list, name="routes"),
    path("routes/propose/", views.route_propose, name="route_propose"),
    path("routes/<int:pk>/", views.route_page, name="route"),
    path("routes/<int:pk>/route.docx", views.route_docx, name="route_docx"),
    path("routes/<int:pk>/items/new/", views.route_item_form, name="route_item_add"),
    path("routes/<int:pk>/items/<int:item>/", views.route_item_form, name="route_item_edit"),
    path("routes/<int:pk>/items/<int:item>/status/", views.route_item_status, name="route_item_status"),
    path("routes/<int:pk>/items/<int:item>/mentorship/", views.route_item_mentorship, name="route_item_mentorship"),
    path("routes/<int:pk>/<slug:step>/", views.route_transition, name="route_transition"),
    path("mentoring/", views.mentoring, name="mentoring"),
    path("mentoring/new/", views.mentorship_form, name="mentorship_new"),
    path("mentoring/<int:pk>/", views.mentorship_page, name="mentorship"),
    path("mentoring/<int:pk>/edit/", views.mentorship_form, name="mentorship_edit"),
    path("mentor-schools/new/", views.pairing_form, name="pairing_new"),
    path("mentor-schools/<int:pk>/", views.pairing_page, name="pairing"),
    path("mentor-schools/<int:pk>/edit/", views.pairing_form, name="pairing_edit"),
    path("events/", views.event_list, name="events"),
    path("events/new/", views.event_form, name="event_new"),
    path("events/<int:pk>/", views.event_page, name="event"),
    path("events/<int:pk>/edit/", views.event_form, name="event_edit"),
    path("events/<int:pk>/attendance/", views.event_attendance, name="event_attendance"),
]
