"""Staff calendar: day view (per provider or per room), week view per provider, today's list with
status buttons (htmx), create and reschedule forms. Shows patient name and service only — never
health data. Each page runs a fixed number of queries whatever the number of appointments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from appointments import calendar_grid, labels, portal_booking, selectors, services
from appointments.forms import StaffAppointmentForm, StaffRescheduleForm
from appointments.models import Appointment, BookingRequest, Location, Provider, Room
from cinrella.roles import Role, has_role
from consents.selectors import missing_consents
from privacy.access import Capability, may

SCHEDULE_ROLES = (Role.FRONT_DESK, Role.PROVIDER, Role.MANAGER)


def may_schedule(user) -> bool:
    return user.is_superuser or has_role(user, *SCHEDULE_ROLES)


def _require_schedule_role(request):
    if not may_schedule(request.user):
        raise PermissionDenied


def _location(request) -> Location:
    raw = request.GET.get("location", "")
    if raw.isdigit():
        return get_object_or_404(Location, pk=int(raw))
    location = selectors.default_location()
    if location is None:
        raise Http404("No location is set up yet.")
    return location


def _day(request, tz: ZoneInfo) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.now().astimezone(tz).date()


def _render_local(request, template, context, location, status=200):
    with timezone.override(ZoneInfo(location.time_zone)):
        return render(request, template, context, status=status)


def todays_list_context(user, location: Location | None) -> dict:
    """What the staff home shows: today's appointments at the location (1 query)."""
    if location is None or not may_schedule(user):
        return {"today_location": location, "today_appointments": None}
    tz = ZoneInfo(location.time_zone)
    today = timezone.now().astimezone(tz).date()
    starts, ends = selectors.local_day_bounds(today, today, tz)
    rows = list(selectors.appointments_between(location=location, starts=starts, ends=ends))
    context = {"today_location": location, "today": today, "today_appointments": rows, **_payments_link(user)}
    # Online bookings that matched an existing record without proof (issue 17): confirm who it is.
    context["bookings_to_confirm"] = list(portal_booking.bookings_to_confirm(location=location)[:20])
    if not rows:
        # An empty Today (a Sunday, a quiet day) points to the next day with visits.
        upcoming = selectors.next_appointment_start(location=location, after=ends)
        context["next_day_with_visits"] = upcoming.astimezone(tz).date() if upcoming else None
    return context


@login_required
@require_POST
def confirm_booking_identity(request, pk: int):
    """The front desk checked with the patient, on the contact on file, that the booking is hers."""
    _require_schedule_role(request)
    booking = get_object_or_404(BookingRequest, appointment_id=pk)
    if portal_booking.confirm_booking_identity(booking_request=booking, user=request.user):
        messages.success(request, f"Appointment #{pk}: identity confirmed.")
    return redirect("staff-home")


@login_required
def staff_home(request):
    """Today's appointments at the clinic, with check-in / complete / no-show / cancel buttons."""
    location = selectors.default_location()
    context = todays_list_context(request.user, location)
    if location is None:
        return render(request, "staff/home.html", context)
    with timezone.override(ZoneInfo(location.time_zone)):
        return render(request, "staff/home.html", context)


def _payments_link(user) -> dict:
    # The appointment's payments panel: front desk and managers (billing works from Takings);
    # providers see no payment data at all (DESIGN.md §3). "Check out": whoever takes payment.
    return {
        "show_payments": user.is_superuser or has_role(user, Role.FRONT_DESK, Role.MANAGER),
        "show_checkout": may(user, Capability.CHECKOUT),
    }


