"""Static proof that every outbound flow of data passes the sharing gate (DESIGN.md §4).

Walks the source of every project app (ast, no imports executed) and finds the places where data
leaves: Twilio sends (`.messages.create`), Stripe API calls (`stripe.<Resource>.<method>` or a
StripeClient's `.v1.…`), Django email (`send_mail`, `send_mass_mail`, `EmailMessage(…).send()`),
and file exports (HttpResponse/FileResponse/StreamingHttpResponse with a CSV/JSON/ZIP/PDF content
type, or `Content-Disposition: attachment`). Each must sit in a function that calls
`privacy.gate.disclose` or `privacy.gate.check` — directly or through functions it calls in the
project (followed through imports, transitively) — or be on the reviewed ALLOW_LIST."""

import ast
from dataclasses import dataclass, field
from pathlib import Path

GATE_MODULE = "privacy.gate"
GATE_FUNCTIONS = {"disclose", "check"}

EXPORT_CONTENT_TYPES = ("csv", "json", "zip", "pdf", "octet-stream")
RESPONSE_CLASSES = {"HttpResponse", "FileResponse", "StreamingHttpResponse"}
EMAIL_CLASSES = {"EmailMessage", "EmailMultiAlternatives"}
# Stripe calls that send nothing about a patient: webhook signature checks and error types.
STRIPE_LOCAL = {"Webhook", "WebhookSignature", "error", "util", "StripeClient", "api_key", "api_version"}

# Reviewed exceptions: (path relative to the project root, function name) → why it needs no gate.
# In-clinic downloads by staff are not disclosures outside the clinic; they are logged as access.
ALLOW_LIST = {
    ("consents/views/signing.py", "pdf_response"): (
        "A signed consent's PDF: to providers/managers in the clinic (staff_signature_pdf writes the "
        "access log first) or to the patient themself through their signed link (portal_signature_pdf)."
    ),
    ("consents/views/staff.py", "_proof_file"): (
        "Builds the SMS consent proof file for sms_proof_export, which first records the export "
        "(in-clinic: SmsConsentProofExport row) or, for a recipient outside the clinic, calls "
        "privacy.gate.disclose via _log_proof_export and refuses on PolicyViolation."
    ),
    ("messaging/backends.py", "TwilioBackend.send"): (
        "Transport only: its caller messaging.dispatch passes every message through the gate "
        "(privacy.gate.pending_disclosure → check, recipient twilio; the batch's Disclosure rows are "
        "committed with the 'sending' mark) before calling backend.send."
    ),
    ("appointments/views/portal.py", "calendar_file"): (
        "The patient's own appointment as an .ics file, fetched by the patient through their signed "
        "manage link: data returned to its subject, not a disclosure to a third party; it names no service."
    ),
    ("checkout/views/staff.py", "receipt_pdf"): (
        "A sale's itemised receipt, printed at the desk by checkout staff to hand to the patient "
        "(their own record, §7); the emailed receipt goes through the gate in checkout.services.deliver_receipt."
    ),
    ("compliance/views/staff.py", "export_disclosures"): (
        "A manager's in-clinic download of one patient's accounting of disclosures; "
        "logged as a PrivacyEvent (disclosures_exported)."
    ),
}


@dataclass
class Outbound:
    path: str
    line: int
    function: str
    kind: str

    def __str__(self):
        return f"{self.path}:{self.line} in {self.function}(): {self.kind} without privacy.gate.disclose/check"


@dataclass
class FunctionInfo:
    module: str
    name: str
    calls: set = field(default_factory=set)  # resolved (module, function) pairs
    calls_gate: bool = False
    outbound: list = field(default_factory=list)


