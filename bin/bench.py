"""`make bench`: runs every bench/bench_*.py in turn; each prints its own figures.

Benchmarks build their data in a database of their own (`cinrella_bench`, on the embedded server
or beside DATABASE_URL's) so they never touch development data."""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    if not scripts:
        print("no benchmarks yet")
        return 0
    selected = [s for s in scripts if not sys.argv[1:] or any(a in s.name for a in sys.argv[1:])]
    for script in selected:
        print(f"\n## {script.stem}")
        runpy.run_path(str(script), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
