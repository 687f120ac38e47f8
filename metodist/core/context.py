"""What every page's frame shows: who is signed in, the role he is acting in, the academic year and the
six stages of the cycle with their state. A context processor, so views do not repeat it."""

from __future__ import annotations

from metodist.core import cycle

YEAR_SESSION_KEY = "metodist_year"


def acting_organisation(request):
    """The organisation whose pages the user is looking at: his acting role's, or None for a superuser
    without roles (he sees everything)."""
    user = getattr(request, "user", None)
    role = getattr(user, "metodist_acting", None)
    return role.organisation if role is not None else None


def academic_year(request) -> int:
    """The academic year of the pages (its first calendar year): ?year= on any page chooses it for the
    session; otherwise the latest with results in the acting organisation."""
    requested = request.GET.get("year")
    if requested and requested.isdigit() and 2000 <= int(requested) <= 2100:
        request.session[YEAR_SESSION_KEY] = int(requested)
        return int(requested)
    stored = request.session.get(YEAR_SESSION_KEY)
    if isinstance(stored, int):
        return stored
    return cycle.current_year(acting_organisation(request))


def frame(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    organisation = acting_organisation(request)
    year = academic_year(request)
    years = cycle.years_with_results(organisation)
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    return {
        "frame": {
            "roles": getattr(request, "roles", []),
            "acting": getattr(user, "metodist_acting", None),
            "organisation": organisation,
            "year": year,
            "year_label": cycle.year_label(year),
            "years": [(y, cycle.year_label(y)) for y in years],
            "stages": cycle.stages(organisation, year),
        }
    }
