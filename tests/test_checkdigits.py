"""Check digits against published examples (ICAO Doc 9303 Part 3/4 specimens; the HKID scheme)."""

from __future__ import annotations

import pytest

from ocr_providers.checkdigits import hkid_check_char, hkid_is_valid, icao_check_digit, icao_is_valid

# ICAO Doc 9303 Part 4, Appendix A (the "ERIKSSON, ANNA MARIA" TD3 specimen), line 2:
# L898902C36UTO7408122F1204159ZE184226B<<<<<10
ICAO_TD3_LINE2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


@pytest.mark.parametrize(
    ("data", "digit"),
    [
        ("L898902C3", "6"),  # document number
        ("740812", "2"),  # date of birth
        ("120415", "9"),  # date of expiry
        ("ZE184226B<<<<<", "1"),  # optional data
        ("520727", "3"),  # Doc 9303 Part 3, 4.9 worked example (date 27 July 1952)
        ("AB2134<<<", "5"),  # Part 3 worked example with filler characters
    ],
)
def test_icao_published_examples(data, digit):
    assert icao_check_digit(data) == digit
    assert icao_is_valid(data, digit)


def test_icao_composite_of_the_td3_specimen():
    line = ICAO_TD3_LINE2
    composite = line[0:10] + line[13:20] + line[21:43]
    assert icao_check_digit(composite) == line[43] == "0"


@pytest.mark.parametrize("wrong", ["0", "5", "7", "9", "A", "", "66"])
def test_icao_wrong_digits_fail(wrong):
    assert not icao_is_valid("L898902C3", wrong)


def test_filler_as_check_digit_counts_as_zero():
    assert icao_check_digit("<<<<<<<<<") == "0"
    assert icao_is_valid("<<<<<<<<<", "<")


def test_characters_outside_the_mrz_alphabet_are_refused():
    with pytest.raises(ValueError, match="not allowed"):
        icao_check_digit("l898902c3")
    assert not icao_is_valid("L8989-2C3", "6")


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("A123456", "3"),  # the published example
        ("G123456", "A"),  # by hand: 36*9 + 16*8 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 = 529; 529 % 11 = 1; 11 - 1 = 10
        ("AB987654", "3"),  # by hand: 10*9 + 11*8 + 9*7 + 8*6 + 7*5 + 6*4 + 5*3 + 4*2 = 371; 371 % 11 = 8; 11 - 8 = 3
    ],
)
def test_hkid_check_characters(body, check):
    assert hkid_check_char(body) == check
    assert hkid_is_valid(f"{body}({check})")


@pytest.mark.parametrize("spelling", ["A123456(3)", "a123456(3)", "A 123456 3", "A1234563", "A123456[3]"])
def test_hkid_accepts_common_spellings(spelling):
    assert hkid_is_valid(spelling)


@pytest.mark.parametrize("number", ["A123456(4)", "A12345(3)", "1234567(3)", "ABC123456(3)", "", "A123456(B)"])
def test_hkid_rejects_wrong_numbers(number):
    assert not hkid_is_valid(number)


def test_hkid_check_is_a_for_ten_and_zero_for_eleven():
    # brute-force a body whose remainder gives each special case, then confirm the spelling
    bodies = {hkid_check_char(f"A{n:06d}"): f"A{n:06d}" for n in range(0, 2000)}
    assert {"A", "0"} <= set(bodies)
    assert hkid_is_valid(f"{bodies['A']}(A)")
    assert hkid_is_valid(f"{bodies['0']}(0)")
