"""Campaign and template rules (issue 17, point 8): the clinic's name and opt-out wording in every
marketing text, no treatment names unless the audience was chosen by that treatment; checked in
the staff form, the Django admin and the service."""

import pytest

from messaging import templating
from messaging.models import Kind, MessageTemplate
from messaging.services import campaigns
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_campaign_that_does_not_name_the_clinic_is_refused_by_the_service():
    """Observed: "Flash sale!" was accepted."""
    with pytest.raises(templating.InvalidTemplate, match="must name the clinic"):
        campaigns.create_campaign(
            name="Flash", body="Flash sale!", filters={}, rate_per_minute=None, user=UserFactory()
        )


def test_the_staff_form_refuses_it_with_the_reason(staff_client):
    client = staff_client("manager")
    response = client.post("/staff/messages/campaigns/new/", {"name": "Flash", "body": "Flash sale!"})
    assert response.status_code == 200 and "must name the clinic" in response.text


def test_treatment_names_are_refused_for_an_audience_not_chosen_by_that_treatment(staff_client):
    client = staff_client("manager")
    response = client.post(
        "/staff/messages/campaigns/new/", {"name": "Botox", "body": "{clinic_name}: Botox 20% off this week!"}
    )
    assert response.status_code == 200 and "“Botox”" in response.text


def test_treatment_names_are_allowed_for_the_audience_that_had_the_treatment(staff_client):
    service = ServiceFactory(name="Neuromodulator")
    client = staff_client("manager")
    response = client.post(
        "/staff/messages/campaigns/new/",
        {"name": "Botox", "body": "{clinic_name}: Botox 20% off this week!", "service": service.pk},
    )
    assert response.status_code == 302


def test_another_treatment_is_refused_even_for_a_treatment_audience():
    service = ServiceFactory(name="Neuromodulator")
    with pytest.raises(templating.InvalidTemplate, match="lip filler"):
        campaigns.check_campaign_wording("{clinic_name}: lip filler week!", {"service_id": service.pk})


def test_templates_may_not_name_treatments_staff_editor_and_admin(staff_client, admin_client):
    ServiceFactory(name="Chemical peel")
    manager = staff_client("manager")
    response = manager.post(
        f"/staff/messages/templates/{Kind.REMINDER}/",
        {"body": "{clinic_name}: your chemical peel is {date} at {time}. Reply STOP to opt out."},
    )
    assert response.status_code == 200 and "may not name treatments" in response.text
    assert not MessageTemplate.objects.exists()

    from messaging.admin import MessageTemplateForm

    form = MessageTemplateForm({"kind": Kind.REMINDER, "body": "{clinic_name}: Botox day is {date}."})
    assert not form.is_valid() and "may not name treatments" in str(form.errors)
    form = MessageTemplateForm({"kind": Kind.HELP_REPLY, "body": "{clinic_name}: hi."})
    assert not form.is_valid() and "must keep" in str(form.errors)


def test_a_draft_saved_before_the_rules_cannot_be_scheduled():
    from messaging.models import Campaign

    user = UserFactory()
    draft = Campaign.objects.create(name="Old", body="Flash sale!", created_by=user)
    with pytest.raises(campaigns.CampaignError, match="Edit the draft first"):
        campaigns.schedule_campaign(campaign=draft, user=user)
