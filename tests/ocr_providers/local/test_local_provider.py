"""The offline provider end to end on generated specimens (engine loaded once per session)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_providers import PROVIDERS, get_provider
from ocr_providers.base import OcrRequest
from ocr_providers.documents import FIELDS, DocumentType, Side
from ocr_providers.exceptions import OcrRejected

pytestmark = pytest.mark.ocr

SIDES = [
    ("hk_id_card", "front"),
    ("cn_passport", "front"),
    ("exit_entry_permit", "front"),
    ("exit_entry_permit", "back"),
    ("mainland_travel_permit", "front"),
    ("mainland_travel_permit", "back"),
]


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_registered_as_local():
    assert PROVIDERS["local"].endswith(":LocalOcrProvider")
    assert get_provider("local").name == "local"


@pytest.mark.parametrize(("doc", "side"), SIDES)
def test_every_type_and_side_reads_every_field(read, doc, side):
    result, record = read(doc, side, hint_type=DocumentType(doc), hint_side=Side(side))
    assert (result.document_type, result.side) == (DocumentType(doc), Side(side))
    got = {n: f.value for n, f in result.fields.items()}
    wrong = {n: (got.get(n), v) for n, v in record["truth"].items() if got.get(n) != v}
    assert not wrong
    assert set(result.fields) <= set(FIELDS[(DocumentType(doc), Side(side))])
    # Confident means right: nothing at >= 0.9 may be wrong (checked above), and missing is absent, not "".
    assert all(f.value not in ("", None) for f in result.fields.values())


@pytest.mark.parametrize(("doc", "condition"), [("cn_passport", "upside_down"), ("hk_id_card", "phone")])
def test_hard_conditions(read, doc, condition):
    result, record = read(doc, "front", condition)
    right = sum(result.fields.get(n) is not None and result.fields[n].value == v for n, v in record["truth"].items())
    assert right >= len(record["truth"]) - 1
    assert all(f.value == record["truth"][n] for n, f in result.fields.items() if (f.confidence or 0) >= 0.9)


def test_type_detected_when_not_given_or_wrong(read):
    unsaid, _ = read("exit_entry_permit", "front")
    assert unsaid.document_type == DocumentType.EXIT_ENTRY_PERMIT
    assert unsaid.detected_type
    wrong, _ = read("mainland_travel_permit", "front", hint_type=DocumentType.CN_PASSPORT)
    assert wrong.document_type == DocumentType.MAINLAND_TRAVEL_PERMIT
    assert wrong.detected_type
    assert wrong.raw["requested"]["document_type"] == "cn_passport"
    right, _ = read("cn_passport", "front", hint_type=DocumentType.CN_PASSPORT)
    assert not right.detected_type


def test_machine_code_fields_are_cross_checked(read):
    result, _ = read("cn_passport", "front")
    assert result.raw["machine_code"]["valid"]
    assert result.fields["document_number"].confidence >= 0.99
    assert result.raw["evidence"]["birth_date"] == "mrz+viz"


def test_portrait_located_near_the_photo_box(read):
    result, record = read("hk_id_card", "front")
    (portrait,) = result.portraits
    x0, y0, x1, y1 = record["layout"]["photo"]
    expected = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    # Within 4% of the card's width: anchors are text boxes, whose padding shifts them a little.
    assert np.abs(np.array(portrait.corners) - np.array(expected)).max() < 40
    assert portrait.image[:2] == b"\xff\xd8"


def test_blank_image_is_not_a_document(provider):
    with pytest.raises(OcrRejected) as excinfo:
        provider.recognize(OcrRequest(image=_jpeg(Image.new("RGB", (1000, 630), (240, 240, 236)))))
    assert excinfo.value.code == "not_a_document"


def test_non_document_text_is_not_a_document(provider):
    image = Image.new("RGB", (1000, 630), "white")
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype("DejaVuSans.ttf", 36)
    for i, line in enumerate(("RECEIPT", "Coffee 2 x 18.00", "TOTAL 36.00", "Thank you")):
        draw.text((60, 60 + 110 * i), line, font=face, fill="black")
    with pytest.raises(OcrRejected) as excinfo:
        provider.recognize(OcrRequest(image=_jpeg(image)))
    assert excinfo.value.code == "not_a_document"


def test_unreadable_bytes_are_rejected(provider):
    with pytest.raises(OcrRejected) as excinfo:
        provider.recognize(OcrRequest(image=b"not an image"))
    assert excinfo.value.code == "unreadable_image"
