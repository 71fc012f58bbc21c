"""The patients app's sections of a patient's records download (privacy.records)."""

from patients import photos
from privacy.records import Section, register_section


@register_section("intake_history", "Intake and medical history", order=40)
def intake_history(patient):
    versions = patient.intake_versions.order_by("version")
    rows = [
        {
            "version": v.version,
            "recorded_at": v.created_at,
            "allergies": v.allergies,
            "medications": v.medications,
            "conditions": v.conditions,
            "pregnancy_or_breastfeeding": v.get_pregnancy_status_display(),
            "prior_aesthetic_treatments": v.prior_aesthetic_treatments,
            "notes": v.notes,
        }
        for v in versions
    ]
    preferences = getattr(patient, "treatment_preferences", None)
    if preferences is not None:
        rows.append(
            {
                "treatment_preferences_updated_at": preferences.updated_at,
                "goals": preferences.goals,
                "areas_of_interest": preferences.areas_of_interest,
                "comfort_notes": preferences.comfort_notes,
            }
        )
    rows += [{"chart_note_at": n.created_at, "chart_note": n.body} for n in patient.chart_notes.order_by("created_at")]
    return Section(data=rows)


@register_section("photos", "Before-and-after photos", order=50)
def patient_photos(patient):
    rows, files = [], []
    for photo in patient.photos.order_by("created_at"):
        name = f"photo-{photo.pk}.jpg"
        rows.append(
            {"file": name, "kind": photo.get_kind_display(), "caption": photo.caption, "taken_at": photo.created_at}
        )
        files.append((name, photos.read_decrypted(photo.storage_name)))
    return Section(data=rows, files=files)
