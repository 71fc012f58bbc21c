"""`make test` on a machine without Chromium: bin/ensure_browser.py installs Debian's package when
it may (root with apt-get) and otherwise stops with the one command to run.

The script runs for real in a subprocess, with PATH stripped to a folder holding a fake `apt-get`
(it records its arguments and, on `install`, puts an executable where CHROMIUM_PATH points), so
no package is installed on this machine."""

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "ensure_browser.py"
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "python3"

FAKE_APT = """#!/bin/sh
echo "$@" >> "{log}"
if [ "$1" = "install" ] && [ "{works}" = "yes" ]; then
  printf '#!/bin/sh\\necho Chromium 1.0\\n' > "{chromium}"
  chmod +x "{chromium}"
fi
"""


@pytest.fixture
def world_readable_dir():
    """A folder any user may read: the non-root run happens as `nobody`."""
    path = Path(tempfile.mkdtemp(prefix="ensure-browser-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def fake_apt(folder: Path, chromium: Path, *, works: bool = True) -> Path:
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    log = folder / "apt.log"
    apt = bin_dir / "apt-get"
    apt.write_text(FAKE_APT.format(log=log, chromium=chromium, works="yes" if works else "no"))
    apt.chmod(apt.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return log


def run_script(folder: Path, chromium: Path, **kwargs) -> subprocess.CompletedProcess:
    script = folder / "ensure_browser.py"
    shutil.copy(SCRIPT, script)
    script.chmod(0o644)
    env = {"PATH": f"{folder / 'bin'}:/usr/bin:/bin", "CHROMIUM_PATH": str(chromium)}
    # PATH keeps /usr/bin for the interpreter, but nothing there named apt-get can run first, and
    # the chromium the tests use is not where CHROMIUM_PATH points.
    return subprocess.run(  # noqa: S603
        [SYSTEM_PYTHON, str(script)], env=env, capture_output=True, text=True, timeout=60, **kwargs
    )


def test_an_installed_chromium_needs_nothing(world_readable_dir):
    chromium = world_readable_dir / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    log = fake_apt(world_readable_dir, chromium)

    result = run_script(world_readable_dir, chromium)

    assert result.returncode == 0
    assert result.stdout == result.stderr == ""
    assert not log.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the install path runs only as root")
def test_as_root_a_missing_chromium_is_installed_with_apt(world_readable_dir):
    chromium = world_readable_dir / "chromium"
    log = fake_apt(world_readable_dir, chromium)

    result = run_script(world_readable_dir, chromium)

    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
    assert chromium.exists()
    assert "installing Debian's chromium package" in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the install path runs only as root")
def test_as_root_a_failed_install_stops_with_the_command(world_readable_dir):
    chromium = world_readable_dir / "chromium"
    fake_apt(world_readable_dir, chromium, works=False)

    result = run_script(world_readable_dir, chromium)

    assert result.returncode == 1
    assert "apt-get could not install it" in result.stderr
    assert "sudo apt-get install -y chromium" in result.stderr


def test_without_root_a_missing_chromium_stops_before_any_test_with_the_command(world_readable_dir):
    chromium = world_readable_dir / "missing" / "chromium"
    log = fake_apt(world_readable_dir, chromium)
    as_nobody = {"user": "nobody", "group": "nogroup"} if os.geteuid() == 0 else {}

    result = run_script(world_readable_dir, chromium, **as_nobody)

    assert result.returncode == 1
    assert "sudo apt-get install -y chromium" in result.stderr
    assert "make test" in result.stderr
    assert not log.exists()  # nothing tried to install
