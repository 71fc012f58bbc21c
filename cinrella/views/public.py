"""Shells and probes: staff home (today's list), liveness and readiness."""

from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from appointments.selectors import default_location
from appointments.views.staff import todays_list_context
from cinrella import health


def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; resolved per request (manifest storage).
    return redirect(static("img/favicon.svg"), permanent=True)


@login_required
def staff_home(request):
    """Today's appointments at the clinic, with check-in / complete / no-show / cancel buttons."""
    location = default_location()
    context = todays_list_context(request.user, location)
    if location is None:
        return render(request, "staff/home.html", context)
    with timezone.override(ZoneInfo(location.time_zone)):
        return render(request, "staff/home.html", context)


@require_GET
@never_cache
def healthz(request):
    """Liveness: the process answers. No database, no PHI, no auth."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    """Readiness: the database answers and every registered check (cinrella.health) passes.
    503 with each check's reason otherwise. No PHI, no auth; details of errors stay in the log."""
    report = health.run_checks()
    return JsonResponse(
        {"status": "ok" if report.ok else "unavailable", **report.results}, status=200 if report.ok else 503
    )
