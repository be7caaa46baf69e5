"""Passport data page (1250 x 880): photo left, bilingual labelled fields in three columns, the
two-line machine-readable zone on a pale band at the bottom. No emblem."""

from __future__ import annotations

from typing import Any

from kyc.specimens.layouts import Field, Layout, Text, field_row

SIZE = (1250, 880)
NAVY = (38, 52, 92)
C1, C2, C3 = 430, 660, 900


def front(truth: dict[str, Any]) -> Layout:
    """The data page; the same for every holder."""
    return Layout(
        size=SIZE,
        palette=((236, 226, 238), (222, 236, 232)),
        guilloche=(196, 170, 200),
        texts=(
            Text("中华人民共和国", (C1, 24), font="sc_bold", size=30, color=NAVY),
            Text("PEOPLE'S REPUBLIC OF CHINA", (C1 + 240, 32), font="latin_bold", size=22, color=NAVY),
            Text("护照  PASSPORT", (C1, 74), font="sc_bold", size=26, color=NAVY),
            Text("签发机关/Authority", (C3, 598), size=15),
            Text("国家移民管理局", (C3, 620), size=22, color=(28, 28, 36)),
            Text("National Immigration Administration", (C3, 652), font="latin", size=13, color=(28, 28, 36)),
        ),
        fields=(
            *field_row(
                140,
                ("type", C1, "类型/Type"),
                ("country_code", C2, "国家码/Country Code"),
                ("document_number", C3, "护照号/Passport No."),
                font="latin",
                size=28,
            ),
            Field("surname", (C1, 212), size=26, label="姓/Surname", spacing=2),
            Field("given_names", (C1, 312), size=26, label="名/Given names", spacing=2),
            *field_row(412, ("sex", C1, "性别/Sex"), ("nationality", C2, "国籍/Nationality")),
            *field_row(
                478,
                ("birth_date", C1, "出生日期/Date of birth"),
                ("birth_place", C3, "出生地点/Place of birth"),
            ),
            *field_row(
                544,
                ("issue_date", C1, "签发日期/Date of issue"),
                ("issue_place", C3, "签发地点/Place of issue"),
            ),
            Field("expiry_date", (C1, 620), size=26, label="有效期至/Date of expiry"),
            Field("mrz", (64, 730), font="ocrb", width=1120, chars=44, pitch=62),
        ),
        photo=(60, 140, 380, 560),
        band=(0, 700, 1250, 880),
    )
