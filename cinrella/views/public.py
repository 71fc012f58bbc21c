"""Public endpoints of the platform: the favicon redirect, liveness and readiness probes."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cinrella import health


def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; resolved per request (manifest storage).
    return redirect(static("img/favicon.svg"), permanent=True)


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
