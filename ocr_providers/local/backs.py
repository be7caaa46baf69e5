"""Back sides: the Exit-Entry Permit's endorsements and the Mainland Travel Permit's HKID details.

An EEP endorsement slot starts with its region (``香港 HK``); its type, trips, validity, remark and
issue line are the boxes inside that slot's column, below the region. The endorsements field's
confidence is the weakest of its parts.
"""

from __future__ import annotations

import re

from ocr_providers.local.confidence import Reading
from ocr_providers.local.crops import crop_quad, line_below, red_free
from ocr_providers.local.extraction import Extraction
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.hkid import hkid_number
from ocr_providers.local.page import Page
from ocr_providers.local.permits import name_en
from ocr_providers.local.viz import dotted_date, find_label, reading, squeeze

__all__ = ["eep_back", "mtp_back"]

_REGIONS = {
    "香港": "hk",
    "HK": "hk",
    "澳门": "mo",
    "澳門": "mo",
    "MO": "mo",
    "台湾": "tw",
    "台灣": "tw",
    "TW": "tw",
}
_TRIPS = {"一次": 1, "二次": 2, "两次": 2, "多次": None}
_TYPES = ("个人旅游", "团队旅游", "探亲", "商务", "其他", "逗留")


def _region(text: str) -> str | None:
    t = squeeze(text).upper()
    match = re.fullmatch(r"(香港|澳门|澳門|台湾|台灣)(HK|MO|TW)?", t)
    return _REGIONS[match[1]] if match else None


def _slot(page: Page, head: PlacedBox, right: float) -> list[PlacedBox]:
    """Boxes in the region's column (from its left edge to the next slot's), below it.

    Perspective leans the column: 22 lines down, a left edge drifts by about two text heights."""
    return sorted(
        (b for b in page.frame.boxes if b is not head and head.left - 2.5 * page.frame.unit <= b.left < right
         and head.y < b.y <= head.y + 22 * page.frame.unit),
        key=lambda b: (round(b.y / page.frame.unit), b.x),
    )  # fmt: skip


_ISSUE_INFO = re.compile(r"([\u4e00-\u9fff]{2,8})(\d{4}\.\d{2}\.\d{2})")


def _issue_line(page: Page, remark: PlacedBox) -> tuple[str, float] | None:
    """Re-read the issue line where the layout prints it, about two lines under the remark: the
    red ``SPECIMEN``/stamp crossing it can hide it from the detector, so it is read red-free."""
    quad = line_below(remark.box.quad, 1.9, 8.0)
    crop = red_free(crop_quad(page.image, quad, 0.35, 0.2))
    page.rereads += 1
    text, score = page.engine.line(crop)
    match = _ISSUE_INFO.fullmatch(squeeze(text))
    return (f"{match[1]} {match[2]}", score) if match else None


def _endorsement(page: Page, head: PlacedBox, right: float) -> tuple[dict[str, object], float] | None:
    item: dict[str, object] = {"region": _region(head.text)}
    scores = [head.score]
    remark: PlacedBox | None = None
    for box in _slot(page, head, right):
        t = squeeze(box.text)
        t = re.sub(r"^[—―－-]次$", "一次", t)  # a dash read for the one-stroke 一
        if t in _TRIPS and "valid_round_trips" not in item:
            item["valid_round_trips"] = _TRIPS[t]
        elif t in _TYPES and "type" not in item:
            item["type"] = t
        elif t.startswith("有效期至") and dotted_date(t) and "valid_until" not in item:
            item["valid_until"] = dotted_date(t)
        elif re.fullmatch(r"逗留\d+天", t) and "remark" not in item:
            item["remark"], remark = t, box
        elif (m := _ISSUE_INFO.fullmatch(t)) and "issue_info" not in item:
            item["issue_info"] = f"{m[1]} {m[2]}"
        else:
            continue
        scores.append(box.score)
    if "issue_info" not in item and remark is not None and (found := _issue_line(page, remark)):
        item["issue_info"] = found[0]
        scores.append(min(found[1], 0.89))  # a re-read from a guessed position is never confident
    if len(item) != 6:
        return None
    return item, min(scores)


def eep_back(page: Page) -> Extraction:
    """All endorsements, left to right; the field is missing if any slot could not be read whole."""
    ex = Extraction()
    heads = sorted((b for b in page.frame.boxes if _region(b.text)), key=lambda b: b.x)
    rights = [h.left - page.frame.unit for h in heads[1:]] + [float("inf")]
    items = [_endorsement(page, head, right) for head, right in zip(heads, rights, strict=True)]
    if heads:
        ex.anchor("region", heads[0])
    if items and all(items):
        values = [i[0] for i in items if i]
        score = min(i[1] for i in items if i)
        ex.put("endorsements", Reading(values, " | ".join(squeeze(h.text) for h in heads), score))
    return ex


def mtp_back(page: Page) -> Extraction:
    """The HKID name and number printed on the MTP's back."""
    ex = Extraction()
    label = find_label(page.frame, r"姓名|^NAME")
    below = page.frame.below(label, max_lines=3.0) if label else list(page.frame.boxes)
    name_box = next((b for b in below if name_en(b.text)), None)
    ex.anchor("hkid_name", name_box)
    ex.put("hkid_name", reading(name_box, name_en(name_box.text)) if name_box else None)
    for box in page.frame.boxes:
        parsed = hkid_number(box.text)
        if parsed:
            ex.anchor("hkid_number", box)
            ex.put("hkid_number", reading(box, parsed[0], checked=parsed[1]))
            break
    return ex
