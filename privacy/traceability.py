"""Traceability: each section of the privacy policy → the rules that enforce it → the tests that
prove them. `python manage.py policy_report` prints it and fails when a section with obligations
has no test, or a test named here no longer exists. Other apps add their rules and tests with
`<app>/traceability.py` defining TRACES = [Trace("§4", "rule", ["tests/…::test_…"]), …]."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Trace:
    section: str  # "§4"
    rule: str  # what the code enforces, in a sentence, naming where
    tests: list = field(default_factory=list)  # pytest node ids "tests/path.py::test_name"


SECTIONS = {
    "§1": ("Introduction", False),
    "§2": ("Information we collect", True),
    "§3": ("How we use your information", True),
    "§4": ("SMS and mobile information privacy", True),
    "§5": ("Information disclosure practices", True),
    "§6": ("Data security", True),
    "§7": ("Medical information and HIPAA", True),
    "§8": ("Cookies and tracking technologies", True),
    "§9": ("Data retention", True),
    "§10": ("Your rights", True),
    "§11": ("Children's privacy", True),
    "§12": ("Changes to this privacy policy", True),
    "§13": ("Contact information", False),
}

G = "tests/privacy/test_gate.py::"
R = "tests/compliance/test_patient_rights.py::"
S = "tests/compliance/test_portal_sign_in.py::"
T = "tests/compliance/test_retention.py::"
P = "tests/privacy/test_policy_cookies_minors.py::"
W = "tests/privacy/test_outbound_code_walk.py::"
C = "tests/cinrella/"

TRACES = [
    Trace(
        "§2",
        "Identity and contact (§2A) encrypted at rest, found by keyed blind indexes (cinrella.crypto)",
        [
            f"{C}test_crypto.py::test_encrypted_value_round_trips_and_holds_no_plaintext",
            f"{C}test_crypto.py::test_blind_index_is_stable_and_keyed",
        ],
    ),
    Trace(
        "§2",
        "Before-and-after photos in marketing need the photo marketing consent (gate: photos_need_marketing_consent)",
        [f"{G}test_marketing_photos_need_the_photo_marketing_consent"],
    ),
    Trace(
        "§3",
        "Marketing only with the marketing opt-in (gate: marketing_needs_opt_in)",
        [f"{G}test_marketing_needs_the_marketing_opt_in"],
    ),
    Trace(
        "§4",
        "No mobile information to third parties/affiliates for marketing (gate: no_mobile_marketing_sharing)",
        [f"{G}test_no_mobile_information_to_affiliates_for_marketing"],
    ),
    Trace(
        "§4",
        "SMS opt-in data and consent only to SMS providers/aggregators (gate: sms_consent_only_to_sms_providers)",
        [f"{G}test_sms_consent_goes_only_to_sms_providers"],
    ),
    Trace(
        "§4",
        "SMS consent ledger: append-only, latest event decides (consents.SmsConsentEvent)",
        [
            "tests/consents/test_sms_ledger.py::test_state_follows_the_latest_event_opt_in_opt_out_opt_in",
            "tests/consents/test_sms_ledger.py::test_ledger_rows_cannot_be_updated_or_deleted_in_the_database",
        ],
    ),
    Trace("§5", "Nothing is ever sold (gate: no_sale)", [f"{G}test_nothing_is_ever_sold"]),
    Trace(
        "§5",
        "Processors get only what their purpose needs (gate: processor_purpose_only)",
        [f"{G}test_processors_get_only_what_their_purpose_needs"],
    ),
    Trace(
        "§5",
        "Legal disclosures need basis, reference and approving manager (gate: legal_basis_required)",
        [f"{G}test_legal_disclosure_needs_basis_reference_and_approving_manager"],
    ),
    Trace(
        "§5",
        "Every disclosure is recorded, append-only (privacy.Disclosure)",
        [f"{G}test_allowed_disclosure_writes_a_disclosure_row", f"{G}test_disclosure_log_is_append_only"],
    ),
    Trace(
        "§5",
        "Every outbound flow in the code passes the gate (privacy.codewalk)",
        [
            f"{W}test_every_outbound_call_in_the_project_passes_the_sharing_gate",
            f"{W}test_ungated_twilio_stripe_email_and_exports_are_reported_with_file_and_line",
        ],
    ),
    Trace(
        "§6",
        "Staff sign-in with mandatory second factor, lockout, automatic logoff (cinrella.views.staff, middleware)",
        [
            f"{C}test_staff_sign_in.py::test_staff_page_without_second_factor_redirects_to_otp_step",
            f"{C}test_staff_sign_in.py::test_lockout_after_repeated_failures_then_unlock_after_cool_off",
            f"{C}test_staff_sign_in.py::test_idle_timeout_signs_out",
        ],
    ),
    Trace(
        "§6",
        "Patient portal sign-in by one-time code: hashed, 10-minute expiry, single use, lockout, rate limit",
        [
            f"{S}test_code_expires_after_ten_minutes",
            f"{S}test_code_works_only_once",
            f"{S}test_five_wrong_codes_lock_the_code_even_the_right_one",
            f"{S}test_per_ip_rate_limit",
            f"{S}test_unknown_person_sees_the_same_answer_and_nothing_is_sent",
        ],
    ),
    Trace(
        "§7",
        "Patients download their records (ZIP: PDF + JSON), only their own, accounted as a disclosure",
        [
            f"{R}test_export_zip_has_every_section_and_nothing_of_another_patient",
            f"{R}test_records_download_is_accounted_as_a_disclosure_to_the_patient",
        ],
    ),
    Trace(
        "§7",
        "Accounting of disclosures: the patient sees, a manager exports, the last 6 years",
        [
            f"{R}test_patient_sees_their_accounting_of_disclosures_of_the_last_six_years",
            f"{R}test_manager_exports_a_patients_disclosures_as_csv",
        ],
    ),
    Trace(
        "§8",
        "Essential cookies only by default; analytics only after acceptance; choice remembered and changeable",
        [
            f"{P}test_no_cookie_choice_means_banner_and_no_analytics",
            f"{P}test_declining_analytics_is_remembered_and_booking_still_works",
            f"{P}test_accepting_analytics_loads_the_analytics_script_and_can_be_changed",
        ],
    ),
    Trace(
        "§9",
        "Retention schedule with legal minimums, nightly job with dry run (compliance.retention)",
        [
            f"{T}test_dry_run_lists_what_would_happen_and_changes_nothing",
            f"{T}test_real_run_purges_and_deidentifies_only_what_expired",
            f"{T}test_retention_never_goes_below_the_legal_minimum",
        ],
    ),
    Trace(
        "§9", "Legal holds block purge and de-identification", [f"{T}test_legal_hold_blocks_purge_and_deidentification"]
    ),
    Trace(
        "§10",
        "Correction requests in a staff queue with the 30-day due date, applied with an audit trail",
        [f"{R}test_correction_request_lands_in_queue_and_is_applied"],
    ),
    Trace(
        "§10",
        "Deletion where legally permissible: what is kept and why (compliance.deletion)",
        [
            f"{R}test_deletion_request_is_partially_fulfilled_with_reasons",
            f"{R}test_deletion_of_a_never_seen_patient_removes_identity_too",
        ],
    ),
    Trace("§10", "One-click marketing opt-out writes the SMS ledger", [f"{R}test_one_click_marketing_opt_out"]),
    Trace(
        "§11",
        "Under 18: no self-booking; booking needs a guardian consent (privacy.minors)",
        [f"{P}test_minor_is_refused_self_booking_and_booking_without_guardian_consent"],
    ),
    Trace(
        "§12",
        "Policy versions with effective dates; /privacy/ serves the one in force; new versions announced",
        [
            f"{P}test_version_one_is_seeded_from_the_policy_text_and_served_at_privacy",
            f"{P}test_the_version_in_force_is_served_not_a_future_one",
            "tests/compliance/test_portal_policy_updates.py::test_new_version_is_announced_on_next_portal_visit_until_accepted",
        ],
    ),
]


def all_traces() -> list[Trace]:
    from cinrella.app_hooks import collect

    extra = [t for t in collect("traceability", "TRACES") if t not in TRACES]
    return TRACES + extra
