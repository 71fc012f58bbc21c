"""pghistory keeps "who and from which page" in one shared table, pghistory_context, that its own
upsert extends during a request. Event tables are append-only (pgtrigger.Protect); this makes the
context rows they point to tamper-proof too: no DELETE, and an UPDATE may only add keys to the
metadata (what pghistory's nested contexts do), never change or drop existing ones.

TRUNCATE is not refused by a trigger on any audit table: Django's `flush` (used between
transactional tests) truncates every table. In production the application's database role should
not own the tables (see docs/patients.md), which takes TRUNCATE away from it."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION cinrella_protect_history_context() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.created_at = OLD.created_at AND NEW.metadata::jsonb @> OLD.metadata::jsonb THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'history context rows may only gain metadata';
    END IF;
    RAISE EXCEPTION 'history context is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cinrella_context_append_only
    BEFORE UPDATE OR DELETE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION cinrella_protect_history_context();
"""

REVERSE = """
DROP TRIGGER IF EXISTS cinrella_context_append_only ON pghistory_context;
DROP FUNCTION IF EXISTS cinrella_protect_history_context();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_health_and_history"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, REVERSE),
        # Existing patients: fill the name digest table once; a trigger keeps it in step afterwards.
        migrations.RunSQL(
            "INSERT INTO patients_patientnamedigest (patient_id, digest) "
            "SELECT p.id, d FROM patients_patient p, unnest(p.name_bidx) AS d GROUP BY p.id, d",
            migrations.RunSQL.noop,
        ),
    ]
