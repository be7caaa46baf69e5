"""A loopback emulator of Tencent Cloud OCR and Huawei Cloud OCR (see ``ocr_providers/README.md``).

In-process::

    with VendorEmulator(quotas={"HKIDCardOCR": 5}) as emu:
        emu.script("HKIDCardOCR", Answer(format_tencent_hkid_card_ocr(truth)), Fault("timeout"))
        ...  # point a provider's endpoint at emu.url

Out of process: ``python manage.py ocr_emulator --port P`` and ``EmulatorControl("http://127.0.0.1:P")``.
Unscripted answers are FIXED SAMPLES (``samples.SAMPLES``) unless a reader is plugged in:
``VendorEmulator(reader=engine_reader())`` answers with what the offline engine reads in the image, and
``reader=numbered_samples_reader()`` the samples with numbers derived from the image (no OCR).
"""

from ocr_providers.emulator.control import EmulatorControl
from ocr_providers.emulator.formats import FORMATTERS
from ocr_providers.emulator.reader import engine_reader
from ocr_providers.emulator.samples import SAMPLES, numbered_samples_reader
from ocr_providers.emulator.script import (
    FAIL_WAYS,
    FAULT_KINDS,
    RETRYABLE_FAIL_WAYS,
    Answer,
    Fault,
    VendorError,
    fail_ways_checked,
    parse_quota,
)
from ocr_providers.emulator.server import VendorEmulator
from ocr_providers.emulator.state import Credentials, Unreadable

__all__ = [
    "FAIL_WAYS",
    "FAULT_KINDS",
    "FORMATTERS",
    "RETRYABLE_FAIL_WAYS",
    "SAMPLES",
    "Answer",
    "Credentials",
    "EmulatorControl",
    "Fault",
    "Unreadable",
    "VendorEmulator",
    "VendorError",
    "engine_reader",
    "fail_ways_checked",
    "numbered_samples_reader",
    "parse_quota",
]
