"""Same guard as 0003, but a TRUNCATE inside a transaction that set `cinrella.allow_truncate`
(only the test suite's flush between transactional tests does) is let through."""

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
    IF TG_OP = 'TRUNCATE' AND current_setting('cinrella.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'history context is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_protect_history_context")]
    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
