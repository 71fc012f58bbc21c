import factory

from patients.models import ChartNote, IntakeVersion, TreatmentPreferences
from tests.factories import PatientFactory, UserFactory


class IntakeVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntakeVersion

    patient = factory.SubFactory(PatientFactory)
    version = factory.LazyAttribute(lambda o: o.patient.intake_versions.count() + 1)
    allergies = "Lidocaine"
    medications = "Isotretinoin"
    conditions = "Rosacea"
    pregnancy_status = IntakeVersion.Pregnancy.NO
    prior_aesthetic_treatments = "Botox 2024"
    notes = "Prefers afternoon visits"


class TreatmentPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentPreferences

    patient = factory.SubFactory(PatientFactory)
    goals = "Soften forehead lines"
    areas_of_interest = "Forehead"
    comfort_notes = "Numbing cream please"
    updated_by = factory.SubFactory(UserFactory)


class ChartNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChartNote

    patient = factory.SubFactory(PatientFactory)
    author = factory.SubFactory(UserFactory, role="provider")
    body = "Injected 20 units glabella; tolerated well."


def patient_with_photo_consent(**kwargs):
    """A patient with a valid signed photo consent (clinical-record scope), from the consents app."""
    from consents.models import ConsentKind
    from tests.consents.factories import sign_consent_of_kind

    patient = PatientFactory(**kwargs)
    sign_consent_of_kind(patient, ConsentKind.PHOTO_CLINICAL)
    return patient
