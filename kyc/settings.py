"""The one settings module. Every value comes from the environment through ``kyc.env``; every variable
is listed in ``.env.example``. Nothing exists only in production."""

from __future__ import annotations

from pathlib import Path

from kyc.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KYC_VAR_DIR", str(BASE_DIR / "var")))

# --- Core (https://docs.djangoproject.com/en/5.2/ref/settings/) ---------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY", debug=DEBUG, dev_default="dev-only-insecure-secret-key-never-in-production"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "kyc.apps.KycConfig",  # before django_q: its qcluster command wraps django-q2's (kyc.workers.preload)
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kyc.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kyc.urls"
WSGI_APPLICATION = "kyc.wsgi.application"
ASGI_APPLICATION = "kyc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kyc.context_processors.ocr_alerts",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL (psycopg 3) via DATABASE_URL ----------------------------
_database_url = env_str("DATABASE_URL")
if not _database_url:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its SQLite file here
DATABASES = {
    "default": database_from_url(_database_url)
    if _database_url
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "kyc.sqlite3",
        # WAL + a busy timeout let the web server and the worker share the file.
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
    }
}
# Persistent connections, checked before reuse (on PostgreSQL without a round trip when the socket shows
# nothing amiss: kyc/db/postgresql). No psycopg pool: django-q2 forks its workers, and it closes
# every connection before it forks (django_q/cluster.py), so a child never inherits its parent's socket.
# With CONN_MAX_AGE=0 each task, each result save and each broker poll opened a new PostgreSQL backend.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("KYC_DB_CONN_MAX_AGE", 300, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation: English, Traditional and Simplified Chinese -------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "kyc" / "locale"]
TIME_ZONE = env_str("KYC_TIME_ZONE", "Asia/Hong_Kong")
USE_I18N = True
USE_TZ = True

