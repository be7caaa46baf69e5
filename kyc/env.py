"""Small validating readers for environment variables (every one is listed in .env.example)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_secret(name: str, *, debug: bool, dev_default: str) -> str:
    """A secret: required outside DEBUG; in DEBUG an obviously dev-only default is allowed."""
    value = env_str(name)
    if value:
        return value
    if debug:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example)")


PREPARE_THRESHOLD = 5  # psycopg's own default, which Django overrides with None


def _prepare_threshold(value: str) -> int | None:
    if value.lower() in {"none", "off", "no", "false", ""}:
        return None
    try:
        threshold = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"DATABASE_URL: prepare_threshold must be a number or none, not {value!r}") from None
    if threshold < 0:
        raise ImproperlyConfigured("DATABASE_URL: prepare_threshold must be 0 or more (or none)")
    return threshold


def database_from_url(url: str) -> dict[str, object]:
    """``postgres://user:pass@host:port/name?sslmode=require`` or ``sqlite:///path`` to a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parsed.path[1:] if parsed.path.startswith("//") else parsed.path),
        }
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL scheme must be postgres:// or sqlite:///, not {parsed.scheme!r}")
    # Server-side parameter binding, and psycopg preparing a statement once it has run five times on a
    # connection (Django turns preparing off unless asked): PostgreSQL then skips parsing and planning
    # the statements a worker repeats for every job, a third of its CPU per job (bench/pipeline_job_cost.py).
    # Behind a pooler that cannot keep prepared statements, add ?prepare_threshold=none to the URL.
    options: dict[str, object] = {"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD}
    for key, values in parse_qs(parsed.query).items():
        value = values[-1]
        if key == "server_side_binding":
            options[key] = value.lower() in {"1", "true", "yes", "on"}
        elif key == "prepare_threshold":
            options[key] = _prepare_threshold(value)
        else:
            options[key] = value
    return {
        "ENGINE": "kyc.db.postgresql",  # Django's, with a health check that costs no round trip (kyc/db)
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
    }
