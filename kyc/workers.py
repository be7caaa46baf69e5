"""What a django-q2 cluster does before it forks its workers (load what every job needs, once) and what each
worker does when it starts (connect to the database, build its vendor clients, warm the offline OCR
engine). Before each task django-q2 has Django check the kept connection; on PostgreSQL that check costs
no round trip while the idle connection's socket is quiet (``kyc.db.postgresql``), so every task checks,
and a connection the server ended (a restart, a failover) is replaced before the task's first statement.

``preload`` runs in the qcluster process before the cluster forks: modules and tables that a job would
otherwise load on first use are then shared by every worker (copy-on-write), instead of being loaded by
all of them at once when a backlog starts, which stalled a 32-worker start on two cores for seconds.
It ends by freezing what it loaded (``freeze_shared``): the workers' garbage collections then leave
those pages shared instead of copying them into every worker.

django-q2 sends ``post_spawn`` from inside each newly spawned worker process (``django_q.worker``),
before the worker takes its first task. The offline engine loads its ONNX models lazily on the first
inference (OFFLINE-OCR.md pitfall 11), so without this the first document each worker reads pays
for the load. Only the per-process instance from ``kyc.services.providers.provider_for`` is warmed, so
the pipeline reuses exactly the engine that was loaded here. Web processes never receive the signal.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections

log = logging.getLogger(__name__)

LOCAL = "local"


def local_ocr_routed() -> bool:
    """Whether any document type's effective route goes through the offline provider."""
    from kyc.services.providers import routes

    return any(step.provider == LOCAL for steps in routes().values() for step in steps)


def worker_warm_ocr(sender: Any = None, proc_name: str = "", **kwargs: Any) -> bool:
    """``post_spawn`` receiver: load the local engine in this worker; ``True`` if it was warmed.

    A failure is logged, not raised: the worker still serves other providers, and the first local
    task reports the same misconfiguration through the pipeline's own error handling.
    """
    if not local_ocr_routed():
        return False
    from kyc.services.providers import provider_for

    provider = provider_for(LOCAL)
    warm = getattr(provider, "warm", None)
    if warm is None:
        return False
    try:
        warm()
    except Exception:
        log.exception("could not warm the local OCR engine in worker %s", proc_name)
        return False
    log.info("local OCR engine warmed in worker %s", proc_name)
    return True


def worker_build_providers(sender: Any = None, proc_name: str = "", **kwargs: Any) -> list[str]:
    """``post_spawn`` receiver: build this worker's vendor clients (HTTP pool, TLS context, signer)
    before its first task, so the first call of each worker does not leave late. Returns their names.
    A provider that cannot be built is left to the first task, which reports why."""
    from kyc.services.providers import provider_for, routes

    built = []
    for name in sorted({step.provider for steps in routes().values() for step in steps} - {LOCAL}):
        try:
            provider_for(name)
        except Exception:
            log.exception("could not build the %s OCR provider in worker %s", name, proc_name)
            continue
        built.append(name)
    return built


def worker_connect(sender: Any = None, proc_name: str = "", **kwargs: Any) -> bool:
    """``post_spawn`` receiver: open this worker's database connection before its first task (a new
    PostgreSQL backend costs a few ms, which a cluster starting with a backlog paid in each worker's first
    job, all at once). ``True`` if connected; a failure is left to the first task, which reports it."""
    try:
        connections["default"].ensure_connection()
    except Exception as error:  # a receiver that raises would kill the worker, and the sentinel respawn it
        log.warning("worker %s could not connect to the database at start (%s)", proc_name, type(error).__name__)
        return False
    return True


# What a job loads on first use: the pipeline, the checks and their tables, routing, the vendor clients'
# modules, Pillow's image plugins (for portraits); ``preload`` also builds the field keys' ciphers and
# reads the time zone. Not the offline engine (OpenCV, onnxruntime): workers that route to it load and
# warm it themselves at spawn, and nothing else needs it.
PRELOAD = (
    "kyc.tasks",
    "kyc.services.ocr",
    "kyc.services.ocr_finish",
    "kyc.services.ocr_queue",
    "kyc.services.results",
    "kyc.services.duplicates",
    "kyc.services.routing",
    "kyc.checks",
    "ocr_providers.tencent.provider",
    "ocr_providers.huawei.provider",
    "kyc.ocr_config",
    "httpcore",  # httpx imports its transport stack (httpcore, h11) when the first client is built
    "encodings.idna",  # httpx encodes the vendor's host name on each request
    "django.db.models.sql.compiler",  # Django imports it with the first query
)


def preload() -> list[str]:
    """Import what every job needs and fill its lazy tables, in the process that forks the workers.
    Returns the modules it imported. Opens no connection, socket or thread: those must not cross a fork."""
    import importlib
    import sys

    from django.utils import timezone
    from PIL import Image

    from kyc import crypto
    from ocr_providers.http import tls_context
    from ocr_providers.local import telecode

    before = set(sys.modules)
    for name in PRELOAD:
        importlib.import_module(name)
    Image.init()
    telecode.decode(["0001"])  # reads the telecode table
    tls_context()  # the CA bundle, parsed once for every worker
    crypto.ciphers_build()  # one AES-GCM object per field key
    timezone.get_default_timezone()  # read from the system's zone files on first use
    freeze_shared()
    return sorted(set(sys.modules) - before)


def freeze_shared() -> None:
    """Move every object this process holds out of the garbage collector's reach, so that the workers it
    forks keep sharing them (the ``gc.freeze`` recipe in Python's documentation for fork without exec).

    A collection writes to every object it examines, and the kernel then copies the page it sits on
    into the worker. A full collection in a worker forked without this copied 26 MB of what was loaded
    above. Warming the offline engine runs one in every new worker (and django-q2 starts a new worker
    after every 200 tasks): with the freeze, warming added 18 to 27 MB less private memory to the
    worker (218 to 227 MB against 245 MB). Vendor-only workers seldom run one (two in 2,099 jobs). The
    objects loaded here live as long as the process anyway. The collector still runs, in every worker,
    over what the worker creates after the fork. It collects first, so that no garbage is frozen."""
    import gc

    gc.collect()
    gc.freeze()


def connect() -> None:
    """Connect the worker-start receivers (called once from ``KycConfig.ready``)."""
    from django_q.signals import post_spawn

    post_spawn.connect(worker_connect, dispatch_uid="kyc.workers.worker_connect")
    post_spawn.connect(worker_build_providers, dispatch_uid="kyc.workers.worker_build_providers")
    post_spawn.connect(worker_warm_ocr, dispatch_uid="kyc.workers.worker_warm_ocr")
