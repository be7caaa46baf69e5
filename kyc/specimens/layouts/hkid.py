"""Hong Kong identity card, front: title across the top, names and telecodes left, photo right,
number bottom right. The 2003 and 2018 designs differ only in palette here."""

from __future__ import annotations

from typing import Any

from kyc.specimens.layouts import CARD, Field, Layout, Text

PALETTES = {
    "2018": (((226, 232, 246), (236, 222, 238)), (150, 160, 205)),
    "2003": (((232, 238, 228), (244, 226, 222)), (170, 185, 160)),
}


def front(truth: dict[str, Any]) -> Layout:
    """The HKID front; the title says PERMANENT only for permanent residents."""
    palette, guilloche = PALETTES[truth["card_version"]]
    permanent = truth["permanent"]
    title_zh = "香港永久性居民身份證" if permanent else "香港居民身份證"
    title_en = "HONG KONG PERMANENT IDENTITY CARD" if permanent else "HONG KONG IDENTITY CARD"
    return Layout(
        size=CARD,
        palette=palette,
        guilloche=guilloche,
        texts=(
            Text(title_zh, (40, 22), font="tc_bold", size=36, color=(40, 48, 110)),
            Text(title_en, (40, 72), font="latin_bold", size=21, color=(40, 48, 110)),
            Text("出生日期 Date of Birth", (40, 292), font="tc", size=16),
            Text("性別 Sex", (330, 292), font="tc", size=16),
            Text("簽發日期 Date of Issue", (40, 420), font="tc", size=16),
        ),
        fields=(
            Field("name_zh", (40, 118), font="tc", size=48),
            Field("name_en", (40, 186), font="latin", size=30),
            Field("telecode", (40, 234), font="latin", size=26),
            Field("birth_date", (40, 314), font="latin", size=30),
            Field("sex", (330, 312), font="tc", size=30),
            Field("symbols", (40, 364), font="latin", size=30),
            Field("first_issue_date", (40, 442), font="latin", size=28),
            Field("issue_date", (190, 442), font="latin", size=28),
            Field("document_number", (600, 530), font="latin_bold", size=42),
            Field("card_version", (40, 590), font="latin", size=14, color=(110, 110, 130)),
        ),
        photo=(650, 118, 940, 490),
    )
