"""The patient booking portal (/book/): service → location (only when several offer it) →
provider or anyone → date → time → details → consents → deposit (payments app, when the service
has one and Stripe is set up) → confirmation with .ics and a signed, expiring manage link.

No PHI in URLs: steps after the time are POSTs, and the details typed so far travel in the form
body of the next step (re-validated at every step), never in the session or a query string. The
chosen location (an id, not PHI) travels as `?location=` on the GET steps and a hidden field on
the POST steps, and is checked against the locations offering the service at every step. The
manage token is the signed appointment id (django.core.signing.TimestampSigner)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from appointments import labels, portal_booking, portal_consents, selectors, services
from appointments.forms import ConsentsForm, DetailsForm, PortalRescheduleForm, SlotForm, reschedule_with
from appointments.models import Appointment, Location, Provider, Service
from appointments.ratelimit import rate_limited
from payments.links import deposit_path

MANAGE_SALT = "appointments.manage-link"
DAYS_SHOWN = 14
NEARBY_SLOTS = 6


# --- helpers -------------------------------------------------------------------------------------


def manage_token(appointment: Appointment) -> str:
    return signing.TimestampSigner(salt=MANAGE_SALT).sign(str(appointment.pk))


def manage_link_max_age() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "APPOINTMENTS_MANAGE_LINK_MAX_AGE_DAYS", 90))


def appointment_from_token(token: str) -> Appointment:
    """The appointment a manage link names; tampered, expired or unknown → 404 (no details)."""
    try:
        pk = signing.TimestampSigner(salt=MANAGE_SALT).unsign(token, max_age=manage_link_max_age())
    except signing.BadSignature:  # includes SignatureExpired
        raise Http404("This link is not valid or has expired.") from None
    if not pk.isdigit():
        raise Http404
    return get_object_or_404(Appointment.objects.select_related("location", "service", "provider", "room"), pk=int(pk))


@dataclass(frozen=True)
class Where:
    """The location a booking is for, and whether the patient had several to choose from."""

    location: Location
    several: bool

    @property
    def query(self) -> str:
        """What carries the choice on GET links (appended after another parameter)."""
        return "&" + urlencode({"location": self.location.pk})


class UnknownLocation(Exception):
    """A location id that is not one of those offering the service (tampered with, or stale)."""

    def __init__(self, service: Service):
        self.service = service
        super().__init__("That location is not available for this service.")


def _offering(service: Service) -> list[Location]:
    """Where `service` can be booked (1 query); when nowhere yet, the first location, whose page
    then shows no times and the phone number."""
    locations = selectors.locations_offering(service)
    if not locations:
        default = selectors.default_location()
        if default is None:
            raise Http404("Online booking is not set up yet.")
        locations = [default]
    return locations


def _where(service: Service, raw: str | None) -> Where | None:
    """The chosen location from `raw` (the id in the query string or the form). The only location
    offering the service is chosen without asking; with several and none named → None (ask).
    Any other id → UnknownLocation."""
    locations = _offering(service)
    several = len(locations) > 1
    raw = (raw or "").strip()
    if not raw:
        return None if several else Where(locations[0], several)
    chosen = next((loc for loc in locations if str(loc.pk) == raw), None)
    if chosen is None:
        raise UnknownLocation(service)
    return Where(chosen, several)


def _location_checked(view):
    """An UnknownLocation in `view` → the location choice again with a clear message (HTTP 404)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except UnknownLocation as exc:
            return _locations_page(request, exc.service, error=str(exc), status=404)

    return wrapper


def _locations_page(request, service: Service, *, error: str | None = None, status: int = 200):
    choices = [(location, _tz_label(location)) for location in _offering(service)]
    context = {"service": service, "choices": choices, "several": True, "error": error}
    return _render(request, "appointments/portal/locations.html", context, status=status)


def _bookable_services():
    return Service.objects.filter(active=True, online_bookable=True).order_by("category", "name")


def _tz_label(location: Location, when: dt.datetime | None = None) -> str:
    tz = ZoneInfo(location.time_zone)
    abbreviation = (when or timezone.now()).astimezone(tz).tzname()
    place = location.time_zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} time ({abbreviation})"


def _render(request, template, context, status=200):
    location = context.get("location") or selectors.default_location()
    context = {**context, "location": location}
    if location is not None:
        context.setdefault("tz_label", _tz_label(location, context.get("tz_when")))
        with timezone.override(ZoneInfo(location.time_zone)):
            return render(request, template, context, status=status)
    return render(request, template, context, status=status)


