"""The engine runs with no network at all and only ever loads the bundled, hash-pinned models."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ocr_providers.exceptions import OcrMisconfigured
from ocr_providers.local.engine import MODEL_SHA256, model_paths, threads_for, verify_models

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import socket
from kyc.specimens import render_specimen
from ocr_providers.base import OcrRequest, ProviderConfig
from ocr_providers.local import LocalOcrProvider

# No interface exists under unshare -n; refuse sockets too in case the namespace was not available.
def _no_network(*args, **kwargs):
    raise OSError("network disabled in this test")
socket.socket.connect = _no_network
socket.create_connection = _no_network
jpeg, record = render_specimen("exit_entry_permit", "front", 7, 0, "clean")
result = LocalOcrProvider(ProviderConfig(name="local")).recognize(OcrRequest(image=jpeg))
assert result.fields["document_number"].value == record["truth"]["document_number"], result.fields
print("OFFLINE-OK")
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.ocr
def test_recognizes_with_the_network_removed():
    command = [sys.executable, "-c", SCRIPT]
    if _unshare_works():
        command = ["unshare", "-rn", *command]  # a new network namespace: not even loopback is up
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "OFFLINE-OK" in done.stdout


def test_models_are_the_bundled_files_with_pinned_hashes():
    paths = model_paths()
    assert {p.name for p in paths.values()} == set(MODEL_SHA256)
    assert all(p.parent.name == "models" and p.parent.parent.name == "rapidocr" for p in paths.values())


def test_a_tampered_model_is_refused(tmp_path):
    for name in MODEL_SHA256:
        (tmp_path / name).write_bytes(b"not the model")
    with pytest.raises(OcrMisconfigured):
        verify_models(tmp_path)


def test_threads_are_cores_divided_by_workers():
    assert threads_for({"cores": 8, "ocr_workers": 4}) == 2
    assert threads_for({"cores": 2, "ocr_workers": 3}) == 1
    assert threads_for({"threads": 3}) == 3
