"""Finding patients through blind indexes: no plaintext leaves PostgreSQL, none is stored."""

import datetime as dt

from django.db.models import Count, QuerySet

from cinrella import crypto
from patients.models import Patient, PatientNameDigest


def _phone_digest(raw: str) -> str | None:
    phone = crypto.normalise_phone(raw)
    return crypto.blind_index("phone", phone) if phone else None


def _dob_digest(value: dt.date) -> str:
    return crypto.blind_index("dob", value.isoformat())


def _email_digest(raw: str) -> str:
    return crypto.blind_index("email", crypto.normalise_email(raw))


def patients_with_phone(raw_phone: str) -> QuerySet[Patient]:
    digest = _phone_digest(raw_phone)
    return Patient.objects.filter(phone_bidx=digest) if digest else Patient.objects.none()


def patients_with_email(raw_email: str) -> QuerySet[Patient]:
    return Patient.objects.filter(email_bidx=_email_digest(raw_email))


def patients_born_on(date_of_birth: dt.date) -> QuerySet[Patient]:
    return Patient.objects.filter(dob_bidx=_dob_digest(date_of_birth))


def patients_matching_name(text: str) -> QuerySet[Patient]:
    """Every word typed (whole, or a prefix of at least 3 letters) must match a name word."""
    tokens = [t for t in crypto.name_tokens(text) if len(t) >= crypto.NAME_PREFIX_MIN]
    if not tokens:
        return Patient.objects.none()
    digests = sorted({crypto.blind_index("name", t) for t in tokens})
    # The narrow digest table (kept equal to name_bidx by a trigger) answers with an index-only
    # scan; with several words, a patient must have every one of them.
    matches = PatientNameDigest.objects.filter(digest__in=digests).values("patient_id")
    if len(digests) > 1:
        matches = matches.annotate(n=Count("digest")).filter(n=len(digests)).values("patient_id")
    return Patient.objects.filter(pk__in=matches)


def returning_patient(*, date_of_birth: dt.date, email: str = "", phone: str = "") -> Patient | None:
    """The patient a portal visitor is, matched by email+DOB or phone+DOB (never by one key alone)."""
    dob = _dob_digest(date_of_birth)
    if email:
        match = Patient.objects.filter(dob_bidx=dob, email_bidx=_email_digest(email)).order_by("pk").first()
        if match:
            return match
    digest = _phone_digest(phone) if phone else None
    if digest:
        return Patient.objects.filter(dob_bidx=dob, phone_bidx=digest).order_by("pk").first()
    return None


def patient_has_photo_consent(patient: Patient) -> bool:
    """The single gate for photo uploads (§2B "with consent"): a valid, unrevoked signed photo
    consent (clinical-record scope) from the consents app."""
    from patients.consent_checks import has_photo_clinical_consent

    return has_photo_clinical_consent(patient)


# --- staff search ---------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%m/%d/%y")


def _as_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 — a calendar date, no time
        except ValueError:
            continue
    return None


def search_kind(text: str) -> str:
    """What the staff member typed: 'email', 'dob', 'phone' or 'name'."""
    text = text.strip()
    if "@" in text:
        return "email"
    if _as_date(text):
        return "dob"
    digits = sum(c.isdigit() for c in text)
    if digits >= 7 and digits >= len(text.replace(" ", "")) * 0.6:
        return "phone"
    return "name"


def search_patients(text: str) -> tuple[str, QuerySet[Patient]]:
    """One search box, four keys: the kind is recognised from what was typed."""
    kind = search_kind(text)
    text = text.strip()
    if kind == "email":
        qs = patients_with_email(text)
    elif kind == "dob":
        qs = patients_born_on(_as_date(text))
    elif kind == "phone":
        qs = patients_with_phone(text)
    else:
        qs = patients_matching_name(text)
    return kind, qs.order_by("pk")


# What a result row shows (name, DOB, masked phone): decrypting only these keeps a search fast.
RESULT_FIELDS = ("pk", "first_name", "last_name", "date_of_birth", "mobile_phone")
SEARCH_LIMIT = 25