@login_required
def day_view(request):
    _require_schedule_role(request)
    location = _location(request)
    tz = ZoneInfo(location.time_zone)
    day = _day(request, tz)
    by_room = request.GET.get("by") == "room"
    starts, ends = selectors.local_day_bounds(day, day, tz)
    appointments = list(selectors.appointments_between(location=location, starts=starts, ends=ends))

    _label_cards(appointments, tz)
    for appointment in appointments:
        calendar_grid.place(appointment, day=day, tz=tz)
    opening = location.opening_hours.filter(weekday=day.weekday()).values_list("opens", "closes")
    context = {
        "location": location,
        "locations": _other_locations_for_switcher(location),
        "day": day,
        "by_room": by_room,
        "columns": _day_columns(location, appointments, by_room=by_room),
        "grid": calendar_grid.day_span(opening_hours=list(opening), appointments=appointments, day=day, tz=tz),
        "count": len(appointments),
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
    }
    return _render_local(request, "appointments/staff/day.html", context, location)


MOVABLE = frozenset({Appointment.Status.BOOKED, Appointment.Status.CONFIRMED})


def _label_cards(appointments, tz: ZoneInfo) -> None:
    """What each calendar card shows besides names, formatted once here rather than by template
    filters and url tags per card: local start and end, and the move and reschedule links of a
    visit that can still move."""
    move_url, reschedule_url = labels.url_for_each("appointments-move"), labels.url_for_each("appointments-reschedule")
    for appointment in appointments:
        appointment.start_label = labels.clock(appointment.starts_at.astimezone(tz))
        appointment.end_label = labels.clock(appointment.ends_at.astimezone(tz))
        appointment.movable = appointment.status in MOVABLE
        if appointment.movable:
            appointment.move_url = move_url(appointment.pk)
            appointment.reschedule_url = reschedule_url(appointment.pk)


def _day_columns(location, appointments, *, by_room: bool) -> list[dict]:
    """One column per active room or per provider working at the location. `drop` is what a card
    dropped on the column changes (the day view's drag and drop); None: not a drop target."""
    grouped: dict[int | None, list] = defaultdict(list)
    for appointment in appointments:
        grouped[appointment.room_id if by_room else appointment.provider_id].append(appointment)
    columns = []
    if by_room:
        for room in Room.objects.filter(location=location, active=True).order_by("name"):
            columns.append(
                {"label": room.name, "appointments": grouped.pop(room.pk, []), "provider": None, "drop": room.pk}
            )
    else:
        providers = Provider.objects.filter(active=True, working_hours__location=location).distinct()
        for provider in providers.order_by("display_name"):
            columns.append(
                {
                    "label": provider.display_name,
                    "appointments": grouped.pop(provider.pk, []),
                    "provider": provider,
                    "drop": provider.pk,
                }
            )
    # Appointments of a provider/room outside the header list (inactive now, or no room) still
    # show, in columns nothing can be dropped on.
    for leftovers in grouped.values():
        first = leftovers[0]
        if by_room:
            label, provider = (first.room.name if first.room else "No room"), None
        else:
            label, provider = first.provider.display_name, first.provider
        columns.append({"label": label, "appointments": leftovers, "provider": provider, "drop": None})
    return columns


def _other_locations_for_switcher(location) -> list[Location]:
    """All locations, for the day view's switcher (shown only when there is more than one)."""
    locations = list(Location.objects.order_by("name").only("pk", "name"))
    return locations if len(locations) > 1 else []


@login_required
def week_view(request):
    _require_schedule_role(request)
    location = _location(request)
    tz = ZoneInfo(location.time_zone)
    day = _day(request, tz)
    monday = day - dt.timedelta(days=day.weekday())
    providers = list(Provider.objects.filter(active=True).order_by("display_name"))
    raw = request.GET.get("provider", "")
    provider = next((p for p in providers if str(p.pk) == raw), None) or (providers[0] if providers else None)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    by_day: dict[dt.date, list] = {d: [] for d in days}
    if provider is not None:
        starts, ends = selectors.local_day_bounds(days[0], days[-1], tz)
        appointments = list(
            selectors.appointments_between(location=location, starts=starts, ends=ends, provider_id=provider.pk)
        )
        _label_cards(appointments, tz)
        for appointment in appointments:
            by_day[appointment.starts_at.astimezone(tz).date()].append(appointment)
    context = {
        "location": location,
        "provider": provider,
        "providers": providers,
        "days": [(d, by_day[d]) for d in days],
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "monday": monday,
    }
    return _render_local(request, "appointments/staff/week.html", context, location)


