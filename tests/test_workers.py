"""Worker start: the offline engine is warmed in each django-q2 worker, on the pipeline's instance; the
database connection is opened at start, and checked before every task without a round trip."""

from __future__ import annotations

import time

import pytest
from django_q.signals import post_spawn

from kyc import workers
from kyc.services import ocr, providers
from ocr_providers.local.provider import LocalOcrProvider

ALL_VENDOR = ",".join(
    f"{t}=tencent:X" for t in ("hk_id_card", "cn_passport", "exit_entry_permit", "mainland_travel_permit")
)


class WarmCounter:
    """Stands in for the local provider: counts warm-ups."""

    name = "local"

    def __init__(self) -> None:
        self.warmed = 0

    def warm(self) -> None:
        self.warmed += 1


@pytest.fixture
def counter():
    providers._providers.clear()
    fake = WarmCounter()
    providers._providers["local"] = fake
    yield fake
    providers._providers.clear()


def test_worker_start_warms_the_pipelines_local_instance(settings, counter):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": ""}  # every type defaults to local:auto
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert counter.warmed == 1
    assert ocr.provider_for("local") is counter


def test_worker_start_warms_when_local_is_only_a_fallback(settings, counter):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": "hk_id_card=tencent:HKIDCardOCR>local:auto"}
    assert workers.worker_warm_ocr(proc_name="Process-1") is True
    assert counter.warmed == 1


def test_worker_start_skips_the_engine_when_no_route_uses_it(settings, counter):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": ALL_VENDOR}
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert counter.warmed == 0


def test_a_failing_warm_up_does_not_kill_the_worker(settings, counter, monkeypatch):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": ""}

    def broken() -> None:
        raise RuntimeError("models missing")

    monkeypatch.setattr(counter, "warm", broken)
    assert workers.worker_warm_ocr(proc_name="Process-1") is False


def test_the_pipelines_local_provider_sizes_threads_from_the_worker_count(settings):
    settings.KYC_OCR = {**settings.KYC_OCR, "local": {"ocr_workers": 2, "cores": 4}}
    providers._providers.clear()
    try:
        provider = ocr.provider_for("local")
        assert isinstance(provider, LocalOcrProvider)
        assert provider.threads == 2
    finally:
        providers._providers.clear()


def test_worker_start_builds_the_routed_vendor_clients(settings, counter):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": "hk_id_card=tencent:HKIDCardOCR>local:auto"}
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert "tencent" in providers._providers  # the HTTP client and signer exist before the first task
    assert counter.warmed == 1


def test_a_vendor_client_that_cannot_be_built_does_not_stop_the_worker(settings, counter, monkeypatch):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": ALL_VENDOR}

    def broken(name):
        raise RuntimeError("no such provider")

    monkeypatch.setattr("kyc.services.providers.provider_for", broken)
    assert workers.worker_build_providers(proc_name="Process-1") == []


@pytest.mark.django_db(transaction=True)  # django-q2 closes old connections outside any transaction
def test_worker_start_opens_the_database_connection():
    from django.db import connection

    connection.close()
    assert connection.connection is None or connection.vendor == "sqlite"  # in-memory SQLite stays open
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert connection.connection is not None


def test_a_worker_that_cannot_connect_at_start_still_starts(monkeypatch, caplog):
    from django.db import OperationalError, connections

    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "ensure_connection", down)
    assert workers.worker_connect(proc_name="Process-1") is False  # the first task connects and reports
    assert "could not connect to the database at start (OperationalError)" in caplog.text


def _task() -> None:
    """What django-q2's worker does around each task (django_q/worker.py), with a statement of the task's."""
    from django.db import close_old_connections
    from django_q.signals import pre_execute

    from kyc.models import Document

    close_old_connections()
    pre_execute.send(sender="django_q", func=None, task={})
    Document.objects.exists()


