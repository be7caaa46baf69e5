"""``manage.py ocr_probe`` against the emulator over loopback: no database, no real vendor."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kyc.ocr_config import build_provider, provider_config
from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator import FORMATTERS, Answer, VendorEmulator, VendorError

specimens = pytest.importorskip("kyc.specimens")

# (provider, default action for the type) for a specimen's front side
DEFAULTS = {
    ("tencent", DocumentType.HK_ID_CARD): ("HKIDCardOCR", set()),
    ("tencent", DocumentType.CN_PASSPORT): ("MLIDPassportOCR", set()),
    ("tencent", DocumentType.EXIT_ENTRY_PERMIT): ("MainlandPermitOCR", {"machine_code"}),
    ("tencent", DocumentType.MAINLAND_TRAVEL_PERMIT): ("MainlandPermitOCR", {"machine_code"}),
    ("huawei", DocumentType.HK_ID_CARD): ("hk-id-card", {"card_version"}),
    ("huawei", DocumentType.CN_PASSPORT): ("passport", {"mrz"}),
    ("huawei", DocumentType.EXIT_ENTRY_PERMIT): ("exit-entry-permit", set()),
    ("huawei", DocumentType.MAINLAND_TRAVEL_PERMIT): ("mainland-travel-permit", set()),
}


@pytest.fixture
def emulator(settings):
    with VendorEmulator() as emu:
        ocr = copy.deepcopy(settings.KYC_OCR)
        ocr["tencent"] |= {
            "endpoint": emu.url, "secret_id": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "secret_key": "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "session_token": "",
        }  # fmt: skip
        ocr["huawei"] |= {
            "endpoint": emu.url, "iam_endpoint": emu.url, "ak": "HPUAEXAMPLEAK0000000",
            "sk": "EXAMPLESECRETKEY000000000000000000000000",
            "project_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        }  # fmt: skip
        settings.KYC_OCR = ocr
        yield emu


def _probe(*args: str) -> str:
    out = StringIO()
    call_command("ocr_probe", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("provider", "doc"), sorted(DEFAULTS), ids=lambda v: str(v))
def test_probe_prints_the_fields_of_a_specimen(emulator, tmp_path, provider, doc):
    jpeg, record = specimens.render_specimen(doc, Side.FRONT, seed=2026, index=3)
    action, not_carried = DEFAULTS[(provider, doc)]
    emulator.script(action, Answer(FORMATTERS[(provider, action)](record["truth"], document_type=doc)))
    image = tmp_path / "specimen.jpg"
    image.write_bytes(jpeg)

    data = json.loads(_probe(str(image), "--type", doc.value, "--provider", provider, "--json"))

    assert set(data) >= {"document_type", "side", "fields", "warnings", "portraits", "provider", "action",
                         "request_id"}  # fmt: skip
    assert (data["document_type"], data["provider"], data["action"]) == (doc.value, provider, action)
    expected = {k: v for k, v in record["truth"].items() if k not in not_carried}
    assert {k: f["value"] for k, f in data["fields"].items() if k in expected} == expected
    assert all(set(f) == {"value", "raw", "confidence"} for f in data["fields"].values())


def test_probe_prints_a_readable_table_without_json(emulator, tmp_path):
    image = tmp_path / "x.jpg"
    image.write_bytes(b"\xff\xd8sample")
    text = _probe(str(image), "--type", "hk_id_card", "--provider", "tencent")
    assert "HKIDCardOCR" in text
    assert "document_number" in text


def test_probe_prints_the_classified_error_and_exits_non_zero(emulator, tmp_path):
    image = tmp_path / "x.jpg"
    image.write_bytes(b"\xff\xd8sample")
    emulator.script("passport", VendorError("ModelArts.4204", "Request api error! The API passport is not subscribed."))
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("ocr_probe", str(image), "--type", "cn_passport", "--provider", "huawei", "--json", stdout=out)
    assert caught.value.returncode == 1
    error = json.loads(out.getvalue())["error"]
    assert (error["class"], error["vendor_code"]) == ("configuration", "ModelArts.4204")
    assert "not subscribed" in error["message"]


def test_settings_bridge_maps_each_vendor(settings):
    settings.KYC_OCR = {
        **settings.KYC_OCR,
        "tencent": {"secret_id": "id", "secret_key": "key", "session_token": "", "region": "ap-hongkong",
                    "endpoint": ""},
        "huawei": {"ak": "ak", "sk": "sk", "project_id": "p", "iam_username": "", "iam_password": "",
                   "iam_domain": "", "region": "ap-southeast-1", "endpoint": "", "iam_endpoint": ""},
    }  # fmt: skip
    tencent, huawei = provider_config("tencent"), provider_config("huawei")
    assert (tencent.secret_id, tencent.region) == ("id", "ap-hongkong")
    assert (huawei.secret_id, huawei.secret_key, huawei.project_id) == ("ak", "sk", "p")
    assert "key" not in repr(tencent)
    assert "sk" not in repr(huawei).replace("ask", "")
    assert build_provider("huawei").name == "huawei"
