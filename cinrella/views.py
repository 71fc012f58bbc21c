"""Shells and probes: staff home, portal home, liveness and readiness."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; resolved per request (manifest storage).
    return redirect(static("img/favicon.svg"), permanent=True)


@login_required
def staff_home(request):
    return render(request, "staff/home.html")


def portal_home(request):
    return render(request, "portal/home.html")


@require_GET
@never_cache
def healthz(request):
    """Liveness: the process answers. No database, no PHI, no auth."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    """Readiness: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 — any failure means "not ready"; details stay in server logs
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
