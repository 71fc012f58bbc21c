"""Each role × category cell of DESIGN.md §3, at the decision point, on staff views and in admin."""

import pytest

from privacy.access import Action, Category, can, patient_can
from tests.factories import PatientFactory, UserFactory
from tests.patients.factories import ChartNoteFactory, IntakeVersionFactory, TreatmentPreferencesFactory

pytestmark = pytest.mark.django_db

R, W, P, X = "read", "write", "presence", "export"
EXPECTED = {
    "front_desk": {
        "identity": {R, W, P},
        "contact": {R, W, P},
        "health": {P},
        "payment": {W, P},
        "sms_consent": {R, W, P},
        "technical": set(),
        "audit": set(),
    },
    "provider": {
        "identity": {R, P},
        "contact": {R, P},
        "health": {R, W, P},
        "payment": set(),
        "sms_consent": {R, P},
        "technical": set(),
        "audit": set(),
    },
    "billing": {
        "identity": {R, P},
        "contact": {R, P},
        "health": set(),
        "payment": {R, W, P},
        "sms_consent": set(),
        "technical": set(),
        "audit": set(),
    },
    "manager": {
        "identity": {R, W, P, X},
        "contact": {R, W, P, X},
        "health": {R, P, X},
        "payment": {R, P},
        "sms_consent": {R, P},
        "technical": {R, P},
        "audit": {R, P},
    },
}
CELLS = [(role, cat, act) for role in EXPECTED for cat in Category for act in Action]


@pytest.mark.parametrize(("role", "category", "action"), CELLS)
def test_decision_point_matches_the_matrix(role, category, action):
    user = UserFactory(role=role)
    assert can(user, action, category) is (action.value in EXPECTED[role][category.value])


def test_user_without_role_may_do_nothing():
    user = UserFactory(role=None)
    assert not any(can(user, a, c) for a in Action for c in Category)


def test_superuser_has_manager_rights_not_provider_rights():
    admin = UserFactory(role=None, is_superuser=True)
    assert can(admin, "read", "health")
    assert not can(admin, "write", "health")
    assert can(admin, "read", "audit")


def test_inactive_user_may_do_nothing():
    user = UserFactory(role="manager", is_active=False)
    assert not can(user, "read", "identity")


def test_portal_patient_sees_only_own_record():
    me, someone = PatientFactory(), PatientFactory()
    assert patient_can(me, "read", "health", me)
    assert patient_can(me, "read", "audit", me)
    assert not patient_can(me, "read", "identity", someone)
    assert not patient_can(me, "write", "health", me)


# --- staff views -----------------------------------------------------------------------------------

HEALTH_MARKERS = ["Lidocaine", "Soften forehead lines", "tolerated well"]
IDENTITY_MARKER = "Rosa Emergency"  # emergency contact
CONTACT_MARKER = "zed.contact@example.com"


@pytest.fixture
def record():
    patient = PatientFactory(email=CONTACT_MARKER, emergency_contact_name=IDENTITY_MARKER)
    IntakeVersionFactory(patient=patient)
    TreatmentPreferencesFactory(patient=patient)
    ChartNoteFactory(patient=patient)
    return patient


@pytest.mark.parametrize("role", list(EXPECTED))
def test_patient_page_renders_only_what_the_role_may_see(staff_client, record, role):
    client = staff_client(role)
    page = client.get(f"/staff/patients/{record.pk}/").text
    cells = EXPECTED[role]

    assert (IDENTITY_MARKER in page) is (R in cells["identity"])
    assert (CONTACT_MARKER in page) is (R in cells["contact"])
    for marker in HEALTH_MARKERS:
        assert marker not in page  # the overview never shows health content
    assert ("Intake on file ✓" in page) is (P in cells["health"])
    assert ("Medical history" in page) is (R in cells["health"])  # the tab itself
    assert ("Access history" in page) is (R in cells["audit"])
    assert ("Recently viewed by" in page) is (R in cells["audit"])
    assert ("Edit details" in page) is (W in cells["identity"])


