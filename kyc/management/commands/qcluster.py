"""``manage.py qcluster``: django-q2's command, after loading what every job needs in this process, so
the workers it forks share it instead of each loading it on its first task (see ``kyc.workers.preload``).
The kyc app comes before django_q in INSTALLED_APPS so that this command is the one Django runs.

It also stops the cluster from its main loop rather than from inside the signal handler. django-q2's
handler calls ``Cluster.stop()`` itself: ``stop_event.set()`` and ``sentinel.join()`` in signal context.
A signal that lands while the main thread holds the event's lock, or a second SIGTERM or Ctrl-C while
the first stop is still setting the event, then blocks for good (django-q2 issue #346): the cluster
logs "stopping" and never exits, and a supervisor kills it after its timeout, workers mid-task. Here
the handler only notes the signal; the main thread, which holds no lock while it waits, stops the
cluster once, and further signals change nothing.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as QClusterCommand

from kyc.workers import preload

log = logging.getLogger(__name__)
POLL = 0.2  # seconds between the main loop's looks at a noted signal and at the sentinel


class SafeStopCluster(Cluster):  # type: ignore[misc]  # django-q2 ships no type hints
    """django-q2's cluster whose signal handler only notes the signal (``Cluster.__init__`` installs it
    for SIGTERM and SIGINT); ``run`` stops the cluster from the main thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stop_requested = 0  # the signal that asked for the stop (0: none yet)
        super().__init__(*args, **kwargs)

    def sig_handler(self, signum: int, frame: Any) -> None:
        if not self.stop_requested:
            self.stop_requested = signum

    def run(self, *, once: bool = False) -> None:
        """Start, then wait until a signal asks for a stop (or the sentinel dies) and stop once."""
        self.start()
        while not once and not self.stop_requested and self.sentinel.is_alive():
            time.sleep(POLL)
        if self.stop_requested:
            log.info("signal %d: stopping the cluster (workers finish their tasks first)", self.stop_requested)
        self.stop()


class Command(QClusterCommand):  # type: ignore[misc]
    def handle(self, *args: Any, **options: Any) -> None:
        log.info("preloaded %d modules for the workers", len(preload()))
        settings.SECRET_KEY  # noqa: B018 - as django-q2's command: signing needs it, fail before forking
        if options.get("cluster_name"):  # before the cluster exists (its name is the broker's queue name)
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        SafeStopCluster().run(once=bool(options.get("run_once")))
