"""Readiness checks: what `/readyz` runs (DESIGN.md §9 "Failure").

A check is a function that returns None when all is well, or a short reason in words when it is
not ("no task worker has reported for 3 minutes"). Reasons are read by whoever is on call and by a
load balancer's logs: never PHI, never a key, never a row's content. Apps register their checks
from their AppConfig.ready() (lower layers never import higher ones: the registry lives here, the
checks live with what they check):

    from cinrella import health

    @health.register("outbox")
    def outbox_is_draining() -> str | None:
        ...

`/readyz` runs the database check first; when the database does not answer, the others are not
run (they would only repeat it). Every check runs in its own savepoint under a short statement
timeout, so one slow or failing check neither hangs the probe nor hides the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger("cinrella.health")

Check = Callable[[], str | None]
OK = "ok"
# A readiness probe must answer quickly whatever state the database is in.
STATEMENT_TIMEOUT_MS = 2000

_checks: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    """Add a readiness check under `name` (the key in /readyz's JSON). Registering a name again
    replaces the earlier function (module reloads in development)."""

    def decorator(check: Check) -> Check:
        _checks[name] = check
        return check

    return decorator


def unregister(name: str) -> None:
    _checks.pop(name, None)


def registered() -> dict[str, Check]:
    return dict(_checks)


@dataclass(frozen=True)
class Report:
    ok: bool
    results: dict[str, str]  # check name → "ok" or the reason it failed


def _database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def _run_one(name: str, check: Check) -> str:
    try:
        with transaction.atomic():
            reason = check()
    except DatabaseError as exc:
        # The class only: a database error's detail can quote row values.
        logger.warning("readiness check %s: database error %s", name, type(exc).__name__)
        return "the check could not read the database"
    except Exception:  # noqa: BLE001 — a broken check reports "not ready", it never 500s the probe
        logger.exception("readiness check %s raised", name)
        return "the check itself failed (see the server log)"
    return OK if reason is None else reason


def run_checks() -> Report:
    """Run the database check, then every registered check. Never raises."""
    results: dict[str, str] = {}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            _database()
            results["database"] = OK
            for name, check in sorted(_checks.items()):
                results[name] = _run_one(name, check)
    except Exception as exc:  # noqa: BLE001 — any failure here means the database is not usable
        logger.warning("readiness: database unreachable (%s)", type(exc).__name__)
        results = {"database": "unreachable"}
        results.update(dict.fromkeys(sorted(_checks), "not checked: the database is unreachable"))
    return Report(ok=all(value == OK for value in results.values()), results=results)
