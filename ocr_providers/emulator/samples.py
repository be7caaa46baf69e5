"""FIXED SAMPLE ANSWERS: what the emulator says when nobody scripted it and no reader is plugged in.

These are synthetic canonical values, one set per document side, formatted per vendor action by
``formats``. They do not depend on the image sent. ``VendorEmulator(reader=engine_reader())`` (the
default of ``manage.py ocr_emulator``; ``--samples`` keeps these) answers with what the offline engine
reads in the image instead, and ``reader=numbered_samples_reader()`` these samples with numbers that
depend on the image (the benchmarks: each document its own number, without OCR).
"""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import date
from typing import TYPE_CHECKING, Any

from ocr_providers.checkdigits import hkid_check_char
from ocr_providers.documents import DocumentType, Side
from ocr_providers.machine_codes import build_eep, build_mtp, build_td3

if TYPE_CHECKING:
    from ocr_providers.emulator.state import Reader

__all__ = ["PORTRAIT_B64", "SAMPLES", "numbered_sample", "numbered_samples_reader"]


def _placeholder_portrait() -> bytes:
    """A small, valid JPEG (a grey head-and-shoulders outline), so the pipeline stores the fixed
    samples' portraits as it would a vendor's, instead of discarding them as corrupt."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (60, 80), (214, 220, 226))
    draw = ImageDraw.Draw(image)
    draw.ellipse((18, 10, 42, 40), fill=(150, 150, 158))
    draw.rectangle((10, 46, 50, 80), fill=(120, 124, 134))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


PORTRAIT_B64 = base64.b64encode(_placeholder_portrait()).decode("ascii")

_HKID = "A123456"

SAMPLES: dict[tuple[DocumentType, Side], dict[str, Any]] = {
    (DocumentType.HK_ID_CARD, Side.FRONT): {
        "name_zh": "陳大文", "name_en": "CHAN, TAI MAN", "telecode": "7115 1129 2429", "sex": "M",
        "birth_date": "1985-03-07", "symbols": "***AZ", "first_issue_date": "1999-09-01",
        "issue_date": "2020-01-15", "document_number": f"{_HKID}({hkid_check_char(_HKID)})",
        "permanent": True, "card_version": "2018",
    },
    (DocumentType.CN_PASSPORT, Side.FRONT): {
        "name_zh": "张三", "surname_en": "ZHANG", "given_names_en": "SAN", "sex": "M",
        "birth_date": "1990-01-01", "birth_place": "广东", "nationality": "CHN", "country_code": "CHN",
        "document_number": "E12345678", "issue_date": "2019-05-20", "issue_place": "广东",
        "expiry_date": "2029-05-19",
        "mrz": "POCHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\nE123456780CHN9001011M2905196<<<<<<<<<<<<<<00",
    },
    (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT): {
        "name_zh": "李明", "name_en": "LI, MING", "sex": "M", "birth_date": "1981-08-03",
        "document_number": "C12345678", "issue_date": "2018-10-09", "expiry_date": "2028-10-08",
        "issuing_authority": "公安部出入境管理局", "issue_place": "广东",
        "machine_code": "CSC123456780<2810086<8108036<6", "permit_type": "CS",
    },
    (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK): {
        "endorsements": [{
            "region": "hk", "type": "个人旅游", "valid_round_trips": 1, "valid_until": "2025-06-30",
            "remark": "逗留7天", "issue_info": "广东深圳 2025.01.01",
        }],
    },
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.FRONT): {
        "name_zh": "陈小明", "name_en": "CHAN, SIU MING", "sex": "M", "birth_date": "1992-09-22",
        "document_number": "H12345678", "issue_date": "2020-03-01", "expiry_date": "2030-02-28",
        "issuing_authority": "公安部出入境管理局", "issue_place": "广东", "issue_times": "01",
        "machine_code": "CRH123456788<<<3002281<9209227<8\nSAMPLE<LINE<TWO<<<<<<<<<<<<<<<<"
        "\nSAMPLE<LINE<THREE<<<<<<<<<<<<<<",
        "permit_type": "CR",
    },
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK): {
        "hkid_name": "CHAN, SIU MING", "hkid_number": f"{_HKID}({hkid_check_char(_HKID)})",
    },
}  # fmt: skip


def numbered_samples_reader() -> Reader:
    """A ``Reader`` that answers the FIXED SAMPLE of the requested side, but with its document number (and
    the machine code that carries it, rebuilt with right check digits) derived from the image: another
    image gets other numbers, as another document would, and the same image the same ones. For load
    runs, where every document carrying the same numbers would make each duplicate-number check find
    every document read before it. Costs a SHA-256 of the image, no OCR."""

    def read(image: bytes, document_type: DocumentType, side: Side) -> tuple[DocumentType, Side, dict[str, Any]]:
        return document_type, side, numbered_sample(image, document_type, side)

    return read


def numbered_sample(image: bytes, document_type: DocumentType, side: Side) -> dict[str, Any]:
    """``SAMPLES[(document_type, side)]`` with the numbers derived from ``image`` (see
    ``numbered_samples_reader``)."""
    fields = dict(SAMPLES[(document_type, side)])
    digits = f"{int.from_bytes(hashlib.sha256(image).digest()[:8], 'big') % 10**8:08d}"
    hkid = f"{chr(ord('A') + int(digits[:2]) % 26)}{digits[2:8]}"
    if document_type is DocumentType.HK_ID_CARD:
        fields["document_number"] = f"{hkid}({hkid_check_char(hkid)})"
    elif document_type is DocumentType.MAINLAND_TRAVEL_PERMIT and side is Side.BACK:
        fields["hkid_number"] = f"{hkid}({hkid_check_char(hkid)})"
    elif document_type is DocumentType.CN_PASSPORT:
        fields["document_number"] = number = f"E{digits}"
        fields["mrz"] = "\n".join(
            build_td3(
                issuing_state=fields["country_code"],
                surname=fields["surname_en"],
                given_names=fields["given_names_en"],
                document_number=number,
                nationality=fields["nationality"],
                birth_date=date.fromisoformat(fields["birth_date"]),
                sex=fields["sex"],
                expiry_date=date.fromisoformat(fields["expiry_date"]),
            )
        )
    elif document_type is DocumentType.EXIT_ENTRY_PERMIT and side is Side.FRONT:
        fields["document_number"] = number = f"C{digits}"
        fields["machine_code"] = build_eep(
            document_number=number,
            expiry_date=date.fromisoformat(fields["expiry_date"]),
            birth_date=date.fromisoformat(fields["birth_date"]),
            document_code=fields["permit_type"],
        )
    elif document_type is DocumentType.MAINLAND_TRAVEL_PERMIT:
        fields["document_number"] = number = f"H{digits}"
        surname, _, given = fields["name_en"].partition(", ")
        fields["machine_code"] = "\n".join(
            build_mtp(
                document_number=number,
                expiry_date=date.fromisoformat(fields["expiry_date"]),
                birth_date=date.fromisoformat(fields["birth_date"]),
                name_zh=fields["name_zh"],
                sex=fields["sex"],
                issue_times=fields["issue_times"],
                surname=surname,
                given_names=given,
            )
        )
    return fields
