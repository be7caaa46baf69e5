"""The two permit cards (ID-1): Exit-Entry Permit (EEP) and Mainland Travel Permit (MTP), both sides.

Fronts: title, photo left, labelled fields right, red number top right, OCR-B machine code at the
bottom (EEP one line, MTP three lines). EEP back: up to three endorsement slots. MTP back: the
holder's HKID name and number plus generic notes."""

from __future__ import annotations

from typing import Any

from kyc.specimens.layouts import CARD, RED, Field, Layout, Text, field_row

NAVY = (30, 60, 110)
SUBTITLES = {
    "CS": "EXIT-ENTRY PERMIT FOR TRAVELLING TO AND FROM HONG KONG AND MACAO",
    "CD": "EXIT-ENTRY PERMIT FOR TRAVELLING TO AND FROM TAIWAN",
    "CR": "MAINLAND TRAVEL PERMIT FOR HONG KONG AND MACAO RESIDENTS",
}
SLOTS = ((36, 96, 500, 600), (510, 96, 974, 600))
NOTES = (
    "持证人须知 Notes",
    "1. 本证为样本，仅供测试使用。 This is a specimen for testing only.",
    "2. 证件信息均为虚构。 All details are fictitious.",
)


def _title(code: str) -> tuple[Field, Text]:
    return (
        Field("permit_type", (36, 18), font="sc_bold", size=34, color=NAVY),
        Text(SUBTITLES[code], (36, 66), font="latin_bold", size=15, color=NAVY),
    )


def eep_front(truth: dict[str, Any]) -> Layout:
    """EEP front (CS blue-green, CD amber)."""
    title, subtitle = _title(truth["permit_type"])
    palette = ((220, 236, 236), (232, 240, 222)) if truth["permit_type"] == "CS" else ((242, 234, 218), (236, 226, 214))
    return Layout(
        size=CARD,
        palette=palette,
        guilloche=(150, 190, 185),
        texts=(subtitle, Text("证件号码 No.", (690, 100), size=15)),
        fields=(
            title,
            Field("document_number", (690, 120), font="latin_bold", size=30, color=RED),
            Field("name_zh", (310, 140), size=36, label="姓名 Name"),
            Field("name_en", (310, 190), font="latin", size=24),
            *field_row(262, ("birth_date", 310, "出生日期 Date of birth"), ("sex", 620, "性别 Sex")),
            Field("validity", (310, 334), font="latin", size=26, label="有效期限 Period of validity"),
            *field_row(
                406,
                ("issuing_authority", 310, "签发机关 Issuing authority"),
                ("issue_place", 690, "签发地点 Place"),
            ),
            Field("machine_code", (55, 525), font="ocrb", width=890, chars=30, pitch=56),
        ),
        photo=(36, 120, 270, 440),
    )


def eep_back(truth: dict[str, Any]) -> Layout:
    """EEP back: endorsement slots side by side; only filled slots are framed."""
    fields: list[Field] = []
    for i, (x0, y0, _, _) in enumerate(SLOTS):
        x, y = x0 + 24, y0 + 20
        fields += [
            Field(f"endorsements.{i}.region", (x, y), font="sc_bold", size=28, color=NAVY),
            Field(f"endorsements.{i}.type", (x, y + 78), size=30, label="签注类别 Type"),
            Field(f"endorsements.{i}.valid_round_trips", (x + 260, y + 78), size=30, label="次数 Trips"),
            Field(f"endorsements.{i}.valid_until", (x, y + 160), size=26),
            Field(f"endorsements.{i}.remark", (x, y + 220), size=26),
            Field(f"endorsements.{i}.issue_info", (x, y + 300), size=24, label="签发 Issued"),
        ]
    return Layout(
        size=CARD,
        palette=((228, 238, 236), (238, 236, 226)),
        guilloche=(160, 195, 190),
        texts=(Text("签注 ENDORSEMENTS", (36, 30), font="sc_bold", size=28, color=NAVY),),
        fields=tuple(fields),
        frames=tuple((f"endorsements.{i}.", box) for i, box in enumerate(SLOTS)),
    )


def mtp_front(truth: dict[str, Any]) -> Layout:
    """MTP front with the (reconstructed) three-line CR machine code at the bottom."""
    title, subtitle = _title("CR")
    return Layout(
        size=CARD,
        palette=((238, 228, 214), (226, 232, 240)),
        guilloche=(200, 175, 150),
        texts=(subtitle, Text("证件号码 No.", (640, 100), size=15), Text("次数 Issue", (900, 100), size=15)),
        fields=(
            title,
            Field("document_number", (640, 118), font="latin_bold", size=28, color=RED),
            Field("issue_times", (910, 118), font="latin_bold", size=28, color=RED),
            Field("name_zh", (280, 128), size=32, label="姓名 Name"),
            Field("name_en", (280, 172), font="latin", size=22),
            *field_row(236, ("sex", 280, "性别 Sex"), ("birth_date", 450, "出生日期 Date of birth"), size=24),
            Field("validity", (280, 298), font="latin", size=24, label="有效期限 Period of validity"),
            *field_row(
                360,
                ("issuing_authority", 280, "签发机关 Issuing authority"),
                ("issue_place", 690, "签发地点 Place"),
                size=24,
            ),
            Field("machine_code", (55, 432), font="ocrb", width=890, chars=30, pitch=56),
        ),
        photo=(36, 110, 246, 390),
    )


def mtp_back(truth: dict[str, Any]) -> Layout:
    """MTP back: the holder's Hong Kong identity card name and number, and generic notes."""
    notes = tuple(Text(line, (60, 400 + 40 * i), size=20 if i else 22) for i, line in enumerate(NOTES))
    return Layout(
        size=CARD,
        palette=((236, 230, 220), (228, 234, 240)),
        guilloche=(200, 180, 160),
        texts=(
            Text("持证人身份证件资料 HOLDER'S IDENTITY CARD", (40, 30), font="sc_bold", size=26, color=NAVY),
            *notes,
        ),
        fields=(
            Field("hkid_name", (60, 150), font="latin", size=32, label="姓名 Name (HKID)"),
            Field("hkid_number", (60, 260), font="latin_bold", size=38, label="香港身份证号码 HKID No."),
        ),
        photo=None,
    )
