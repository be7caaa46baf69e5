"""``manage.py qcluster``: django-q2's command, after loading what every job needs in this process, so
the workers it forks share it instead of each loading it on its first task (see ``kyc.workers.preload``).
The kyc app comes before django_q in INSTALLED_APPS so that this command is the one Django runs."""

from __future__ import annotations

import logging
from typing import Any

from django_q.management.commands.qcluster import Command as QClusterCommand

from kyc.workers import preload

log = logging.getLogger(__name__)


class Command(QClusterCommand):  # type: ignore[misc]  # django-q2 ships no type hints
    def handle(self, *args: Any, **options: Any) -> None:
        log.info("preloaded %d modules for the workers", len(preload()))
        super().handle(*args, **options)
