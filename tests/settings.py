"""Test settings: the real settings with a throwaway private root, a fast hasher and test keys."""

import os
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("KYC_FIELD_KEYS", "t1:dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy4uLi4=")
os.environ.setdefault("KYC_BLIND_INDEX_KEY", "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMtLS0t")
os.environ.setdefault("KYC_VAR_DIR", tempfile.mkdtemp(prefix="kyc-test-var-"))

from kyc.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["NAME"] = ":memory:"  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {}  # noqa: F405
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
