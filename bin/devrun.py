"""`make run`: database, migrations, demo data, web server, task worker and periodic jobs.

Ctrl-C stops every process started here; the embedded PostgreSQL (when DATABASE_URL is unset)
stops when this process, the last one holding it, exits."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cinrella.settings")

from cinrella.demo import credentials_table  # noqa: E402  (plain data, no Django setup needed)

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    if not os.environ.get("DATABASE_URL"):
        # Start (or join) the embedded server in *this* process so it outlives the children.
        from cinrella.embedded_db import database_url

        os.environ["DATABASE_URL"] = database_url("cinrella")
        print("Embedded PostgreSQL running (data in .pgdata/).")
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo", "--quiet-credentials")

    children: list[subprocess.Popen] = []

    def stop(*_):
        # Each child leads its own process group (runserver's autoreloader has a child of its own).
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    # Ctrl-C must stop everything even when started from a shell that ignores SIGINT for us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for command in (["runserver", f"{HOST}:{PORT}"], ["db_worker"], ["run_periodic"]):
            children.append(subprocess.Popen([sys.executable, "manage.py", *command], cwd=ROOT, start_new_session=True))
        time.sleep(2)
        print(f"\nCinrella is running: http://{HOST}:{PORT}/staff/  (patient portal: http://{HOST}:{PORT}/book/)")
        print(credentials_table())
        print("Current 6-digit code for a demo user: uv run python manage.py demo_totp manager")
        print("Press Ctrl-C to stop everything.\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A process stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
