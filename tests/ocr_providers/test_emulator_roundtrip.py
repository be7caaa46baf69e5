"""Every action of both vendors, over real loopback HTTP: specimen truth -> vendor JSON -> canonical fields.

The emulator is scripted with the vendor-shaped answer that ``format_<vendor>_<action>`` builds from a
synthetic specimen's ground truth; the provider must map it back to the same canonical values.
"""

from __future__ import annotations

import pytest

from ocr_providers.base import OcrRequest
from ocr_providers.documents import FIELDS, DocumentType, Side
from ocr_providers.emulator import FORMATTERS, Answer

specimens = pytest.importorskip("kyc.specimens")

EEP, MTP = DocumentType.EXIT_ENTRY_PERMIT, DocumentType.MAINLAND_TRAVEL_PERMIT
HK, PP = DocumentType.HK_ID_CARD, DocumentType.CN_PASSPORT
F, B = Side.FRONT, Side.BACK

# (vendor, action, document type, side, canonical fields the action does not carry)
CASES = [
    ("tencent", "PermitOCR", EEP, F, {"machine_code"}),
    ("tencent", "HKIDCardOCR", HK, F, set()),
    ("tencent", "PassportOCR", PP, F, set()),
    ("tencent", "MLIDPassportOCR", PP, F, set()),
    ("tencent", "MainlandPermitOCR", EEP, F, {"machine_code"}),
    ("tencent", "MainlandPermitOCR", MTP, F, {"machine_code"}),
    ("tencent", "MainlandPermitOCR", MTP, B, set()),
    ("huawei", "exit-entry-permit", EEP, F, set()),
    ("huawei", "exit-entry-permit", EEP, B, set()),
    ("huawei", "mainland-travel-permit", MTP, F, set()),
    ("huawei", "mainland-travel-permit", MTP, B, set()),
    ("huawei", "passport", PP, F, {"mrz"}),
    ("huawei", "hk-id-card", HK, F, {"card_version"}),
]


def _specimen(doc, side, index):
    try:
        return specimens.render_specimen(doc, side, seed=2026, index=index)
    except specimens.FontMissing as exc:  # pragma: no cover - depends on the machine's fonts
        pytest.skip(f"specimen fonts missing: {exc}")


@pytest.mark.parametrize(("vendor", "action", "doc", "side", "not_carried"), CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("index", [0, 1])
def test_action_returns_the_specimens_canonical_fields(
    request, emulator, vendor, action, doc, side, not_carried, index
):
    provider = request.getfixturevalue(vendor)
    jpeg, record = _specimen(doc, side, index)
    truth = record["truth"]
    emulator.script(action, Answer(FORMATTERS[(vendor, action)](truth, document_type=doc, side=side)))

    result = provider.recognize(OcrRequest(image=jpeg, document_type=doc, side=side, action=action))

    assert (result.document_type, result.side) == (doc, side)
    expected = {k: v for k, v in truth.items() if k not in not_carried}
    assert {k: f.value for k, f in result.fields.items() if k in expected} == expected
    assert set(result.fields) <= set(FIELDS[(doc, side)]) | {"machine_code"}
    assert result.provider == vendor
    assert result.action == action
    assert result.request_id
    confidences = {f.confidence for f in result.fields.values()}
    if vendor == "tencent":
        assert confidences == {None}  # Tencent gives no per-field confidence for these actions
    else:
        assert any(0 < (c or 0) <= 1 for c in confidences)
    assert emulator.count(vendor=vendor, action=action, outcome="ok") == 1


@pytest.mark.parametrize("vendor", ["tencent", "huawei"])
@pytest.mark.parametrize("doc", [HK, PP, EEP, MTP])
def test_unscripted_answers_are_the_fixed_samples_with_portraits(request, emulator, vendor, doc):
    provider = request.getfixturevalue(vendor)
    result = provider.recognize(OcrRequest(image=b"\xff\xd8not-an-image", document_type=doc, side=F))
    assert result.fields, "a fixed sample answer carries values"
    if not (vendor == "huawei" and doc is PP):  # Huawei's passport API has no portrait option
        assert result.portraits
        assert result.portraits[0].content_type == "image/jpeg"
    if vendor == "huawei" and doc is not PP:
        assert result.portraits[0].corners == ((40, 60), (160, 60), (160, 220), (40, 220))
    assert "<base64 stripped" in str(result.raw) or (doc is PP and vendor == "huawei")