def _dotted(node) -> list[str]:
    """`a.b.c` → ['a', 'b', 'c'] (a call in the chain is kept as '()')."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        else:
            parts.append("?")
            break
    return list(reversed(parts))


class _Imports:
    def __init__(self, tree: ast.Module, module: str):
        self.names: dict[str, tuple[str, str]] = {}  # local name → (module, attribute)
        self.modules: dict[str, str] = {}  # local name → module
        package = module.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.modules[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import: resolve against this module's package
                    parts = package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    local = alias.asname or alias.name
                    self.names[local] = (base, alias.name)
                    self.modules.setdefault(local, f"{base}.{alias.name}")  # `from privacy import services`


def _content_type_of(call: ast.Call) -> str:
    for keyword in call.keywords:
        if keyword.arg == "content_type" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return ""


def _is_attachment_header(node: ast.Assign) -> bool:
    for target in node.targets:
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.slice, ast.Constant)
            and str(target.slice.value).lower() == "content-disposition"
        ):
            value = node.value
            text = ""
            if isinstance(value, ast.Constant):
                text = str(value.value)
            elif isinstance(value, ast.JoinedStr) and value.values and isinstance(value.values[0], ast.Constant):
                text = str(value.values[0].value)
            return text.strip().lower().startswith("attachment")
    return False


def _outbound_in(node, imports: _Imports) -> list[tuple[int, str]]:
    found = []
    email_built = False
    sends = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assign) and _is_attachment_header(sub):
            found.append((sub.lineno, "file export (Content-Disposition: attachment)"))
        if not isinstance(sub, ast.Call):
            continue
        chain = _dotted(sub.func)
        last = chain[-1]
        if len(chain) >= 2 and chain[-2:] == ["messages", "create"]:
            found.append((sub.lineno, "Twilio message send"))
        elif chain[0] == "stripe" and len(chain) >= 3 and chain[1] not in STRIPE_LOCAL:
            found.append((sub.lineno, f"Stripe API call ({'.'.join(chain)})"))
        elif "v1" in chain[:-1] and chain[0] != "self":
            found.append((sub.lineno, f"StripeClient call ({'.'.join(chain)})"))
        elif last in {"send_mail", "send_mass_mail"}:
            found.append((sub.lineno, f"email ({last})"))
        elif last in EMAIL_CLASSES:
            email_built = True
        elif last in {"send", "send_messages"}:
            sends.append(sub.lineno)
        if last in RESPONSE_CLASSES:
            content_type = _content_type_of(sub).lower()
            if any(kind in content_type for kind in EXPORT_CONTENT_TYPES):
                found.append((sub.lineno, f"file export ({content_type})"))
            if last == "FileResponse" and any(
                k.arg == "as_attachment" and isinstance(k.value, ast.Constant) and k.value.value for k in sub.keywords
            ):
                found.append((sub.lineno, "file export (FileResponse as_attachment)"))
    if email_built and sends:
        found.extend((line, "email (EmailMessage.send)") for line in sends)
    return found


def _resolve(call: ast.Call, module: str, imports: _Imports, local_functions: set[str], class_name: str):
    chain = _dotted(call.func)
    if len(chain) == 1:
        name = chain[0]
        if name in imports.names:
            return imports.names[name]
        if name in local_functions:
            return (module, name)
        return None
    if chain[0] in ("self", "cls") and len(chain) == 2 and class_name:
        return (module, f"{class_name}.{chain[1]}")
    if len(chain) == 2 and chain[0] in imports.modules:
        return (imports.modules[chain[0]], chain[1])
    if len(chain) >= 3 and ".".join(chain[:-1]) in imports.modules.values():
        return (".".join(chain[:-1]), chain[-1])
    return None


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def _top_level_functions(tree: ast.Module):
    """(qualified name, class name, node) for module functions and methods of module classes."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, "", node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", node.name, item


def scan_source(source: str, *, path: str, module: str) -> dict[tuple[str, str], FunctionInfo]:
    """Index one module: for each function (nested functions count for their enclosing one),
    the project functions it calls, whether it calls the gate, and the outbound calls in it."""
    tree = ast.parse(source, filename=path)
    imports = _Imports(tree, module)
    functions = list(_top_level_functions(tree))
    local_names = {name for name, class_name, _ in functions if not class_name}
    infos: dict[tuple[str, str], FunctionInfo] = {}
    for name, class_name, function in functions:
        info = infos.setdefault((module, name), FunctionInfo(module, name))
        for sub in ast.walk(function):
            if isinstance(sub, ast.Call):
                target = _resolve(sub, module, imports, local_names, class_name)
                if target is None:
                    continue
                if target[0] == GATE_MODULE and target[1] in GATE_FUNCTIONS:
                    info.calls_gate = True
                else:
                    info.calls.add(target)
        info.outbound.extend(Outbound(path, line, name, kind) for line, kind in _outbound_in(function, imports))
    # Statements outside any function or method (module level, class bodies) that send data out.
    rest = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for node in rest:
        if isinstance(node, ast.ClassDef):
            rest_nodes = [i for i in node.body if not isinstance(i, ast.FunctionDef | ast.AsyncFunctionDef)]
        else:
            rest_nodes = [node]
        for line, kind in _outbound_in(ast.Module(body=rest_nodes, type_ignores=[]), imports):
            infos.setdefault((module, "<module>"), FunctionInfo(module, "<module>")).outbound.append(
                Outbound(path, line, "<module>", kind)
            )
    return infos


def project_sources(root: Path) -> list[Path]:
    """The Python files of every project app (INSTALLED_APPS inside the project), minus migrations."""
    from django.apps import apps

    files = []
    for config in apps.get_app_configs():
        app_path = Path(config.path).resolve()
        if root not in app_path.parents or ".venv" in app_path.parts:
            continue
        for path in sorted(app_path.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            files.append(path)
    return files


def build_index(sources) -> dict[tuple[str, str], FunctionInfo]:
    """sources: iterable of (path, module, source text)."""
    index: dict[tuple[str, str], FunctionInfo] = {}
    for path, module, source in sources:
        index.update(scan_source(source, path=path, module=module))
    return index


def ungated(index: dict[tuple[str, str], FunctionInfo], allow_list) -> list[Outbound]:
    gated_cache: dict = {}

    def gated(key, seen=frozenset()) -> bool:
        if key in gated_cache:
            return gated_cache[key]
        info = index.get(key)
        if info is None or key in seen:
            return False
        result = info.calls_gate or any(gated(callee, seen | {key}) for callee in info.calls)
        gated_cache[key] = result
        return result

    found = []
    for key, info in index.items():
        for outbound in info.outbound:
            if (outbound.path, outbound.function) in allow_list:
                continue
            if not gated(key):
                found.append(outbound)
    return sorted(found, key=lambda o: (o.path, o.line))


def project_index(root: Path) -> dict[tuple[str, str], FunctionInfo]:
    root = root.resolve()
    return build_index(
        (str(path.relative_to(root)), _module_name(path, root), path.read_text(encoding="utf-8"))
        for path in project_sources(root)
    )


def violations(root: Path, allow_list=None) -> list[Outbound]:
    return ungated(project_index(root), ALLOW_LIST if allow_list is None else allow_list)


def all_outbound(root: Path) -> list[Outbound]:
    return [outbound for info in project_index(root).values() for outbound in info.outbound]
