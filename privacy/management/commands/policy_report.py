import ast
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.traceability import SECTIONS, all_traces


def existing_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


def missing_tests(node_ids, root: Path) -> list[str]:
    missing, cache = [], {}
    for node_id in node_ids:
        file_part, _, name = node_id.partition("::")
        name = name.split("[", 1)[0]
        path = root / file_part
        if path not in cache:
            cache[path] = existing_tests(path) if path.exists() else set()
        if name not in cache[path]:
            missing.append(node_id)
    return missing


class Command(BaseCommand):
    help = "Print, per section of the privacy policy, the rules enforcing it and the tests proving them."

    def handle(self, *args, **options):
        root = Path(settings.BASE_DIR)
        traces = all_traces()
        failures = []
        for section, (title, has_obligations) in SECTIONS.items():
            mine = [t for t in traces if t.section == section]
            self.stdout.write(self.style.MIGRATE_HEADING(f"{section} {title}"))
            if not mine:
                self.stdout.write("    (no obligations for the software)" if not has_obligations else "    NO RULE")
            for trace in mine:
                self.stdout.write(f"  rule: {trace.rule}")
                gone = set(missing_tests(trace.tests, root))
                for node_id in trace.tests:
                    mark = "MISSING" if node_id in gone else "ok"
                    self.stdout.write(f"    [{mark}] {node_id}")
                failures += [f"{section}: test {node_id} does not exist" for node_id in gone]
            if has_obligations and not any(t.tests for t in mine):
                failures.append(f"{section} ({title}) has obligations but no test")
        if failures:
            raise CommandError("Policy report failed:\n  " + "\n  ".join(failures))
        self.stdout.write(self.style.SUCCESS("Every section with obligations has rules and existing tests."))
