"""Which document and side is this page? Titles, machine-code prefixes and field patterns vote.

Callers often do not say which document they uploaded, or pick the wrong one from a menu; the engine
decides from the page itself and the provider reports when it overrode the request. Each signal adds
to a (type, side) score; a page with no signal at all is "not a recognised document".
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from ocr_providers.documents import DocumentType, Side
from ocr_providers.local.geometry import Frame
from ocr_providers.local.mrz_repair import normalise

__all__ = ["MIN_SCORE", "Detection", "detect"]

Detection = tuple[DocumentType, Side, float]
MIN_SCORE = 2.0

_T = DocumentType
# (pattern over the page text with spaces removed, (type, side), weight). Titles are strong votes;
# the MTP title contains "来往内地" and must win over the EEP's "往来港澳" (checked by weight).
_SIGNALS: tuple[tuple[re.Pattern[str], tuple[DocumentType, Side], float], ...] = tuple(
    (re.compile(p), key, w)
    for p, key, w in (
        (r"护照|PASSPORT", (_T.CN_PASSPORT, Side.FRONT), 3.0),
        (r"P[<K(]CHN", (_T.CN_PASSPORT, Side.FRONT), 4.0),
        (r"身份證|身份证|IDENTITYCARD", (_T.HK_ID_CARD, Side.FRONT), 3.0),
        (r"[A-Z]{1,2}\d{6}[(（][0-9A][)）]", (_T.HK_ID_CARD, Side.FRONT), 1.0),
        (r"\*\*\*", (_T.HK_ID_CARD, Side.FRONT), 1.0),
        (r"往来港澳|往來港澳|往来台湾|EXIT-?ENTRYPERMIT", (_T.EXIT_ENTRY_PERMIT, Side.FRONT), 3.0),
        (r"^C[SD5][A-Z0-9]{9}[<K]", (_T.EXIT_ENTRY_PERMIT, Side.FRONT), 4.0),
        (r"来往内地|來往內地|MAINLANDTRAVELPERMIT|港澳居民", (_T.MAINLAND_TRAVEL_PERMIT, Side.FRONT), 4.5),
        (r"^CR[HM]\d{8}", (_T.MAINLAND_TRAVEL_PERMIT, Side.FRONT), 4.0),
        (r"签注|簽注|逗留\d+天|有效期至", (_T.EXIT_ENTRY_PERMIT, Side.BACK), 2.0),
        (r"香港HK|澳门MO|台湾TW|个人旅游|团队旅游|探亲|商务", (_T.EXIT_ENTRY_PERMIT, Side.BACK), 1.0),
    )
)
# The MTP back carries an HKID number and name but no title of its own; its heading and notes speak
# of the holder (``持证人身份证件资料``), which no HKID card prints, and survive blur better than labels.
_MTP_BACK = re.compile(r"香港身份证|香港身份證|HKID|持证人|持證人|HOLDER'?S", re.IGNORECASE)
# Every HKID card's title: ``香港(永久性)居民身份證``. A non-permanent card has no 永久 but is no MTP back.
_HKID_TITLE = re.compile(r"居民身份[證证]")


def _texts(frame: Frame) -> list[str]:
    return [re.sub(r"\s", "", unicodedata.normalize("NFKC", b.text)).upper() for b in frame.boxes]


def _scores(texts: Sequence[str]) -> defaultdict[tuple[DocumentType, Side], float]:
    votes: defaultdict[tuple[DocumentType, Side], float] = defaultdict(float)
    for text in texts:
        mrz = normalise(text)
        for pattern, key, weight in _SIGNALS:
            if pattern.search(text) or (pattern.pattern.startswith("^") and pattern.search(mrz)):
                votes[key] += weight
    return votes


def detect(frame: Frame) -> Detection | None:
    """The best (type, side, score), or ``None`` when nothing on the page names a document."""
    texts = _texts(frame)
    votes = _scores(texts)
    front_votes = sum(v for (t, s), v in votes.items() if s == Side.FRONT and t != _T.HK_ID_CARD)
    hkid_like = votes.get((_T.HK_ID_CARD, Side.FRONT), 0.0)
    # An HKID number with a label saying it is an HKID, and no card title: the MTP's back side.
    if (
        front_votes < MIN_SCORE
        and any(_MTP_BACK.search(t) for t in texts)
        and not any(_HKID_TITLE.search(t) for t in texts)
    ):
        votes[(_T.MAINLAND_TRAVEL_PERMIT, Side.BACK)] += 2.0 + hkid_like
    if not votes:
        return None
    (doc, side), score = max(votes.items(), key=lambda kv: kv[1])
    if score < MIN_SCORE:
        return None
    return doc, side, score