# --- Static files and private media -----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Identity images live under a private root with no URL; only authenticated views serve them.
KYC_PRIVATE_ROOT = Path(env_str("KYC_PRIVATE_ROOT", str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "kyc.storage.PrivateStorage", "OPTIONS": {"location": KYC_PRIVATE_ROOT}},
}
# Uploads: the web server should cap bodies too (RELIABILITY.md 4.2).
KYC_UPLOAD_MAX_BYTES = env_int("KYC_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = KYC_UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000

# --- Personal data at rest --------------------------------------------------------------------------
# KYC_FIELD_KEYS: comma-separated "key_id:base64(32 bytes)"; the first key encrypts, all decrypt.
KYC_FIELD_KEYS = env_secret(
    "KYC_FIELD_KEYS", debug=DEBUG, dev_default="dev0:ZGV2LW9ubHktZmllbGQta2V5LW5ldmVyLWluLXByb2Q="
)
# A separate key for the HMAC blind index of document numbers (RELIABILITY.md 6.2).
KYC_BLIND_INDEX_KEY = env_secret(
    "KYC_BLIND_INDEX_KEY", debug=DEBUG, dev_default="ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LW5vdC1wcm9k"
)

# --- Security headers --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("KYC_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("KYC_SESSION_SECONDS", 8 * 3600, minimum=60)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- REST framework ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# --- Background jobs (django-q2, ORM broker; see RELIABILITY.md 1.4) ---------------------------------
Q_CLUSTER = {
    "name": "kyc",
    "orm": "default",
    # The ORM broker with one lane per vendor quota, taken in proportion to the quotas (kyc/broker.py).
    "broker_class": "kyc.broker.LaneBroker",
    "workers": env_int("KYC_Q_WORKERS", 2, minimum=1),
    "queue_limit": env_int("KYC_Q_WORKERS", 2, minimum=1),
    "bulk": 1,
    "poll": env_float("KYC_Q_POLL", 0.5),
    "timeout": env_int("KYC_Q_TIMEOUT", 90, minimum=5),
    "retry": env_int("KYC_Q_RETRY", 180, minimum=10),
    "ack_failures": True,  # our own job rows own retries; broker redelivery is for crashes only
    "max_attempts": 5,
    # Successful task rows are not kept (-1): the job state lives in our own rows, and django-q2 prunes
    # kept successes by loading and row-locking all of them on every save. Failures are always kept.
    "save_limit": env_int("KYC_Q_SAVE_LIMIT", -1),
    "recycle": 200,
    "max_rss": env_int("KYC_Q_MAX_RSS_KB", 1_200_000, minimum=100_000),
    "catch_up": False,
    "scheduler": True,
    "label": "Background tasks",
}

# --- OCR vendors and routing --------------------------------------------------------------------------
KYC_OCR = {
    "routes": env_str("KYC_OCR_ROUTES"),  # TYPE=PROVIDER:ACTION[>PROVIDER:ACTION],...
    "quotas": env_str("KYC_OCR_QUOTAS"),  # PROVIDER:ACTION=N (calls per second),...
    "quota_share": env_float("KYC_OCR_QUOTA_SHARE", 0.9),
    "max_attempts": env_int("KYC_OCR_MAX_ATTEMPTS", 4, minimum=1),
    "lease_seconds": env_int("KYC_OCR_LEASE_SECONDS", 120, minimum=5),  # a worker's hold on a document
    "backoff_base": env_float("KYC_OCR_BACKOFF_BASE", 2.0),  # seconds; full jitter, doubled per attempt
    "backoff_cap": env_float("KYC_OCR_BACKOFF_CAP", 300.0),
    "max_quota_wait": env_float("KYC_OCR_MAX_QUOTA_WAIT", 30.0),  # longer waits re-queue the document
    # A worker holds a quota slot at most this far ahead; a document whose slot is further off goes back
    # to the queue (delayed) and frees the worker for other quotas.
    "quota_horizon": env_float("KYC_OCR_QUOTA_HORIZON", 0.5),
    "quota_lead": env_float("KYC_OCR_QUOTA_LEAD", 0.05),  # slots start this far ahead: claim and sign first
    # After this long idle, a quota starts again at 2/3 of its rate and eases to the full rate over as long
    # (kyc/ratelimit.py): calls leave less exactly on time while a burst starts. 0 turns it off.
    "quota_warm_up": env_float("KYC_OCR_QUOTA_WARM_UP", 1.0),
    "connect_timeout": env_float("KYC_OCR_CONNECT_TIMEOUT", 5.0),
    "read_timeout": env_float("KYC_OCR_READ_TIMEOUT", 30.0),
    "deadline": env_float("KYC_OCR_DEADLINE", 45.0),
    # The offline engine: onnxruntime threads = cores // ocr_workers (OCR workers sharing this host).
    "local": {"ocr_workers": env_int("KYC_OCR_LOCAL_WORKERS", 0, minimum=0) or Q_CLUSTER["workers"]},
    "tencent": {
        "secret_id": env_str("TENCENTCLOUD_SECRET_ID"),
        "secret_key": env_str("TENCENTCLOUD_SECRET_KEY"),
        "session_token": env_str("TENCENTCLOUD_SESSION_TOKEN"),
        "region": env_str("TENCENTCLOUD_REGION", "ap-guangzhou"),
        "endpoint": env_str("KYC_TENCENT_ENDPOINT"),
    },
    "huawei": {
        "ak": env_str("HUAWEICLOUD_SDK_AK"),
        "sk": env_str("HUAWEICLOUD_SDK_SK"),
        "project_id": env_str("HUAWEICLOUD_SDK_PROJECT_ID"),
        "iam_username": env_str("HUAWEICLOUD_IAM_USERNAME"),
        "iam_password": env_str("HUAWEICLOUD_IAM_PASSWORD"),
        "iam_domain": env_str("HUAWEICLOUD_IAM_DOMAIN"),
        "region": env_str("HUAWEICLOUD_REGION", "ap-southeast-1"),
        "endpoint": env_str("KYC_HUAWEI_ENDPOINT"),
        "iam_endpoint": env_str("KYC_HUAWEI_IAM_ENDPOINT"),
    },
}
REDIS_URL = env_str("REDIS_URL")

# --- Checks and routing policy ------------------------------------------------------------------------
KYC_EXPIRY_WARNING_DAYS = env_int("KYC_EXPIRY_WARNING_DAYS", 90, minimum=0)

# --- Logging: never keys, tokens, images or personal fields -------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "kyc.logging.RedactFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("KYC_LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
