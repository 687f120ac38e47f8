"""The frame's pages: the home page of the cycle, choosing the acting role. Sign-in, sign-out and the
password change are Django's own views with our templates (see `core/urls.py`)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metodist.core.acting import set_acting
from metodist.core.context import academic_year, acting_organisation


@login_required
def home(request):
    """The cycle of the acting organisation for the chosen academic year: each stage with its state,
    what is loaded, and where to go next."""
    from metodist.collection.models import Upload, Work
    from metodist.core.models import Organisation, OrganisationKind, Teacher

    organisation = acting_organisation(request)
    year = academic_year(request)
    works = Work.objects.visible_to(request.user).filter(assessment__year=year + 1)
    counted = works.aggregate(present=Count("pk", filter=Q(absent=False)), absent=Count("pk", filter=Q(absent=True)),
                              assessments=Count("assessment", distinct=True), schools=Count("school", distinct=True))
    schools = Organisation.objects.filter(kind=OrganisationKind.SCHOOL)
    teachers = Teacher.objects.visible_to(request.user)
    if organisation is not None:
        schools = schools.filter(path__startswith=organisation.path)
    uploads = Upload.objects.visible_to(request.user).select_related("uploaded_by", "assessment")[:5]
    return render(request, "core/home.html", {
        "organisation": organisation,
        "works": counted,
        "schools": schools.count(),
        "teachers": teachers.count(),
        "uploads": uploads,
    })


@login_required
@require_POST
def acting_role(request):
    """Switch the role the user acts in; only one of his own roles can be chosen."""
    chosen = request.POST.get("role", "")
    role = next((r for r in request.roles if str(r.pk) == chosen), None)
    if role is None:
        from django.contrib import messages

        messages.error(request, _("Такой роли у вас нет."))
    else:
        set_acting(request, role)
        request.session.pop("metodist_year", None)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    return HttpResponseRedirect(target)


def start(request):
    """The address of the installation: the cycle for a signed-in user, the sign-in page otherwise."""
    if request.user.is_authenticated:
        return home(request)
    return redirect("login")



def health(request):
    """«The site answers»: for a load balancer or a monitoring probe, and the baseline of the web benchmark
    (a request through every middleware that does nothing else)."""
    return HttpResponse("ok", content_type="text/plain")
