import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cinrella.settings")
application = get_wsgi_application()


def _prove_keys_at_boot() -> None:
    """Refuse to boot (gunicorn, runserver) when the keys do not match the data, instead of failing
    on the first request: the first connection runs the key check (cinrella.keycheck)."""
    from django.db import connection

    connection.ensure_connection()
    connection.close()  # pre-forking servers must not share this connection with their workers


_prove_keys_at_boot()