def _provider_or_404(service: Service, who: str, location: Location) -> Provider | None:
    """None for "any"; otherwise an active provider who does `service` at `location`, or 404."""
    if who == "any":
        return None
    if not (who.isascii() and who.isdigit() and len(who) <= 9):
        raise Http404
    return get_object_or_404(selectors.providers_at(service=service, location=location), pk=int(who))


def _requested_date(request, tz, chosen) -> dt.date | None:
    if chosen is not None:
        return chosen.astimezone(tz).date()
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return None


def _picker_context(
    request, service, location, provider_id, *, chosen=None, ignore_appointment_id=None, prefer_provider_id=None
):
    """Date strip for 14 days and the times of the selected day, in the location's time zone.

    Only the selected day's times are computed in full; for the strip, the engine finds one time
    per date (enough to enable its chip), from the same loaded inputs."""
    tz = ZoneInfo(location.time_zone)
    today = timezone.now().astimezone(tz).date()
    try:
        start = max(dt.date.fromisoformat(request.GET.get("from", "")), today)
    except ValueError:
        start = today
    if chosen is not None:
        start = max(chosen.astimezone(tz).date(), today)
    dates = [start + dt.timedelta(days=i) for i in range(DAYS_SHOWN)]
    search = selectors.availability_search(
        service=service,
        location=location,
        start_date=dates[0],
        end_date=dates[-1],
        provider_id=provider_id,
        ignore_appointment_id=ignore_appointment_id,
        prefer_provider_id=prefer_provider_id,
    )
    open_dates = search.dates_with_slots(dates[0], dates[-1])
    selected = _requested_date(request, tz, chosen)
    if selected not in dates:
        selected = next((d for d in dates if d in open_dates), start)
    times = search.slots(selected, selected) if selected in open_dates else []
    if chosen is not None:
        times = sorted(times, key=lambda s: abs((s.starts_at - chosen).total_seconds()))[:NEARBY_SLOTS]
        times.sort(key=lambda s: s.starts_at)
    return {
        "days": [_date_chip(d, has_times=d in open_dates, selected=d == selected) for d in dates],
        "strip_from": start.isoformat(),
        "selected": selected,
        "times": [_time_choice(slot.starts_at, tz) for slot in times],
        "next_from": start + dt.timedelta(days=DAYS_SHOWN),
        "previous_from": start - dt.timedelta(days=DAYS_SHOWN) if start > today else None,
        "tz_when": dt.datetime.combine(selected, dt.time(12), tzinfo=tz),
    }


def _date_chip(day: dt.date, *, has_times: bool, selected: bool) -> dict:
    return {
        "iso": day.isoformat(),
        "dow": f"{day:%a}",
        "dom": day.day,
        "mon": f"{day:%b}",
        "has_times": has_times,
        "selected": selected,
    }


def _time_choice(starts_at: dt.datetime, tz: ZoneInfo) -> dict:
    """The value posted (the UTC instant, ISO) and the label in the clinic's time, e.g. "9:30 AM"."""
    return {"value": starts_at.isoformat(), "label": labels.clock(starts_at.astimezone(tz))}


# --- steps ---------------------------------------------------------------------------------------


def choose_service(request):
    return _render(request, "appointments/portal/services.html", {"services": list(_bookable_services())})


@_location_checked
def choose_provider(request, service_id: int):
    """The location choice when several locations offer the service and none is chosen yet;
    otherwise the providers at the chosen (or only) location."""
    service = get_object_or_404(_bookable_services(), pk=service_id)
    where = _where(service, request.GET.get("location"))
    if where is None:
        return _locations_page(request, service)
    providers = list(selectors.providers_at(service=service, location=where.location))
    context = {"service": service, "providers": providers, "location": where.location, "where": where}
    return _render(request, "appointments/portal/providers.html", context)


@_location_checked
def choose_time(request, service_id: int, who: str):
    service = get_object_or_404(_bookable_services(), pk=service_id)
    where = _where(service, request.GET.get("location"))
    if where is None:
        return redirect("appointments-portal-provider", service_id=service.pk)
    provider = _provider_or_404(service, who, where.location)
    return _time_page(request, service, who, provider, where)


def _has_passed(starts_at) -> bool:
    """A refused time that is already past was never offered (a stale or edited page): say so,
    rather than that someone else just took it."""
    return starts_at is not None and starts_at <= timezone.now()


def _time_page(request, service, who, provider, where: Where, *, chosen=None, taken=False):
    location = where.location
    context = {
        "service": service,
        "provider": provider,
        "who": who,
        "location": location,
        "where": where,
        "taken": taken,
        "taken_passed": _has_passed(chosen) if taken else False,
        "query": where.query,
        "hidden": [("service", service.pk), ("who", who), ("location", location.pk)],
        **_picker_context(request, service, location, provider and provider.pk, chosen=chosen),
    }
    return _render(request, "appointments/portal/time.html", context, status=409 if taken else 200)


