"""Unscripted emulator answers read from the image: the offline engine as the emulator's reader.

A specimen posted to a vendor action the emulator was not scripted for comes back, through the real
vendor client, with the specimen's own fields; an image with no document, or with another document
than the action reads, gets that vendor's own error.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ocr_providers.base import OcrField, OcrRequest, OcrResult
from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator import SAMPLES, Unreadable, VendorEmulator, engine_reader
from ocr_providers.exceptions import OcrRejected
from ocr_providers.huawei import HuaweiOcrProvider
from ocr_providers.tencent import TencentOcrProvider

from .conftest import huawei_config, tencent_config

HK, PP, MTP = DocumentType.HK_ID_CARD, DocumentType.CN_PASSPORT, DocumentType.MAINLAND_TRAVEL_PERMIT
F, B = Side.FRONT, Side.BACK


class StubEngine:
    """A recogniser that returns one canned result, or raises the rejection it was given."""

    def __init__(self, result: OcrResult | None = None, error: Exception | None = None) -> None:
        self.result, self.error, self.requests = result, error, []

    def recognize(self, request: OcrRequest) -> OcrResult:
        self.requests.append(request)
        if self.error:
            raise self.error
        return self.result  # type: ignore[return-value]


def _result(doc: DocumentType, side: Side, **values: object) -> OcrResult:
    fields = {k: OcrField(value=v, raw=str(v), confidence=0.99, source="vendor") for k, v in values.items()}
    return OcrResult(provider="local", action="local", document_type=doc, side=side, fields=fields)


def test_reader_hands_the_engines_canonical_values_and_detected_side():
    engine = StubEngine(_result(MTP, B, hkid_name="CHAN, TAI MAN", hkid_number="A123456(3)"))
    read = engine_reader(engine)
    assert read(b"jpeg", MTP, F) == (MTP, B, {"hkid_name": "CHAN, TAI MAN", "hkid_number": "A123456(3)"})
    assert engine.requests[0].document_type is MTP


def test_reader_turns_a_rejection_into_unreadable():
    read = engine_reader(StubEngine(error=OcrRejected("nothing there", code="not_a_document")))
    with pytest.raises(Unreadable):
        read(b"jpeg", HK, F)


def test_wrong_document_gets_the_vendors_no_card_error():
    reader = engine_reader(StubEngine(_result(PP, F, **SAMPLES[(PP, F)])))
    with VendorEmulator(reader=reader) as emu:
        tencent = TencentOcrProvider(tencent_config(emu.url))
        with pytest.raises(OcrRejected) as caught:
            tencent.recognize(OcrRequest(image=b"\xff\xd8x", document_type=HK, side=F))
        assert caught.value.code == "wrong_document_type"
        assert emu.count(vendor="tencent", outcome="FailedOperation.NoHKIDCard") == 1


# --- the real engine ---------------------------------------------------------------------------------

specimens = pytest.importorskip("kyc.specimens")


@pytest.fixture(scope="module")
def engine_emulator():
    with VendorEmulator(reader=engine_reader()) as emu:
        yield emu


def _specimen(doc: str, side: str, index: int = 0):
    try:
        return specimens.render_specimen(doc, side, seed=2026, index=index)
    except specimens.FontMissing as exc:  # pragma: no cover - depends on the machine's fonts
        pytest.skip(f"specimen fonts missing: {exc}")


@pytest.mark.ocr
@pytest.mark.parametrize(
    ("vendor", "action", "doc", "side", "checked"),
    [
        ("tencent", "HKIDCardOCR", HK, F, ("name_zh", "name_en", "birth_date", "document_number")),
        ("huawei", "passport", PP, F, ("surname_en", "document_number", "birth_date", "expiry_date")),
        ("tencent", "MainlandPermitOCR", MTP, B, ("hkid_name", "hkid_number")),
    ],
    ids=lambda v: str(v),
)
def test_unscripted_request_returns_the_specimens_fields(engine_emulator, vendor, action, doc, side, checked):
    jpeg, record = _specimen(doc.value, side.value)
    if vendor == "tencent":
        provider = TencentOcrProvider(tencent_config(engine_emulator.url, read_timeout=30.0, deadline=60.0))
    else:
        provider = HuaweiOcrProvider(huawei_config(engine_emulator.url, read_timeout=30.0, deadline=60.0))
    try:
        result = provider.recognize(OcrRequest(image=jpeg, document_type=doc, side=side, action=action))
    finally:
        provider.close()
    assert (result.document_type, result.side) == (doc, side)
    assert {k: result.fields[k].value for k in checked} == {k: record["truth"][k] for k in checked}
    assert engine_emulator.count(vendor=vendor, action=action, outcome="ok") >= 1


@pytest.mark.ocr
def test_unscripted_request_with_no_document_is_refused_as_the_vendor_would(engine_emulator):
    blank = io.BytesIO()
    Image.new("RGB", (640, 400), "white").save(blank, "JPEG")
    provider = HuaweiOcrProvider(huawei_config(engine_emulator.url, read_timeout=30.0, deadline=60.0))
    try:
        with pytest.raises(OcrRejected) as caught:
            provider.recognize(OcrRequest(image=blank.getvalue(), document_type=HK, side=F))
    finally:
        provider.close()
    assert caught.value.code == "unreadable_image"
    assert engine_emulator.count(vendor="huawei", outcome="AIS.0105") == 1


def test_numbered_samples_give_each_image_its_own_numbers_with_right_check_digits():
    from ocr_providers.checkdigits import hkid_is_valid
    from ocr_providers.emulator.samples import numbered_sample, numbered_samples_reader
    from ocr_providers.machine_codes import parse_eep, parse_mtp, parse_td3

    parsers = {PP: parse_td3, DocumentType.EXIT_ENTRY_PERMIT: parse_eep, MTP: parse_mtp}
    numbers = {"document_number", "hkid_number", "mrz", "machine_code"}
    for (doc, side), sample in SAMPLES.items():
        one, again, two = (numbered_sample(image, doc, side) for image in (b"image one", b"image one", b"image two"))
        assert one == again  # the same image, the same document
        assert {k: v for k, v in one.items() if k not in numbers} == {
            k: v for k, v in sample.items() if k not in numbers
        }
        for name in ("document_number", "hkid_number"):
            if name in sample:
                assert one[name] != two[name] != sample[name]
                if doc is HK or name == "hkid_number":
                    assert hkid_is_valid(one[name]), one[name]
        code = one.get("mrz") or one.get("machine_code")
        if code:
            parsed = parsers[doc](code.split("\n"))
            assert all(parsed.checks.values()), (doc, parsed.checks)
            assert parsed.fields["document_number"] == one["document_number"]
            assert parsed.fields["birth_date"] == one["birth_date"]
            assert parsed.fields["expiry_date"] == one["expiry_date"]
    assert numbered_samples_reader()(b"image one", MTP, B) == (MTP, B, numbered_sample(b"image one", MTP, B))


def test_the_emulator_answers_numbered_samples_through_a_real_client():
    from ocr_providers.emulator.samples import numbered_sample, numbered_samples_reader

    with VendorEmulator(reader=numbered_samples_reader()) as emu:
        provider = TencentOcrProvider(tencent_config(emu.url))
        results = [
            provider.recognize(OcrRequest(image=image, document_type=HK, side=F, action="HKIDCardOCR"))
            for image in (_png("one"), _png("two"))
        ]
    numbers = [result.fields["document_number"].value for result in results]
    assert numbers == [numbered_sample(_png(text), HK, F)["document_number"] for text in ("one", "two")]
    assert numbers[0] != numbers[1]


def _png(text: str) -> bytes:
    image = Image.new("RGB", (64, 40), (255, 255, 255))
    image.putpixel((1, 1), tuple(text.encode()[:3]))  # another text, another image
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
