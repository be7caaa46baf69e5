"""Private file storage: files under KYC_PRIVATE_ROOT with random names and no URL at all, so no
template or serializer can leak a public link. Only authenticated, audited views read them."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import FileSystemStorage, storages


class PrivateStorage(FileSystemStorage):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("base_url", None)
        super().__init__(base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700, **kwargs)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("private files have no URL; serve them through an audited view")


def private_storage() -> PrivateStorage:
    storage = storages["private"]
    assert isinstance(storage, PrivateStorage)  # noqa: S101 - a wiring error, caught at first use
    return storage
