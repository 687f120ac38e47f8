"""The REST API under /api/: every app's `api.py` on one router, the OpenAPI schema (`schema/`), its
Swagger UI (`docs/`, served from this installation, no CDN) and `token/` to obtain a token for an
integration with a user name and password (throttled like the sign-in)."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import AnonRateThrottle

from metodist.analysis.api import (
    DeficitProfileViewSet,
    ObjectivityViewSet,
    ProblemFieldViewSet,
    ResultsView,
    RunViewSet,
    SchoolStatusViewSet,
)
from metodist.assistance.api import (
    AttendanceViewSet,
    CourseViewSet,
    EnrolmentViewSet,
    EventViewSet,
    MentorSchoolViewSet,
    MentorshipViewSet,
    RequestViewSet,
    RouteViewSet,
)
from metodist.collection.api import UploadViewSet
from metodist.core.api import OrganisationViewSet, TeacherViewSet
from metodist.monitoring.api import CycleViewSet, EffectViewSet, ObservationViewSet, TrackViewSet
from metodist.planning.api import RecommendationViewSet, RoadmapViewSet
from metodist.practices.api import PracticeViewSet, SessionViewSet
from metodist.reference.api import AssessmentViewSet, ContentElementViewSet, SkillViewSet


class TokenThrottle(AnonRateThrottle):
    """Guesses of passwords through `token/`: a few attempts a minute from one address, like the sign-in's
    lock-out. REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"] overrides the rate."""

    scope = "token"

    def get_rate(self):
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or "5/min"


class SwaggerDocs(SpectacularSwaggerView):
    """Swagger UI from this installation's static files (drf-spectacular-sidecar), never from a CDN: the
    installation may have no internet, and the pages load nothing from outside."""

    @staticmethod
    def _swagger_ui_resource(filename):
        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon():
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")


class ObtainToken(ObtainAuthToken):
    throttle_classes = [TokenThrottle]


router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("teachers", TeacherViewSet, basename="teacher")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("content-elements", ContentElementViewSet, basename="content-element")
router.register("skills", SkillViewSet, basename="skill")
router.register("uploads", UploadViewSet, basename="upload")
router.register("runs", RunViewSet, basename="run")
router.register("problem-fields", ProblemFieldViewSet, basename="problem-field")
router.register("school-statuses", SchoolStatusViewSet, basename="school-status")
router.register("objectivity", ObjectivityViewSet, basename="objectivity")
router.register("deficit-profiles", DeficitProfileViewSet, basename="deficit-profile")
router.register("practices", PracticeViewSet, basename="practice")
router.register("community-sessions", SessionViewSet, basename="community-session")
router.register("roadmaps", RoadmapViewSet, basename="roadmap")
router.register("recommendations", RecommendationViewSet, basename="recommendation")
router.register("courses", CourseViewSet, basename="course")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("assistance-requests", RequestViewSet, basename="assistance-request")
router.register("development-routes", RouteViewSet, basename="development-route")
router.register("mentorships", MentorshipViewSet, basename="mentorship")
router.register("mentor-schools", MentorSchoolViewSet, basename="mentor-school")
router.register("events", EventViewSet, basename="event")
router.register("event-attendance", AttendanceViewSet, basename="event-attendance")
router.register("indicator-tracks", TrackViewSet, basename="indicator-track")
router.register("help-effects", EffectViewSet, basename="help-effect")
router.register("lesson-observations", ObservationViewSet, basename="lesson-observation")
router.register("cycles", CycleViewSet, basename="cycle")

app_name = "api"
urlpatterns = [
    path("results/", ResultsView.as_view(), name="results"),
    path("token/", ObtainToken.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerDocs.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
