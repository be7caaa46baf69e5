"""Seeded synthetic people, dates and document numbers (all check characters valid).

Everything takes a ``random.Random`` so that one seed gives one identity on every machine. Dates are
drawn against the fixed ``REFERENCE_DATE``, never today's date, so output does not drift over time.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta

from kyc.specimens import unihan
from kyc.specimens.names import HK_GIVEN, HK_SURNAMES, MAINLAND_GIVEN, MAINLAND_SURNAMES, SURNAME_PINYIN
from ocr_providers.checkdigits import hkid_check_char

REFERENCE_DATE = date(2025, 6, 30)  # the "today" of every specimen
BIRTH_RANGE = (date(1950, 1, 1), date(2005, 12, 31))
# Letters used after the prefix once number ranges ran out: never I or O (they read as 1 and 0).
SERIAL_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")


@dataclass(frozen=True)
class Person:
    """A synthetic holder. ``given_en`` is ``"SAN"`` for mainland and ``"Tai Man"`` for HK people."""

    surname_zh: str
    given_zh: str
    surname_en: str
    given_en: str
    sex: str
    birth_date: date
    hk: bool

    @property
    def name_zh(self) -> str:
        return self.surname_zh + self.given_zh

    @property
    def name_en(self) -> str:
        """``ZHANG, SAN`` (mainland) or ``CHAN, Tai Man`` (HK identity card style)."""
        return f"{self.surname_en}, {self.given_en}"


def random_date(rng: random.Random, start: date, end: date) -> date:
    """A uniformly drawn date in ``[start, end]`` (``start`` if the range is empty)."""
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def add_years(day: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _romanise(pinyin: str) -> str:
    # Passports write ü as YU (吕 -> LYU), per the 2012 Ministry of Public Security rule.
    return pinyin.replace("v", "yu").upper()


def mainland_person(rng: random.Random) -> Person:
    """A mainland holder with a simplified name romanised in pinyin (``ZHANG``, ``ZIHAN``)."""
    surname = rng.choice(MAINLAND_SURNAMES)
    given = "".join(rng.choice(MAINLAND_GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return Person(
        surname_zh=surname,
        given_zh=given,
        surname_en=_romanise(SURNAME_PINYIN.get(surname) or unihan.pinyin(surname)),
        given_en="".join(_romanise(unihan.pinyin(c)) for c in given),
        sex=rng.choice("MF"),
        birth_date=random_date(rng, *BIRTH_RANGE),
        hk=False,
    )


def hk_person(rng: random.Random) -> Person:
    """A Hong Kong holder with a traditional name and HK romanisation (``CHAN``, ``Tai Man``)."""
    surname = rng.choice(sorted(HK_SURNAMES))
    given = [rng.choice(sorted(HK_GIVEN)) for _ in range(rng.choice((1, 2, 2, 2, 2)))]
    return Person(
        surname_zh=surname,
        given_zh="".join(given),
        surname_en=HK_SURNAMES[surname],
        given_en=" ".join(HK_GIVEN[c] for c in given),
        sex=rng.choice("MF"),
        birth_date=random_date(rng, *BIRTH_RANGE),
        hk=True,
    )


def issue_and_expiry(
    rng: random.Random, birth: date, *, since: date, adult_age: int, minor_chance: float = 0.3
) -> tuple[date, date]:
    """Issue in ``[since, REFERENCE_DATE]`` after the holder's 16th/18th birthday where possible.

    Validity is 10 years less a day for adults and 5 years less a day for holders under
    ``adult_age`` at issue; young holders are sometimes issued a minor's document on purpose.
    """
    adult_from = add_years(birth, adult_age)
    # Most specimens should still be valid on REFERENCE_DATE, so issue no earlier than 9 (or 4) years back.
    if adult_from <= REFERENCE_DATE and rng.random() >= minor_chance:
        start = max(since, adult_from, add_years(REFERENCE_DATE, -9))
    else:
        start = max(since, add_years(birth, 9), add_years(REFERENCE_DATE, -4))
    issue = random_date(rng, min(start, REFERENCE_DATE), REFERENCE_DATE)
    years = 10 if age_on(birth, issue) >= adult_age else 5
    return issue, add_years(issue, years) - timedelta(days=1)


def _serial(rng: random.Random, prefix: str) -> str:
    """``E12345678`` or, after the range expansion, ``EA1234567`` (letter never I or O)."""
    if rng.random() < 0.3:
        return prefix + rng.choice(SERIAL_LETTERS) + f"{rng.randrange(10**7):07d}"
    return prefix + f"{rng.randrange(10**8):08d}"


def passport_number(rng: random.Random) -> str:
    return _serial(rng, "E")


def eep_number(rng: random.Random) -> str:
    return _serial(rng, "C")


def mtp_number(rng: random.Random) -> str:
    """``H`` + 8 digits (HK residents only: the back carries an HKID, see the report)."""
    return "H" + f"{rng.randrange(10**8):08d}"


def hkid_number(rng: random.Random) -> str:
    """``A123456(3)``; about one in eight has a two-letter prefix (``XA``...)."""
    letters = rng.choice("ABCDEGHKMPRVYZ")
    if rng.random() < 0.125:
        letters = rng.choice("WX") + letters
    body = letters + f"{rng.randrange(10**6):06d}"
    return f"{body}({hkid_check_char(body)})"
