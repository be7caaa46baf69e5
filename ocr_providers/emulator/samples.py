"""FIXED SAMPLE ANSWERS: what the emulator says when nobody scripted it and no reader is plugged in.

These are synthetic canonical values, one set per document side, formatted per vendor action by
``formats``. They do not depend on the image sent. ``VendorEmulator(reader=engine_reader())`` (the
default of ``manage.py ocr_emulator``; ``--samples`` keeps these) answers with what the offline engine
reads in the image instead.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from ocr_providers.checkdigits import hkid_check_char
from ocr_providers.documents import DocumentType, Side

__all__ = ["PORTRAIT_B64", "SAMPLES"]


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
