"""Rendering: every side renders deterministically; degradations have the expected geometry."""

import io
import json

import pytest
from PIL import Image

from kyc.specimens import CONDITIONS, HARD_CONDITIONS, STANDARD_CONDITIONS, render_specimen
from kyc.specimens.degrade import degrade
from kyc.specimens.fonts import FACES, FontMissing, font_file
from ocr_providers.documents import SIDES, DocumentType

ALL_SIDES = [(t, s) for t in DocumentType for s in SIDES[t]]


def _open(jpeg):
    return Image.open(io.BytesIO(jpeg))


@pytest.mark.parametrize(("document_type", "side"), ALL_SIDES)
def test_every_side_renders_with_boxes_inside_the_image(document_type, side):
    jpeg, record = render_specimen(document_type, side, seed=3, index=1)
    image = _open(jpeg)
    assert image.format == "JPEG"
    assert list(image.size) == record["layout"]["size"] == record["degradation"]["size"]
    w, h = image.size
    assert (w, h) == ((1250, 880) if document_type == DocumentType.CN_PASSPORT else (1000, 630))
    assert set(record["layout"]["fields"]) <= set(record["printed"])
    for x0, y0, x1, y1 in record["layout"]["fields"].values():
        assert 0 <= x0 < x1 <= w
        assert 0 <= y0 < y1 <= h
    json.dumps(record)  # the record is plain JSON


def test_same_seed_gives_the_same_bytes_and_truth():
    first = render_specimen("mainland_travel_permit", "front", seed=11, index=2, condition="perspective")
    again = render_specimen("mainland_travel_permit", "front", seed=11, index=2, condition="perspective")
    other = render_specimen("mainland_travel_permit", "front", seed=12, index=2, condition="perspective")
    assert first == again
    assert first[0] != other[0]
    assert first[1]["truth"] != other[1]["truth"]


def test_condition_lists():
    assert STANDARD_CONDITIONS == ("clean", "jpeg40", "blur", "rot3", "perspective", "lowcontrast", "down600")
    assert set(HARD_CONDITIONS) == {"phone", "glare", "noise", "jpeg25", "down480", "upside_down"}
    assert CONDITIONS == STANDARD_CONDITIONS + HARD_CONDITIONS


@pytest.fixture(scope="module")
def card():
    return Image.new("RGB", (1000, 630), (200, 210, 220))


@pytest.mark.parametrize("condition", CONDITIONS)
def test_degradations_have_the_expected_geometry(card, condition):
    import random

    result = degrade(card, condition, random.Random(condition))
    w, h = result.image.size
    assert [w, h] == result.params["size"]
    expected = {"down600": (600, 378), "down480": (480, 302), "phone": (1600, 1200)}
    if condition in expected:
        assert (w, h) == expected[condition]
    elif condition in ("rot3", "perspective"):
        assert w > 1000
        assert h > 630
    else:
        assert (w, h) == (1000, 630)
    for x, y in result.params["corners"]:
        assert -1 <= x <= w + 1
        assert -1 <= y <= h + 1
    if condition == "phone":
        assert 10 <= abs(result.params["angle"]) <= 15
        assert 0.35 <= result.params["card_area_fraction"] <= 0.6
    if condition == "upside_down":
        assert result.params["corners"][0] == [1000, 630]


def test_unknown_condition_is_rejected(card):
    import random

    with pytest.raises(ValueError, match="unknown condition"):
        degrade(card, "sepia", random.Random(0))


def test_missing_font_names_the_debian_package(monkeypatch):
    monkeypatch.setitem(FACES, "missing", ("No Such Family XYZ", "No Such Family XYZ", "fonts-nosuch"))
    with pytest.raises(FontMissing, match="apt-get install fonts-nosuch"):
        font_file("missing")
