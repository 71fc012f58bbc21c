"""Django admin pages for scheduling set-up load for a superuser."""

import pytest

from tests.conftest import sign_in_verified
from tests.factories import AppointmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["location", "roomtype", "room", "service", "provider", "appointment", "bookingrequest"]
)
def test_admin_changelists_load(client, model):
    AppointmentFactory()
    sign_in_verified(client, UserFactory(is_superuser=True))

    response = client.get(f"/admin/appointments/{model}/")

    assert response.status_code == 200


def test_appointment_admin_change_page_shows_no_patient_name(client):
    appointment = AppointmentFactory(patient__first_name="Zelda")
    sign_in_verified(client, UserFactory(is_superuser=True))

    page = client.get(f"/admin/appointments/appointment/{appointment.pk}/change/").text

    assert "Zelda" not in page
