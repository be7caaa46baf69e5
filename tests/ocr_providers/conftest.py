"""Loopback fixtures: a fresh emulator per test and providers pointed at it (no vendor is ever contacted)."""

from __future__ import annotations

import base64

import pytest

from ocr_providers.base import ProviderConfig
from ocr_providers.emulator import VendorEmulator
from ocr_providers.huawei import HuaweiOcrProvider
from ocr_providers.tencent import TencentOcrProvider

TENCENT_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
TENCENT_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
HUAWEI_AK = "HPUAEXAMPLEAK0000000"
HUAWEI_SK = "EXAMPLESECRETKEY000000000000000000000000"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
# A tiny JPEG-looking payload: the emulator never decodes images unless a reader is plugged in.
IMAGE = base64.b64decode("/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP8=")


@pytest.fixture
def emulator():
    with VendorEmulator() as emu:
        yield emu


def tencent_config(url: str, **overrides) -> ProviderConfig:
    values = dict(
        name="tencent", endpoint=url, region="ap-guangzhou", secret_id=TENCENT_ID, secret_key=TENCENT_KEY,
        connect_timeout=2.0, read_timeout=5.0, deadline=10.0,
    )  # fmt: skip
    return ProviderConfig(**{**values, **overrides})


def huawei_config(url: str, *, token: bool = False, **overrides) -> ProviderConfig:
    values = dict(
        name="huawei", endpoint=url, region="ap-southeast-1", project_id=PROJECT, connect_timeout=2.0,
        read_timeout=5.0, deadline=10.0,
    )  # fmt: skip
    if token:
        values |= dict(iam_endpoint=url, iam_username="example-user", iam_password="example-password",
                       iam_domain="example-domain")  # fmt: skip
    else:
        values |= dict(secret_id=HUAWEI_AK, secret_key=HUAWEI_SK)
    return ProviderConfig(**{**values, **overrides})


@pytest.fixture
def tencent(emulator):
    provider = TencentOcrProvider(tencent_config(emulator.url))
    yield provider
    provider.close()


@pytest.fixture
def huawei(emulator):
    provider = HuaweiOcrProvider(huawei_config(emulator.url))
    yield provider
    provider.close()


@pytest.fixture
def huawei_token(emulator):
    provider = HuaweiOcrProvider(huawei_config(emulator.url, token=True))
    yield provider
    provider.close()
