"""The managers' "Needs attention" page (issue 24 point 6): read-only."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from cinrella.clinic_time import clinic_time_zone
from operations import selectors
from privacy.access import Action, can
from privacy.policy import Category


@login_required
def attention(request):
    # Operational data (statuses, hosts, job outcomes) is technical data: managers read it (§3).
    if not can(request.user, Action.READ, Category.TECHNICAL):
        raise PermissionDenied
    now = timezone.now()
    show_payments = can(request.user, Action.READ, Category.PAYMENT)
    context = {
        "readiness": selectors.readiness(),
        "set_aside": selectors.messages_set_aside(),
        "stuck": selectors.messages_stuck(now),
        "failed_texts": selectors.messages_failed(now),
        "show_payments": show_payments,
        "failed_payments": selectors.payments_failed(now) if show_payments else None,
        "failed_refunds": selectors.refunds_failed(now) if show_payments else None,
        "failed_tasks": selectors.tasks_failed(now),
        "jobs": selectors.periodic_jobs(),
        "processes": selectors.processes(),
        "now": now,
    }
    with clinic_time_zone():
        return render(request, "operations/attention.html", context)
