"""What a django-q2 worker process does when it starts: warm the offline OCR engine.

django-q2 sends ``post_spawn`` from inside each newly spawned worker process (``django_q.worker``),
before the worker takes its first task. The offline engine loads its ONNX models lazily on the first
inference (OFFLINE-OCR.md pitfall 11), so without this the first document each worker reads pays
for the load. Only the per-process instance from ``kyc.services.providers.provider_for`` is warmed, so
the pipeline reuses exactly the engine that was loaded here. Web processes never receive the signal.
"""

from __future__ import annotations

import logging
from typing import Any

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


def connect() -> None:
    """Connect the worker-start receivers (called once from ``KycConfig.ready``)."""
    from django_q.signals import post_spawn

    post_spawn.connect(worker_build_providers, dispatch_uid="kyc.workers.worker_build_providers")
    post_spawn.connect(worker_warm_ocr, dispatch_uid="kyc.workers.worker_warm_ocr")
