"""``manage.py qcluster``: django-q2's command, after loading what every job needs in this process, so
the workers it forks share it instead of each loading it on its first task (see ``kyc.workers.preload``).
The kyc app comes before django_q in INSTALLED_APPS so that this command is the one Django runs.

It also stops the cluster safely. django-q2's signal handler calls ``Cluster.stop()`` itself, in signal
context: a signal that lands while the main thread holds the stop event's lock, or a second SIGTERM or
Ctrl-C during the first stop, blocks for good (django-q2 issue #346). Here the handler only notes the
signal and the main thread stops the cluster, once.

Setting the stop event can block for good too: a multiprocessing ``Event.set()`` waits until every
process waiting on the event has woken, and a sentinel killed while it waits (a SIGTERM to the whole
process group kills it as well: systemd's default ``KillMode``, ``timeout``) never wakes. So the stop runs
in a helper thread, and the main thread gives up on it once the sentinel is gone: there is nothing left
to stop. Either way the cluster exits instead of logging "stopping" and hanging until a supervisor kills
it.

Every process the cluster forks dies with the process that forked it (Linux's ``PR_SET_PDEATHSIG``): a
sentinel killed outright (kill -9, the OOM killer) left its workers, pusher and monitor running with
nothing to guard their timeouts, and a supervisor restarting the cluster then ran a second set beside
them. Their documents are safe either way: a call cut short is an unknown-outcome attempt that the
reaper recovers once its lease ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as QClusterCommand

from kyc.workers import preload

log = logging.getLogger(__name__)
POLL = 0.2  # seconds between the main loop's looks at a noted signal and at the sentinel


PR_SET_PDEATHSIG = 1  # linux/prctl.h
_forked_by = {"pid": 0}  # the pid of the process about to fork (read by the child it forks)


def die_with_parent() -> bool:
    """Have every process that this one, or any of its descendants, forks from now on killed when the
    process that forked it dies. False where ``prctl`` is not available (not Linux): nothing changes."""
    if not hasattr(os, "register_at_fork"):
        return False
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl
    except (OSError, AttributeError):
        return False

    def child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _forked_by["pid"]:  # the parent died between the fork and the prctl
            os._exit(1)

    os.register_at_fork(before=lambda: _forked_by.update(pid=os.getpid()), after_in_child=child)
    return True


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
        stopper = threading.Thread(target=self.stop, name="qcluster-stop", daemon=True)
        stopper.start()
        while stopper.is_alive() and self.sentinel.is_alive():  # a dead sentinel may leave stop() blocked
            stopper.join(POLL)


class Command(QClusterCommand):  # type: ignore[misc]
    def handle(self, *args: Any, **options: Any) -> None:
        log.info("preloaded %d modules for the workers", len(preload()))
        settings.SECRET_KEY  # noqa: B018 - as django-q2's command: signing needs it, fail before forking
        if options.get("cluster_name"):  # before the cluster exists (its name is the broker's queue name)
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        die_with_parent()
        SafeStopCluster().run(once=bool(options.get("run_once")))
