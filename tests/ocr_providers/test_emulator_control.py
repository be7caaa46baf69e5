"""Scripting the emulator from another process: the control endpoints and ``manage.py ocr_emulator``."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest

from ocr_providers.base import OcrRequest
from ocr_providers.documents import DocumentType
from ocr_providers.emulator import Answer, EmulatorControl, Fault, VendorError
from ocr_providers.emulator.formats import format_tencent_hkid_card_ocr
from ocr_providers.emulator.samples import SAMPLES
from ocr_providers.exceptions import OcrError, OcrRejected, OcrUnknownOutcome
from ocr_providers.tencent import TencentOcrProvider

from .conftest import IMAGE, tencent_config

HKID = OcrRequest(image=IMAGE, document_type=DocumentType.HK_ID_CARD)
ROOT = Path(__file__).resolve().parents[2]


def test_control_endpoints_script_answers_errors_and_faults(emulator):
    control = EmulatorControl(emulator.url)
    truth = {**SAMPLES[(DocumentType.HK_ID_CARD, "front")], "name_zh": "何家明"}
    control.script(
        "HKIDCardOCR",
        Answer(format_tencent_hkid_card_ocr(truth)),
        VendorError("FailedOperation.NoHKIDCard", "no card"),
        Fault("malformed_json"),
    )
    provider = TencentOcrProvider(tencent_config(emulator.url))
    assert provider.recognize(HKID).fields["name_zh"].value == "何家明"
    with pytest.raises(OcrRejected):
        provider.recognize(HKID)
    with pytest.raises(OcrUnknownOutcome):
        provider.recognize(HKID)
    outcomes = [c["outcome"] for c in control.calls()]
    assert outcomes == ["ok", "FailedOperation.NoHKIDCard", "fault:malformed_json"]
    control.reset()
    assert control.calls() == []


def test_control_rejects_nonsense(emulator):
    with pytest.raises(ValueError):
        EmulatorControl(emulator.url)._post("script", {"action": "X", "replies": [{"bogus": 1}]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_manage_py_ocr_emulator_serves_and_is_scriptable():
    port = _free_port()
    command = [
        sys.executable,
        "manage.py",
        "ocr_emulator",
        "--port",
        str(port),
        "--quota",
        "HKIDCardOCR=1/s",
        "--samples",
    ]
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        control = EmulatorControl(f"http://127.0.0.1:{port}")
        for _ in range(200):  # wait for the port, bounded by attempts rather than by time
            try:
                control.calls()
                break
            except OcrError:
                time.sleep(0.05)
        control.script("HKIDCardOCR", VendorError("FailedOperation.NoHKIDCard"))
        with pytest.raises(OcrRejected):
            TencentOcrProvider(tencent_config(control.base_url)).recognize(HKID)
        assert [c["outcome"] for c in control.calls()] == ["FailedOperation.NoHKIDCard"]
    finally:
        process.terminate()
        process.wait(timeout=10)


class _ServeOnce:
    """Stands in for ``VendorEmulator`` in the command: records its arguments, stops at once."""

    built: ClassVar[list[dict]] = []

    def __init__(self, **kwargs) -> None:
        self.built.append(kwargs)
        self.url = "http://127.0.0.1:1"

    def serve_forever(self) -> None:
        raise KeyboardInterrupt

    def close(self) -> None:
        pass


def test_manage_py_ocr_emulator_reads_images_with_the_engine_unless_samples(monkeypatch):
    from django.core.management import call_command

    from kyc.management.commands import ocr_emulator

    _ServeOnce.built = []
    monkeypatch.setattr(ocr_emulator, "VendorEmulator", _ServeOnce)
    monkeypatch.setattr(ocr_emulator, "engine_reader", lambda: "engine")
    out = io.StringIO()
    call_command("ocr_emulator", "--port", "1", stdout=out)
    call_command("ocr_emulator", "--port", "1", "--samples", stdout=out)
    assert [b["reader"] for b in _ServeOnce.built] == ["engine", None]
    assert "read from the image by the offline engine" in out.getvalue()


def test_manage_py_ocr_emulator_fails_in_the_ways_asked(monkeypatch):
    from django.core.management import CommandError, call_command

    from kyc.management.commands import ocr_emulator
    from ocr_providers.emulator import FAIL_WAYS, RETRYABLE_FAIL_WAYS

    _ServeOnce.built = []
    monkeypatch.setattr(ocr_emulator, "VendorEmulator", _ServeOnce)
    out = io.StringIO()
    for ways in ([], ["--fail-ways", "all"], ["--fail-ways", "timeout,unreadable"]):
        call_command("ocr_emulator", "--port", "1", "--samples", "--fail-rate", "0.2", *ways, stdout=out)
    assert [b["fail_ways"] for b in _ServeOnce.built] == [RETRYABLE_FAIL_WAYS, FAIL_WAYS, ("timeout", "unreadable")]
    with pytest.raises(CommandError, match=r"--fail-ways: unknown ways to fail \['sleepy'\]"):
        call_command("ocr_emulator", "--port", "1", "--samples", "--fail-ways", "timeout,sleepy", stdout=out)
    with pytest.raises(CommandError, match="--fail-ways: no way to fail given"):
        call_command("ocr_emulator", "--port", "1", "--samples", "--fail-ways", ",", stdout=out)
