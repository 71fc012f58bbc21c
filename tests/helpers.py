import pytest
from django.db import DatabaseError, connection, transaction


def assert_rejected_by_database(sql: str, params=()):
    """The statement fails in PostgreSQL itself (trigger or constraint), not in Python."""
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def assert_append_only(model, pk):
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    assert_rejected_by_database(f"UPDATE {table} SET {pk_column} = {pk_column} WHERE {pk_column} = %s", [pk])  # noqa: S608
    assert_rejected_by_database(f"DELETE FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
    assert model.objects.filter(pk=pk).exists()


def database_url_of(conn=connection) -> str:
    """DATABASE_URL of the database this test uses (the test database), for child processes."""
    from urllib.parse import quote

    s = conn.settings_dict
    host = s["HOST"] or ""
    port = f":{s['PORT']}" if s["PORT"] else ""
    socket = s.get("OPTIONS", {}).get("host")
    query = f"?host={socket}" if socket else ""
    return f"postgresql://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@{host}{port}/{s['NAME']}{query}"


def run_manage(*args: str, env: dict | None = None, timeout: float = 120):
    """Run `manage.py ARGS` in a new process against this test's database, configured as a real
    deployment would be (not in test mode): what a web, worker or periodic process does at start.
    The test must use a transactional database so the child sees its rows."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    child_env = {k: v for k, v in os.environ.items() if k != "CINRELLA_TESTING"}
    child_env.update(
        DATABASE_URL=database_url_of(),
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEY),
        BLIND_INDEX_KEY=settings.BLIND_INDEX_KEY,
        SMS_BACKEND="locmem",
        PRIVATE_MEDIA_ROOT=str(settings.PRIVATE_MEDIA_ROOT),
    )
    child_env.update(env or {})
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(  # noqa: S603 — our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=root, env=child_env, capture_output=True, text=True, timeout=timeout
    )