HEALTH_URLS = ["intake/", "intake/v1/", "notes/", "photos/"]
HEALTH_WRITE_URLS = ["intake/new/", "preferences/"]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_health_pages_open_only_for_health_readers(staff_client, record, role):
    client = staff_client(role)
    may_read = R in EXPECTED[role]["health"]
    for url in HEALTH_URLS:
        response = client.get(f"/staff/patients/{record.pk}/{url}")
        assert response.status_code == (200 if may_read else 404), url
        if may_read and url == "intake/":
            assert "Lidocaine" in response.text and "Soften forehead lines" in response.text
        if may_read and url == "notes/":
            assert "tolerated well" in response.text
        if not may_read:
            for marker in HEALTH_MARKERS:
                assert marker not in response.text


@pytest.mark.parametrize("role", list(EXPECTED))
def test_health_writes_only_for_health_writers(staff_client, record, role):
    client = staff_client(role)
    may_write = W in EXPECTED[role]["health"]
    for url in HEALTH_WRITE_URLS:
        assert client.get(f"/staff/patients/{record.pk}/{url}").status_code == (200 if may_write else 404), url
    response = client.post(f"/staff/patients/{record.pk}/notes/", {"body": "written by " + role})
    assert response.status_code == (302 if may_write else 404)
    # Encrypted columns cannot be filtered in SQL: compare decrypted values.
    assert any(n.body == "written by " + role for n in record.chart_notes.all()) is may_write
    response = client.post(f"/staff/patients/{record.pk}/intake/new/", {"allergies": "none", "pregnancy_status": "no"})
    assert response.status_code == (302 if may_write else 404)
    assert record.intake_versions.count() == (2 if may_write else 1)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_identity_and_contact_edit_only_for_writers(staff_client, record, role):
    client = staff_client(role)
    may_write = W in EXPECTED[role]["identity"]
    assert client.get(f"/staff/patients/{record.pk}/edit/").status_code == (200 if may_write else 404)
    assert client.get("/staff/patients/new/").status_code == (200 if may_write else 404)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_audit_pages_only_for_audit_readers(staff_client, record, role):
    client = staff_client(role)
    expected = 200 if R in EXPECTED[role]["audit"] else 404
    assert client.get(f"/staff/patients/{record.pk}/access/").status_code == expected
    assert client.get("/staff/access-log/").status_code == expected


def test_staff_without_a_role_gets_404_everywhere(staff_client, record):
    client = staff_client(None)
    for url in ["/staff/patients/", f"/staff/patients/{record.pk}/", f"/staff/patients/{record.pk}/intake/"]:
        assert client.get(url).status_code == 404, url


def test_navigation_shows_patients_to_staff_and_access_log_to_managers(staff_client):
    assert "Access log" not in staff_client("provider").get("/staff/").text
    page = staff_client("manager").get("/staff/").text
    assert 'href="/staff/patients/"' in page and 'href="/staff/access-log/"' in page


# --- Django admin --------------------------------------------------------------------------------


def admin_change(client, patient):
    return client.get(f"/admin/patients/patient/{patient.pk}/change/")


@pytest.mark.parametrize("role", list(EXPECTED))
def test_admin_change_view_follows_the_matrix(staff_client, record, role):
    client = staff_client(role)
    response = admin_change(client, record)
    cells = EXPECTED[role]
    assert response.status_code == 200
    page = response.text
    assert (IDENTITY_MARKER in page) is (R in cells["identity"])
    assert (CONTACT_MARKER in page) is (R in cells["contact"])
    assert ("Lidocaine" in page) is (R in cells["health"])
    assert ("tolerated well" in page) is (R in cells["health"])
    # Editable inputs only for categories the role may change.
    assert ('name="first_name"' in page) is (W in cells["identity"])
    assert ('name="email"' in page) is (W in cells["contact"])


@pytest.mark.parametrize("role", ["provider", "billing"])
def test_admin_refuses_changes_from_read_only_roles(staff_client, record, role):
    client = staff_client(role)
    response = client.post(f"/admin/patients/patient/{record.pk}/change/", {"first_name": "Hacked"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.first_name != "Hacked"


def test_admin_refuses_users_without_a_role(staff_client, record):
    client = staff_client(None)
    assert admin_change(client, record).status_code in (302, 403)
    assert client.get("/admin/patients/patient/").status_code in (302, 403)


def test_superuser_in_admin_sees_health_read_only(staff_client, record):
    client = staff_client(None, is_superuser=True)
    page = admin_change(client, record).text
    assert "Lidocaine" in page
    assert 'name="intake_versions-0-allergies"' not in page