def _conflict_context(form, location, *, appointment=None):
    """The appointments that clash with what the form asked for, to show next to the error."""
    data = form.cleaned_data
    probe = Appointment(
        pk=appointment.pk if appointment else None,
        service=data.get("service") or appointment.service,
        provider=data["provider"],
        room=data.get("room"),
        starts_at=data["starts_at"],
    )
    probe.ends_at = probe.starts_at + dt.timedelta(minutes=probe.service.duration_minutes)
    return list(selectors.conflicting_appointments(appointment=probe).select_related("patient"))


@login_required
def create_appointment(request):
    _require_schedule_role(request)
    location = _location(request)
    conflicts = []
    if request.method == "POST":
        form = StaffAppointmentForm(request.POST, location=location)
        if form.is_valid() and form.cleaned_data.get("starts_at"):
            data = form.cleaned_data
            try:
                appointment = services.book_appointment(
                    patient=data["patient"],
                    service=data["service"],
                    location=location,
                    provider=data["provider"],
                    room=data["room"],
                    starts_at=data["starts_at"],
                    notes=data["notes"],
                    source=Appointment.Source.STAFF,
                )
            except (services.SlotTaken, services.NoRoomAvailable) as exc:
                conflicts = _conflict_context(form, location)
                if conflicts:
                    form.add_error(None, "That time overlaps another appointment (see below).")
                else:
                    form.add_error("room", str(exc))
            except services.MinorWithoutGuardian as exc:
                form.add_error("patient", str(exc))
            else:
                messages.success(request, f"Booked appointment #{appointment.pk}.")
                return redirect(_day_url(appointment, location))
    else:
        initial = {k: request.GET[k] for k in ("patient", "provider", "service", "date", "time") if k in request.GET}
        form = StaffAppointmentForm(initial=initial, location=location)
    context = {"form": form, "location": location, "conflicts": conflicts, "title": "New appointment"}
    return _render_local(request, "appointments/staff/form.html", context, location, status=409 if conflicts else 200)


def _day_url(appointment, location):
    tz = ZoneInfo(location.time_zone)
    day = appointment.starts_at.astimezone(tz).date().isoformat()
    return f"{reverse('appointments-day')}?date={day}&location={location.pk}"


@login_required
def reschedule_appointment(request, pk: int):
    _require_schedule_role(request)
    appointment = get_object_or_404(Appointment.objects.select_related("location", "service", "patient"), pk=pk)
    location = appointment.location
    tz = ZoneInfo(location.time_zone)
    conflicts = []
    if request.method == "POST":
        form = StaffRescheduleForm(request.POST, location=location)
        if form.is_valid() and form.cleaned_data.get("starts_at"):
            refused, conflicts = _reschedule_from(form, appointment)
            if refused is None:
                messages.success(request, f"Moved appointment #{appointment.pk}.")
                return redirect(_day_url(appointment, location))
            if conflicts:
                form.add_error(None, "That time overlaps another appointment (see below).")
            elif isinstance(refused, services.NoRoomAvailable):
                form.add_error("room", str(refused))
            else:
                form.add_error(None, str(refused))
    else:
        local = appointment.starts_at.astimezone(tz)
        form = StaffRescheduleForm(
            initial={
                "provider": appointment.provider_id,
                "room": appointment.room_id,
                "date": local.date(),
                "time": local.time().replace(tzinfo=None),
            },
            location=location,
        )
    context = {
        "form": form,
        "location": location,
        "conflicts": conflicts,
        "appointment": appointment,
        "title": f"Reschedule appointment #{appointment.pk}",
    }
    return _render_local(request, "appointments/staff/form.html", context, location, status=409 if conflicts else 200)


