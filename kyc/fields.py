"""Encrypted model fields: every value holding personal data is stored through these."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from kyc import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text value stored as AES-GCM ciphertext bound to its column. ``None`` stays NULL."""

    description = "Encrypted text"

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        self._aad = f"{cls._meta.app_label}.{cls._meta.model_name}.{name}"

    def _encode(self, value: Any) -> str:
        return str(value)

    def _decode(self, text: str) -> Any:
        return text

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return crypto.encrypt(self._encode(value), aad=self._aad)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._decode(crypto.decrypt(value, aad=self._aad))

    def to_python(self, value: Any) -> Any:
        return value

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext is randomised: equality or LIKE on it would silently match nothing.
        if lookup_name not in {"isnull"}:
            raise TypeError(f"encrypted fields cannot be searched with '{lookup_name}'; use a blind index")
        return super().get_lookup(lookup_name)


class EncryptedJSONField(EncryptedTextField):
    """Any JSON-serialisable value (lists, dicts, numbers), encrypted as a whole."""

    description = "Encrypted JSON"

    def _encode(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def _decode(self, text: str) -> Any:
        return json.loads(text)
