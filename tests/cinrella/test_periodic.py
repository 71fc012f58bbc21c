"""Periodic jobs with two run_periodic processes (issue 24 point 8): each job runs once per interval
across all hosts, never twice at once; run_periodic reports a heartbeat and records outcomes."""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cinrella import periodic
from cinrella.models import Heartbeat, PeriodicJob

JOB = periodic.Job("send_due_messages", 15)


def in_other_connection(function):
    """Run `function` in a thread: Django gives it its own database connection (a second host)."""
    box = {}

    def target():
        try:
            box["value"] = function()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    return box.get("value")


@pytest.mark.django_db(transaction=True)
def test_a_job_running_on_one_host_is_not_started_on_another():
    assert periodic.claim(JOB) is True  # host A runs it (holds its advisory lock)
    try:
        # Host B, even forced (--once), may not start it while A runs it.
        assert in_other_connection(lambda: periodic.claim(JOB, force=True)) is False
    finally:
        periodic.finish(JOB, None)
    # Finished, but it ran less than its interval ago: B waits for the interval.
    assert in_other_connection(lambda: periodic.claim(JOB)) is False
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=16)):
        assert in_other_connection(lambda: periodic.run_if_due(JOB, lambda command: None)) is True


@pytest.mark.django_db(transaction=True)
def test_two_processes_racing_for_a_due_job_run_it_once():
    runs = []
    start = threading.Barrier(2)

    def host(name):
        def go():
            start.wait()
            return periodic.run_if_due(JOB, lambda command: (runs.append(name), time.sleep(0.5)))

        return go

    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(in_other_connection(host(n)))) for n in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(runs) == 1
    assert sorted(results) == [False, True]
    row = PeriodicJob.objects.get(name=JOB.command)
    assert row.last_outcome == PeriodicJob.Outcome.SUCCEEDED


@pytest.mark.django_db
def test_a_failing_job_is_recorded_by_class_and_the_others_still_run(settings, monkeypatch):
    settings.PERIODIC_JOBS = [("no_such_command_here", 60), ("clearsessions", 60)]
    call_command("run_periodic", "--once")

    failed = PeriodicJob.objects.get(name="no_such_command_here")
    assert failed.last_outcome == PeriodicJob.Outcome.FAILED
    assert failed.last_error == "CommandError"
    assert failed.consecutive_failures == 1
    assert PeriodicJob.objects.get(name="clearsessions").last_outcome == PeriodicJob.Outcome.SUCCEEDED
    assert PeriodicJob.objects.get(name="send_due_messages").last_outcome == PeriodicJob.Outcome.SUCCEEDED
    assert Heartbeat.objects.filter(process=Heartbeat.Process.PERIODIC).exists()