def _reschedule_from(form, appointment) -> tuple[services.SchedulingError | None, list]:
    """Run the reschedule service with a valid form (the reschedule page and the drag and drop).
    Returns (None, []) when moved, else why not and, for a clash, the appointments in the way."""
    data = form.cleaned_data
    try:
        services.reschedule_appointment(
            appointment=appointment, starts_at=data["starts_at"], provider=data["provider"], room=data["room"]
        )
    except (services.SlotTaken, services.NoRoomAvailable) as exc:
        return exc, _conflict_context(form, appointment.location, appointment=appointment)
    except services.SchedulingError as exc:
        return exc, []
    return None, []


@login_required
@require_POST
def move_appointment(request, pk: int):
    """Drop target of the day view's drag and drop. Same rules as the reschedule form (the same
    form and service); answers JSON for the script: {"ok": true} or {"error": "<what to fix>"}."""
    _require_schedule_role(request)
    appointment = get_object_or_404(Appointment.objects.select_related("location", "service", "provider"), pk=pk)
    location = appointment.location
    data = request.POST.copy()
    if not data.get("provider"):  # dropped on a room column: the provider stays
        data["provider"] = str(appointment.provider_id)
    form = StaffRescheduleForm(data, location=location)
    if not form.is_valid() or not form.cleaned_data.get("starts_at"):
        return JsonResponse({"error": _first_form_error(form)}, status=400)
    refused, conflicts = _reschedule_from(form, appointment)
    if refused is not None:
        return JsonResponse({"error": _conflict_sentence(conflicts, location) or str(refused)}, status=409)
    moved = form.cleaned_data
    local = moved["starts_at"].astimezone(ZoneInfo(location.time_zone))
    messages.success(
        request,
        f"Moved appointment #{appointment.pk} to {local:%-I:%M %p} with {moved['provider'].display_name}.",
    )
    return JsonResponse({"ok": True})


def _first_form_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label or field.capitalize()}: {errors[0]}" if field != "__all__" else errors[0]
    return "That time does not exist on this day (the clocks change)."


def _conflict_sentence(conflicts, location) -> str:
    """'That time overlaps 10:00–10:45 AM Ana R. (Chemical peel, Dr. Vega).' for the script."""
    tz = ZoneInfo(location.time_zone)
    parts = [
        f"{c.starts_at.astimezone(tz):%-I:%M}–{c.ends_at.astimezone(tz):%-I:%M %p} "
        f"{c.patient.full_name} ({c.service.name}, {c.provider.display_name}{', ' + c.room.name if c.room else ''})"
        for c in conflicts
    ]
    return f"That time overlaps {'; '.join(parts)}." if parts else ""


def _consent_warning(appointment, action: str, error: str | None) -> dict | None:
    """At check-in (a warning) and on a refused completion: which consents are missing, with the
    signing page. Only for the one row acted on, so list pages keep a constant query count."""
    if action not in {"check-in", "complete"} or (action == "complete" and not error):
        return None
    missing = missing_consents(appointment)
    if not missing:
        return None
    names = ", ".join(m.label for m in missing)
    return {
        "text": f"Consent needed before this visit: {names}.",
        "url": reverse("consents-appointment", args=[appointment.pk]),
    }


@login_required
@require_POST
def appointment_action(request, pk: int, action: str):
    """Check in / complete / no-show / cancel / confirm. htmx gets the updated row back."""
    _require_schedule_role(request)
    handler = services.STAFF_ACTIONS.get(action)
    if handler is None:
        raise Http404
    appointment = get_object_or_404(Appointment, pk=pk)
    error = None
    try:
        handler(appointment=appointment)
    except services.SchedulingError as exc:
        error = str(exc)
    appointment = Appointment.objects.select_related("patient", "service", "provider", "room", "location").get(pk=pk)
    consent_warning = _consent_warning(appointment, action, error)
    if request.htmx:
        context = {"a": appointment, "error": error, "consent_warning": consent_warning, **_payments_link(request.user)}
        return _render_local(request, "appointments/staff/partials/today_row.html", context, appointment.location)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Appointment #{appointment.pk}: {appointment.get_status_display()}.")
    if consent_warning:
        messages.warning(request, consent_warning["text"])
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/staff/") and "//" not in back else reverse("staff-home"))