@pytest.mark.django_db(transaction=True)  # django-q2 closes old connections outside any transaction
def test_every_task_checks_its_connection_and_only_a_suspect_one_costs_a_round_trip(monkeypatch):
    """django-q2 has Django check the kept connection before every task (``CONN_HEALTH_CHECKS``): each task
    checks, so a connection the server ended is replaced before the task's first statement, whenever it
    ended. On PostgreSQL the check of an idle connection whose socket is quiet sends nothing."""
    from django.db import connections

    from tests.support import RoundTrips

    connection = connections["default"]
    connection.ensure_connection()
    checks = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or usable())
    monkeypatch.setattr(connection, "close_at", None)  # not past its age: django-q2 would close it
    _task()
    _task()
    assert len(checks) == 2  # one per task
    if connection.vendor == "postgresql":
        with RoundTrips() as trips:
            _task()
        assert trips.count == 1  # the task's own statement: no SELECT 1 before it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_task_right_after_the_server_ended_the_connection_runs_on_a_new_one():
    """A restart or a failover ends every connection: the next task of each worker, however soon, gets a
    new one (it no longer waits out a few seconds of skipped checks and fails its first statement)."""
    from django.db import connections

    from tests.support import terminate_backend

    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("the check is PostgreSQL's")
    _task()
    first = terminate_backend(connection)
    _task()  # no error: the check before it replaced the connection
    assert connection.connection.info.backend_pid != first


# A worker forked from the cluster after ``preload`` runs its first job without importing anything,
# building a cipher or reading the time zone: all were loaded once in the parent.
# Two fresh interpreters, so nothing the test process has imported can hide a lazy import: one writes a
# queued document, the other plays a worker.
_WRITE_DOCUMENT = """
import sys
from bench import pipeline_harness as h
h.setup_django(h.os.environ.copy())
print(h.create_documents({"hk_id_card": 1})[0])
"""
_FIRST_JOB = """
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "kyc.settings"
django.setup()
from kyc import workers
workers.preload()
workers.worker_build_providers(proc_name="Process-1")  # what post_spawn does in the worker
from django.utils import timezone
from kyc import crypto
before, built, used = set(sys.modules), crypto._cipher.cache_info().misses, crypto._cipher.cache_info().hits
zones = timezone.get_default_timezone.cache_info().misses
from kyc.tasks import document_ocr_task
status = document_ocr_task(sys.argv[1]).split()[0]
print(json.dumps({
    "status": status,
    "imported": sorted(set(sys.modules) - before),
    "ciphers_built": crypto._cipher.cache_info().misses - built,
    "encrypted": crypto._cipher.cache_info().hits > used,
    "zones_read": timezone.get_default_timezone.cache_info().misses - zones,
}))
"""