def _slot_or_none(request):
    form = SlotForm(request.POST)
    if not form.is_valid():
        return None, None
    service = _bookable_services().filter(pk=form.cleaned_data["service"]).first()
    if service is None:
        return None, None
    return form, service


def _still_offered(service, location, form, provider_id) -> bool:
    tz = ZoneInfo(location.time_zone)
    day = form.cleaned_data["starts_at"].astimezone(tz).date()
    slots = selectors.available_slots(
        service=service, location=location, start_date=day, end_date=day, provider_id=provider_id
    )
    return any(s.starts_at == form.cleaned_data["starts_at"] for s in slots)


def _step_context(form, service, where: Where, provider):
    return {
        "slot_form": form,
        "service": service,
        "location": where.location,
        "where": where,
        "provider": provider,
        "starts_at": form.cleaned_data["starts_at"],
        "ends_at": form.cleaned_data["starts_at"] + dt.timedelta(minutes=service.duration_minutes),
        "tz_when": form.cleaned_data["starts_at"],
    }


def _taken(request, form, service, provider, where: Where):
    who, chosen = form.cleaned_data["who"], form.cleaned_data["starts_at"]
    return _time_page(request, service, who, provider, where, chosen=chosen, taken=True)


def _posted_where(form, service):
    """(where, provider) of a posted step; where is None when several locations offer the service
    and the form names none (a stale page): the caller sends the patient to choose one."""
    where = _where(service, form.cleaned_data["location"])
    if where is None:
        return None, None
    return where, _provider_or_404(service, form.cleaned_data["who"], where.location)


@never_cache
@require_POST
@rate_limited("booking")
@_location_checked
def details_step(request):
    """Time chosen → details form. Submitted details → consents step (or the under-18 refusal)."""
    form, service = _slot_or_none(request)
    if form is None:
        return redirect("appointments-portal")
    where, provider = _posted_where(form, service)
    if where is None:
        return redirect("appointments-portal-provider", service_id=service.pk)
    location = where.location
    context = _step_context(form, service, where, provider)
    if "first_name" not in request.POST:
        if not _still_offered(service, location, form, provider and provider.pk):
            return _taken(request, form, service, provider, where)
        return _render(request, "appointments/portal/details.html", {**context, "details": DetailsForm()})

    details = DetailsForm(request.POST)
    if not details.is_valid():
        return _render(request, "appointments/portal/details.html", {**context, "details": details})
    if details.is_minor(timezone.now().astimezone(ZoneInfo(location.time_zone)).date()):
        return _render(request, "appointments/portal/under_18.html", context)
    return _render(
        request,
        "appointments/portal/consents.html",
        {**context, **_consent_texts(), "details": details, "consents": ConsentsForm()},
    )


def _consent_texts():
    # Shown word for word: the SMS consent ledger records exactly these texts.
    return {
        "transactional_text": portal_consents.transactional_disclosure(),
        "marketing_text": portal_consents.marketing_disclosure(),
        "policy_version": portal_consents.current_policy_version(),
        "privacy_url": portal_consents.PRIVACY_POLICY_URL,
    }


@never_cache
@require_POST
@rate_limited("booking")
@_location_checked
def confirm_step(request):
    """Consents given → book (deposit step: the payments app inserts itself here)."""
    form, service = _slot_or_none(request)
    if form is None:
        return redirect("appointments-portal")
    where, provider = _posted_where(form, service)
    if where is None:
        return redirect("appointments-portal-provider", service_id=service.pk)
    location = where.location
    context = _step_context(form, service, where, provider)
    details = DetailsForm(request.POST)
    if not details.is_valid():
        return _render(request, "appointments/portal/details.html", {**context, "details": details})
    today = timezone.now().astimezone(ZoneInfo(location.time_zone)).date()
    if details.is_minor(today):
        return _render(request, "appointments/portal/under_18.html", context)
    consents = ConsentsForm(request.POST)
    if not consents.is_valid() or not consents.check_mobile(details.cleaned_data["mobile_phone"]):
        page = {**context, **_consent_texts(), "details": details, "consents": consents}
        return _render(request, "appointments/portal/consents.html", page)

    try:
        appointment = _book(request, service, location, provider, form, details, consents)
    except services.SlotTaken:
        return _taken(request, form, service, provider, where)
    if service.deposit_cents and settings.STRIPE_SECRET_KEY:
        # The deposit step (payments): Stripe's Payment Element, then back to the confirmation.
        return redirect(deposit_path(appointment))
    return redirect("appointments-portal-done", token=manage_token(appointment))


