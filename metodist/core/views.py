from django.shortcuts import render


def start_page(request):
    from metodist.core.status import database_status

    return render(request, "core/start.html", {"status": database_status()})