def search_results(text: str, limit: int = SEARCH_LIMIT) -> tuple[str, list[dict], bool]:
    """(kind, rows, more) for the staff search page: at most `limit` rows, and whether there were
    more (then the page asks for more letters rather than listing hundreds of patients)."""
    kind, qs = search_patients(text)
    if kind == "name":
        # No ORDER BY: with one, PostgreSQL walks the primary key and filters wide rows (slow for a
        # common prefix); without, it reads the GIN posting list and stops after limit+1 rows.
        # The few rows shown are sorted by name below instead.
        qs = qs.order_by()
    found = list(qs.only(*RESULT_FIELDS)[: limit + 1])
    shown = found[:limit]
    if kind == "name":
        shown.sort(key=lambda p: (crypto.normalise_name(p.last_name), crypto.normalise_name(p.first_name), p.pk))
    rows = [{"patient": p, "masked_phone": masked_phone(p.mobile_phone)} for p in shown]
    return kind, rows, len(found) > limit


def possible_duplicates(*, date_of_birth: dt.date | None, email: str = "", phone: str = "", exclude_pk=None):
    """Patients sharing the mobile phone, or the same email *and* date of birth."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    digest = _phone_digest(phone) if phone else None
    if digest:
        condition |= Q(phone_bidx=digest)
    if email and date_of_birth:
        condition |= Q(email_bidx=_email_digest(email), dob_bidx=_dob_digest(date_of_birth))
    qs = Patient.objects.filter(condition)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.order_by("pk")[:10])


# --- display helpers (no queries) -------------------------------------------------------------------


def masked_phone(e164: str) -> str:
    """Only the last four digits: enough to tell two patients apart at the desk."""
    if not e164:
        return ""
    return f"•••-•••-{e164[-4:]}"


def formatted_phone(e164: str) -> str:
    import phonenumbers

    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "US"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def latest_intake(patient: Patient):
    return patient.intake_versions.order_by("-version").first()


def has_intake(patient: Patient) -> bool:
    """Presence only (front desk): whether an intake is on file, never its content."""
    return patient.intake_versions.exists()


# --- write history (pghistory event tables) ----------------------------------------------------------

HISTORY_SOURCES = (
    ("PatientEvent", "pgh_obj_id", "Patient details"),
    ("IntakeVersionEvent", "patient_id", "Intake"),
    ("TreatmentPreferencesEvent", "patient_id", "Treatment preferences"),
    ("ChartNoteEvent", "patient_id", "Chart note"),
    ("PatientPhotoEvent", "patient_id", "Photo"),
)


def write_history(patient: Patient, limit: int = 200) -> list[dict]:
    """Every recorded insert/update/delete of this patient's data, newest first, with who and from
    which page (the pghistory context). Shows what changed, not the values: those are PHI."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    rows = []
    for model_name, patient_column, label in HISTORY_SOURCES:
        model = apps.get_model("patients", model_name)
        events = (
            model.objects.filter(**{patient_column: patient.pk})
            .select_related("pgh_context")
            .only("pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context__metadata")
            .order_by("-pgh_created_at")[:limit]
        )
        for event in events:
            metadata = event.pgh_context.metadata if event.pgh_context_id else {}
            rows.append(
                {
                    "at": event.pgh_created_at,
                    "what": label,
                    "object_id": event.pgh_obj_id,
                    "event": event.pgh_label,
                    "user_id": metadata.get("user"),
                    "url": metadata.get("url", ""),
                }
            )
    rows.sort(key=lambda r: r["at"], reverse=True)
    rows = rows[:limit]
    users = get_user_model().objects.in_bulk({r["user_id"] for r in rows if r["user_id"]})
    for row in rows:
        user = users.get(row["user_id"])
        if user:
            row["user"] = user.get_username()
        else:
            row["user"] = f"user #{row['user_id']}" if row["user_id"] else "system / shell"
    return rows
