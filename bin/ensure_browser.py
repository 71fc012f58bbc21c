"""Make sure the browser that the browser tests drive is installed; `make test` runs this first.

The browser tests drive Debian's Chromium (never a browser downloaded at run time: only package
registries are reachable). On a fresh machine it is missing:
- as root with apt-get, install Debian's `chromium` package now;
- otherwise stop before any test runs and print the one command that installs it.

Standard library only: CI runs it with the system Python before the project's environment exists.
CHROMIUM_PATH (default /usr/bin/chromium) is where the tests look for it, as tests/conftest.py does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

INSTALL_COMMAND = ["apt-get", "install", "-y", "-qq", "chromium"]
MANUAL_COMMAND = "sudo apt-get install -y chromium"


def chromium_path() -> Path:
    return Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def is_installed(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def may_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install(path: Path) -> bool:
    print(f"Chromium is missing ({path}): installing Debian's chromium package for the browser tests…", flush=True)
    quiet = {"env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, "stdout": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)  # noqa: S603, S607
    subprocess.run(INSTALL_COMMAND, check=False, **quiet)  # noqa: S603
    return is_installed(path)


def main() -> int:
    path = chromium_path()
    if is_installed(path):
        return 0
    if may_install() and install(path):
        print(f"Chromium installed at {path}.", flush=True)
        return 0
    print(
        f"\nThe browser tests need Debian's Chromium at {path}, and it is not installed"
        + (" (apt-get could not install it)" if may_install() else "")
        + ". Install it with:\n\n"
        f"    {MANUAL_COMMAND}\n\n"
        "then run `make test` again. (Set CHROMIUM_PATH if your Chromium lives elsewhere.)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
