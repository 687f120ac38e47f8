from django.shortcuts import render

from metodist.core.models import OrganisationKind
from metodist.core.status import database_status


def start_page(request):
    """What the installation holds and where each stage of the cycle stands."""
    status = database_status()
    kinds = [(label, status["organisations"].get(value, 0)) for value, label in OrganisationKind.choices]
    return render(request, "core/start.html", {"status": status, "organisation_kinds": kinds})
