"""Settings come from the environment only, through validating readers, and every one is documented."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kyc import env

ROOT = Path(__file__).resolve().parent.parent


def _variables_read_by_settings() -> set[str]:
    tree = ast.parse((ROOT / "kyc" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.startswith("env_")
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_every_variable_is_listed_in_env_example():
    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#") and "=" in line
    }
    read = _variables_read_by_settings()
    assert len(read) > 40
    assert read - listed == set()


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "KYC_FIELD_KEYS", "KYC_BLIND_INDEX_KEY"])
def test_secrets_have_no_default_outside_debug(name):
    code = "import kyc.settings"
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "KYC_FIELD_KEYS": "a:" + "A" * 43 + "=",
        "KYC_BLIND_INDEX_KEY": "y" * 40,
        "KYC_VAR_DIR": "/tmp/kyc-t",
    }
    environment.pop(name)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr


def test_readers_refuse_malformed_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "perhaps")
    monkeypatch.setenv("X_INT", "ten")
    monkeypatch.setenv("X_LOW", "0")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL must be one of"):
        env.env_bool("X_BOOL")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be a whole number"):
        env.env_int("X_INT", 1)
    with pytest.raises(ImproperlyConfigured, match="X_LOW must be at least 1"):
        env.env_int("X_LOW", 1, minimum=1)


def test_database_url_selects_postgresql():
    config = env.database_from_url("postgres://u:p%40ss@db.internal:6543/kyc?sslmode=require")
    assert (config["ENGINE"], config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "kyc.db.postgresql",
        "kyc",
        "u",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert config["OPTIONS"] == {"sslmode": "require", "server_side_binding": True, "prepare_threshold": 5}
    assert env.database_from_url("postgres://h/kyc?server_side_binding=off")["OPTIONS"]["server_side_binding"] is False
    assert env.database_from_url("postgres://h/kyc?prepare_threshold=none")["OPTIONS"]["prepare_threshold"] is None
    assert env.database_from_url("postgres://h/kyc?prepare_threshold=2")["OPTIONS"]["prepare_threshold"] == 2
    for bad in ("soon", "-1"):
        with pytest.raises(ImproperlyConfigured, match="prepare_threshold"):
            env.database_from_url(f"postgres://h/kyc?prepare_threshold={bad}")
    with pytest.raises(ImproperlyConfigured, match="scheme"):
        env.database_from_url("mysql://x/y")


def test_connections_are_reused_and_checked(settings):
    """Persistent connections with a health check: a new PostgreSQL backend per task, per result save and
    per broker poll cost more CPU than the tasks themselves."""
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 300
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert settings.Q_CLUSTER["save_limit"] == -1


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_prepares_the_statements_a_worker_repeats():
    """Django turns psycopg's preparing off unless OPTIONS asks for it: a repeated ORM read must end up
    as a server-side prepared statement (PostgreSQL then skips parsing and planning it)."""
    from django.db import connection

    from kyc.models import Document

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(6):
        Document.objects.filter(status="queued").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("kyc_document" in statement for statement in prepared), prepared


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # an idle connection, as a worker's is between tasks
def test_the_health_check_before_a_task_costs_no_round_trip_and_still_catches_a_closed_connection():
    """django-q2 has Django check the kept connection before each task. An idle connection with nothing
    to read is taken as usable without a ``SELECT 1``; one the server has ended (its FATAL message and
    the socket's end are there to read) is found unusable, and the task's first statement gets a new one."""
    from django.db import close_old_connections, connections

    from tests.support import RoundTrips, terminate_backend

    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("the check is PostgreSQL's")
    assert type(connection).__module__ == "kyc.db.postgresql.base"
    connection.ensure_connection()
    with RoundTrips() as trips:
        close_old_connections()  # what django-q2 does before each task
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2")
    assert trips.count == 1  # the task's own statement, no SELECT 1 before it
    first = terminate_backend(connection)
    assert not connection.is_usable()
    close_old_connections()
    with connection.cursor() as cursor:  # the health check closed it: a new backend serves the task
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != first
