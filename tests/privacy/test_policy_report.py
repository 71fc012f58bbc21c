"""`manage.py policy_report`: every policy section with obligations maps to rules and existing tests."""

import pytest
from django.core.management import CommandError, call_command

from privacy import traceability
from privacy.traceability import Trace


def test_report_passes_on_this_tree_and_names_every_section(capsys):
    call_command("policy_report")
    out = capsys.readouterr().out
    for section in traceability.SECTIONS:
        assert f"{section} " in out
    assert "[MISSING]" not in out


def test_report_fails_when_a_referenced_test_does_not_exist(monkeypatch):
    broken = [*traceability.TRACES, Trace("§9", "made-up rule", ["tests/privacy/test_retention.py::test_nope"])]
    monkeypatch.setattr(traceability, "TRACES", broken)
    with pytest.raises(CommandError, match="test_nope does not exist"):
        call_command("policy_report")


def test_report_fails_when_a_section_with_obligations_has_no_test(monkeypatch):
    monkeypatch.setattr(traceability, "TRACES", [t for t in traceability.TRACES if t.section != "§11"])
    with pytest.raises(CommandError, match="§11 .* has obligations but no test"):
        call_command("policy_report")
