"""Reply understanding (issue 17): precision and recall of the opt-out classifier on the labelled
table in tests/messaging/reply_table.py — the table the rules were written against, and a held-out
set written afterwards and never tuned against. No database needed; runs in well under a second."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from messaging.reply_quality import measure, report  # noqa: E402
from tests.messaging.reply_table import CONTEXTS, HELD_OUT, REPLIES  # noqa: E402

started = time.perf_counter()
for name, rows in (("table (the specification)", REPLIES), ("held-out", HELD_OUT)):
    quality = measure(rows, CONTEXTS)
    print(report(name, quality))
    for text, context, expected, got in quality.mistakes:
        print(f"  - {text!r} after {context}: expected {expected}, got {got}")
elapsed = time.perf_counter() - started
print(f"classified {len(REPLIES) + len(HELD_OUT)} replies in {elapsed * 1000:.1f} ms")
