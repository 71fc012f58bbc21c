"""Demo scheduling data for `manage.py seed_demo` (idempotent): opening hours, rooms, services,
providers linked to the demo `provider` user (and a second demo provider), working hours, and a
few appointments today for two demo patients."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.utils import timezone

from appointments import services as booking
from appointments.availability import local_instant
from appointments.models import Appointment, Location, OpeningHours, Provider, Room, RoomType, Service, WorkingHours
from cinrella.demo import DEMO_LOCATION
from cinrella.roles import Role

SERVICES = [
    # name, category, minutes, before, after, price, deposit, room types
    ("Consultation", "Consultations", 30, 0, 0, 0, 0, []),
    ("Neuromodulator", "Injectables", 30, 0, 10, 45000, 5000, ["Treatment room"]),
    ("Dermal filler", "Injectables", 60, 5, 10, 75000, 10000, ["Treatment room"]),
    ("Chemical peel", "Skin", 45, 0, 15, 18000, 0, ["Treatment room"]),
    ("Laser hair removal", "Laser", 45, 5, 10, 25000, 5000, ["Laser suite"]),
]
PRE_CARE = "Avoid alcohol, aspirin and fish oil for 24 hours before your visit if you can."
POST_CARE = "Keep the area clean, avoid strenuous exercise for 24 hours, and call us with any concerns."


def load(stdout) -> None:
    location = Location.objects.filter(name=DEMO_LOCATION["name"]).first() or Location.objects.order_by("pk").first()
    if location is None:
        return
    if not location.reminder_hours:
        location.reminder_hours = [48, 2]
        location.save(update_fields=["reminder_hours"])
    for weekday in range(6):  # Monday–Saturday
        OpeningHours.objects.get_or_create(
            location=location, weekday=weekday, defaults={"opens": dt.time(9), "closes": dt.time(18)}
        )
    room_types = {name: RoomType.objects.get_or_create(name=name)[0] for name in ("Treatment room", "Laser suite")}
    for name, kind in (("Room 1", "Treatment room"), ("Room 2", "Treatment room"), ("Laser room", "Laser suite")):
        Room.objects.get_or_create(location=location, name=name, defaults={"room_type": room_types[kind]})
    services = []
    for name, category, minutes, before, after, price, deposit, types in SERVICES:
        service, _ = Service.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "duration_minutes": minutes,
                "buffer_before_minutes": before,
                "buffer_after_minutes": after,
                "price_cents": price,
                "deposit_cents": deposit,
                "pre_care_instructions": PRE_CARE if category == "Injectables" else "",
                "post_care_instructions": POST_CARE,
            },
        )
        service.room_types.set([room_types[t] for t in types])
        services.append(service)

    providers = [_provider("provider", "Paula Provider, NP", services)]
    second = _second_provider(services)
    providers.append(second)
    for provider in providers:
        for weekday in range(6):
            WorkingHours.objects.get_or_create(
                provider=provider,
                location=location,
                weekday=weekday,
                defaults={"starts": dt.time(9), "ends": dt.time(17, 30)},
            )
    made = _todays_appointments(location, providers, services)
    stdout.write(f"appointments: {len(services)} services, {len(providers)} providers, {made} appointments today\n")


def _provider(username: str, display_name: str, services) -> Provider:
    user = User.objects.get(username=username)
    provider, _ = Provider.objects.get_or_create(user=user, defaults={"display_name": display_name})
    provider.services.add(*services)
    return provider


def _second_provider(services) -> Provider:
    user, created = User.objects.get_or_create(
        username="provider2",
        defaults={"first_name": "Nora", "last_name": "Nurse", "is_staff": True, "is_active": False},
    )
    if created:
        user.set_unusable_password()  # a bookable person in the demo, not a sign-in account
        user.save()
        user.groups.add(Group.objects.get(name=Role.PROVIDER.value))
    return _provider("provider2", "Nora Nurse, RN", services)


def _todays_appointments(location, providers, services) -> int:
    from patients.services import create_patient

    tz = ZoneInfo(location.time_zone)
    today = timezone.now().astimezone(tz).date()
    if today.weekday() == 6:  # closed on Sundays: show Monday's list instead
        today += dt.timedelta(days=1)
    day_start = local_instant(today, dt.time(0), tz)
    if Appointment.objects.filter(
        location=location, starts_at__gte=day_start, starts_at__lt=day_start + dt.timedelta(days=1)
    ).exists():
        return 0
    from patients.models import Patient

    patients = list(Patient.objects.order_by("pk")[:4])
    demo_people = [("Ava", "Reyes", dt.date(1988, 3, 14)), ("Liam", "Chen", dt.date(1979, 11, 2))]
    for first, last, dob in demo_people[: max(0, 2 - len(patients))]:
        patients.append(
            create_patient(
                first_name=first, last_name=last, date_of_birth=dob, email=f"{first.lower()}@example.invalid"
            )
        )
    by_name = {s.name: s for s in services}
    plan = [
        (providers[0], "Consultation", dt.time(9, 30)),
        (providers[0], "Neuromodulator", dt.time(10, 30)),
        (providers[1], "Dermal filler", dt.time(11, 0)),
        (providers[1], "Laser hair removal", dt.time(13, 0)),
        (providers[0], "Chemical peel", dt.time(14, 0)),
    ]
    made = 0
    for index, (provider, service_name, wall) in enumerate(plan):
        try:
            booking.book_appointment(
                patient=patients[index % len(patients)],
                service=by_name[service_name],
                location=location,
                provider=provider,
                starts_at=local_instant(today, wall, tz),
            )
            made += 1
        except booking.SchedulingError:
            continue
    return made
