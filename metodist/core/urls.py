from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from metodist.core import views

urlpatterns = [
    path("", views.start, name="home"),
    path("role/", views.acting_role, name="acting_role"),
    path("login/", auth_views.LoginView.as_view(template_name="core/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(template_name="core/password_change.html"), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(template_name="core/password_change_done.html"), name="password_change_done"),
    path("language/", set_language, name="set_language"),
    path("health/", views.health, name="health"),
]