def test_a_preloaded_workers_first_job_imports_nothing_and_builds_no_cipher(tmp_path):
    import json
    import subprocess
    import sys

    from bench import pipeline_harness as h
    from ocr_providers.emulator.server import VendorEmulator

    with VendorEmulator() as emulator:
        env = h.base_env("", emulator.url, str(tmp_path), KYC_OCR_QUOTAS="")  # SQLite in tmp_path

        def run(code: str, *args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-c", code, *args], cwd=h.ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr[-2000:]
            return done.stdout.strip().splitlines()[-1]

        document_id = run(_WRITE_DOCUMENT)
        first_job = json.loads(run(_FIRST_JOB, document_id))
    assert first_job == {
        "status": "extracted",
        "imported": [],
        "ciphers_built": 0,
        "encrypted": True,
        "zones_read": 0,
    }


# A worker forked after ``preload`` shares the parent's memory until it writes to it, and a garbage
# collection writes to every object it examines: ``preload`` freezes what it loaded, so that a full
# collection in the worker copies none of it (without the freeze: 26 MB per worker).
_FORKED_COLLECTION = """
import gc, json, os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "kyc.settings"
django.setup()
from kyc import workers
workers.preload()

def private_dirty_kb():
    with open("/proc/self/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith("Private_Dirty:"))

read, write = os.pipe()
pid = os.fork()
if pid == 0:
    before = private_dirty_kb()
    gc.collect()
    os.write(write, json.dumps({"copied_kb": private_dirty_kb() - before, "enabled": gc.isenabled()}).encode())
    os._exit(0)
os.close(write)
os.waitpid(pid, 0)
print(os.read(read, 4096).decode())
"""


def test_a_full_collection_in_a_worker_forked_after_preload_copies_none_of_what_it_loaded(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from bench import pipeline_harness as h

    if not Path("/proc/self/smaps_rollup").exists():
        pytest.skip("needs Linux's /proc/self/smaps_rollup")
    env = h.base_env("", "http://127.0.0.1:9", str(tmp_path), KYC_OCR_QUOTAS="")  # SQLite in tmp_path
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_COLLECTION], cwd=h.ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    child = json.loads(done.stdout.strip().splitlines()[-1])
    assert child["enabled"]  # the worker still collects what it creates itself
    assert child["copied_kb"] < 2048, child  # 0.1 MB measured; 26 MB without the freeze


# ``manage.py qcluster`` must stop on SIGTERM or Ctrl-C however the signals come: django-q2's own handler
# stops the cluster inside the signal handler, and a second signal during that stop hung the cluster for
# good (django-q2 issue #346; a supervisor then kills it, workers mid-task).
_MIGRATE = """
from bench import pipeline_harness as h
h.setup_django(h.os.environ.copy())
"""


def _start_cluster(tmp_path, env):
    import subprocess
    import sys

    from bench import pipeline_harness as h

    log = tmp_path / "cluster.log"
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=h.ROOT,
        env={**env, "KYC_Q_WORKERS": "2", "KYC_LOG_LEVEL": "INFO"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "running." not in log.read_text():
        assert cluster.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)
    return cluster, log


@pytest.fixture
def cluster_env(tmp_path):
    import subprocess
    import sys

    from bench import pipeline_harness as h

    env = h.base_env("", "http://127.0.0.1:9", str(tmp_path), KYC_OCR_QUOTAS="")  # SQLite in tmp_path
    subprocess.run([sys.executable, "-c", _MIGRATE], cwd=h.ROOT, env=env, check=True, timeout=180)
    return env


@pytest.mark.parametrize(
    "how",
    [
        "a burst of SIGTERMs",
        "SIGINT then SIGTERM",
        "SIGTERM to the process group",
        "the sentinel dies while the stop waits for it",
    ],
)
def test_the_cluster_stops_however_the_stop_signals_come(tmp_path, cluster_env, how):
    import contextlib
    import os
    import signal
    import subprocess

    cluster, log = _start_cluster(tmp_path, cluster_env)
    try:
        if how == "a burst of SIGTERMs":  # a supervisor that repeats itself, or a user who does
            for _ in range(30):
                cluster.send_signal(signal.SIGTERM)
                time.sleep(0.002)
        elif how == "SIGINT then SIGTERM":  # Ctrl-C in a terminal, then a script's own trap
            cluster.send_signal(signal.SIGINT)
            cluster.send_signal(signal.SIGTERM)
        elif how == "SIGTERM to the process group":  # systemd's default KillMode, or `timeout`
            os.killpg(cluster.pid, signal.SIGTERM)
        else:  # what a group SIGTERM can do, made certain: the sentinel dies waiting on the stop event
            (sentinel,) = _children(cluster.pid)  # the cluster's one child; it forks the others
            os.kill(sentinel, signal.SIGSTOP)  # asleep on the stop event, now unable to wake
            cluster.send_signal(signal.SIGTERM)
            time.sleep(1)  # the stop sets the event, which waits for the sentinel to wake
            os.kill(sentinel, signal.SIGKILL)  # it never will
        assert cluster.wait(timeout=30) == 0, log.read_text()[-2000:]
    except subprocess.TimeoutExpired:
        pytest.fail("the cluster did not stop: " + log.read_text()[-2000:])
    finally:  # whatever a failed assertion left running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def test_a_killed_sentinel_takes_its_workers_with_it(tmp_path, cluster_env):
    """A sentinel killed outright left its workers, pusher and monitor running, unguarded; a supervisor's
    restart then ran a second set beside them."""
    import contextlib
    import os
    import signal

    cluster, log = _start_cluster(tmp_path, cluster_env)
    try:
        (sentinel,) = _children(cluster.pid)
        forked = _children(sentinel)
        assert len(forked) >= 4, forked  # two workers, the pusher and the monitor
        os.kill(sentinel, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (alive := [pid for pid in forked if _running(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive == [], log.read_text()[-2000:]
        assert cluster.wait(timeout=30) == 0  # and the cluster's main process exits, as after a stop
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
