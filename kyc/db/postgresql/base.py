"""Django's PostgreSQL backend, with a health check that needs no round trip when the connection shows no
sign of trouble.

With ``CONN_HEALTH_CHECKS``, Django checks a kept connection before its first use in each request, and
django-q2 has it do so before each task: ``SELECT 1``, a round trip of its own. A server that ends an idle
connection (a restart, ``pg_terminate_backend``, ``idle_session_timeout``, a pooler closing it) writes its
FATAL message and closes the socket, so the socket has something to read. An idle connection whose
socket has nothing to read is taken as usable without asking the server; anything else (something to
read, a transaction still open, a socket that cannot be polled) gets Django's ``SELECT 1`` as before. A
peer that vanished without a word (a cut network) is caught by neither check: the first statement then
waits for the socket's timeout, as it would have waited in ``SELECT 1``.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.pgconn.transaction_status == pq.TransactionStatus.IDLE and hasattr(select, "poll"):
            try:
                poller = select.poll()
                poller.register(connection.fileno(), select.POLLIN)
                quiet = not poller.poll(0)  # POLLIN, POLLHUP or POLLERR: something to read, or trouble
            except (OSError, ValueError):  # a socket that cannot be polled: ask the server
                quiet = False
            if quiet:
                return True
        return bool(super().is_usable())