def _book(request, service, location, provider, form, details, consents) -> Appointment:
    """The booking service decides who the patient is and what is recorded (appointments.portal_booking)."""
    booking = portal_booking.book_from_portal(
        request=request,
        service=service,
        location=location,
        provider=provider,
        starts_at=form.cleaned_data["starts_at"],
        details=details.cleaned_data,
        sms_transactional=consents.cleaned_data["sms_transactional"],
        sms_marketing=consents.cleaned_data["sms_marketing"],
        privacy_acknowledged=consents.cleaned_data["privacy_acknowledged"],
    )
    return booking.appointment


# --- after booking: confirmation and the manage link ---------------------------------------------


def _manage_context(appointment, token):
    return {
        "appointment": appointment,
        "location": appointment.location,
        "token": token,
        "late": services.is_late_change(appointment),
        "open": appointment.status in services.OPEN_STATUSES,
        "tz_when": appointment.starts_at,
        "link_days": manage_link_max_age().days,
    }


@never_cache
@rate_limited("manage", methods=("GET", "POST"))
def done(request, token: str):
    appointment = appointment_from_token(token)
    context = {**_manage_context(appointment, token), "just_booked": True}
    return _render(request, "appointments/portal/manage.html", context)


@never_cache
@rate_limited("manage", methods=("GET", "POST"))
def manage(request, token: str):
    appointment = appointment_from_token(token)
    return _render(request, "appointments/portal/manage.html", _manage_context(appointment, token))


@never_cache
@rate_limited("manage", methods=("GET", "POST"))
def calendar_file(request, token: str):
    appointment = appointment_from_token(token)
    location = appointment.location
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Cinrella//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@cinrella")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    # No treatment name: calendar files end up synced to third-party calendar services.
    event.add("summary", f"Appointment at {settings.CLINIC_NAME}")
    event.add("location", f"{location.name}, {location.address}")
    event.add("description", f"To change or cancel, call {location.phone}.")
    if appointment.status == Appointment.Status.CANCELLED:
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


@never_cache
@require_POST
@rate_limited("manage", methods=("GET", "POST"))
def cancel(request, token: str):
    appointment = appointment_from_token(token)
    context = _manage_context(appointment, token)
    try:
        appointment = services.cancel_appointment(appointment=appointment, by_patient=True)
    except services.SchedulingError as exc:
        return _render(request, "appointments/portal/manage.html", {**context, "error": str(exc)}, status=409)
    return _render(
        request, "appointments/portal/manage.html", {**_manage_context(appointment, token), "cancelled": True}
    )


@never_cache
@rate_limited("manage", methods=("GET", "POST"))
def reschedule(request, token: str):
    """A new time with the same provider (default) or anyone available at the same location
    (`who=same|any`: a query parameter for the picker, a form field when posting)."""
    appointment = appointment_from_token(token)
    context = _manage_context(appointment, token)
    if not context["open"] or context["late"]:
        return _render(
            request, "appointments/portal/manage.html", context, status=409 if request.method == "POST" else 200
        )
    who = reschedule_with(request.GET.get("who"))
    chosen, taken, error = None, False, None
    if request.method == "POST":
        form = PortalRescheduleForm(request.POST)
        if form.is_valid():
            who = form.cleaned_data["who"]
            try:
                services.reschedule_appointment(
                    appointment=appointment,
                    starts_at=form.cleaned_data["starts_at"],
                    provider=appointment.provider if who == "same" else None,
                    by_patient=True,
                )
            except services.SlotTaken:
                chosen, taken = form.cleaned_data["starts_at"], True
            except services.SchedulingError as exc:
                error = str(exc)
            else:
                appointment.refresh_from_db()
                page = {**_manage_context(appointment, token), "rescheduled": True}
                return _render(request, "appointments/portal/manage.html", page)
    context.update(
        _picker_context(
            request,
            appointment.service,
            appointment.location,
            appointment.provider_id if who == "same" else None,
            chosen=chosen,
            ignore_appointment_id=appointment.pk,
            prefer_provider_id=appointment.provider_id,
        )
    )
    others = (
        selectors.providers_at(service=appointment.service, location=appointment.location)
        .exclude(pk=appointment.provider_id)
        .exists()
    )
    context.update(
        {
            "taken": taken,
            "taken_passed": _has_passed(chosen) if taken else False,
            "error": error,
            "who": who,
            "others": others or who == "any",
            "query": "&" + urlencode({"who": who}) if who == "any" else "",
            "hidden": [("who", who)],
        }
    )
    return _render(request, "appointments/portal/reschedule.html", context, status=409 if taken or error else 200)
