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
