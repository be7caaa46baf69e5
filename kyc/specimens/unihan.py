"""The small committed Unihan table: telecode, pinyin and simplified form of the name characters.

The table lives in ``data/unihan_names.json`` so that neither the app nor CI needs ``unicode-data``
(37 MB). Regenerate it after changing ``names.py``, on a machine with ``unicode-data`` installed::

    python -m kyc.specimens.unihan            # reads /usr/share/unicode/Unihan_*.txt.bz2

Fields come from Unicode TR38: ``kTaiwanTelegraph`` (the Chinese Commercial Code printed on HK
identity cards), ``kMandarin`` (pinyin, tone marks stripped) and ``kSimplifiedVariant``. The data is
under the Unicode licence (see ``data/README.md``).
"""

from __future__ import annotations

import bz2
import json
import unicodedata
from functools import cache
from pathlib import Path

from kyc.specimens.names import all_characters

UNIHAN_DIR = Path("/usr/share/unicode")
TABLE_PATH = Path(__file__).with_name("data") / "unihan_names.json"
_KEYS = {"kTaiwanTelegraph": "telecode", "kMandarin": "pinyin", "kSimplifiedVariant": "simplified"}
_FILES = ("Unihan_OtherMappings.txt", "Unihan_Readings.txt", "Unihan_Variants.txt")


def _open(directory: Path, name: str):
    plain = directory / name
    if plain.exists():
        return plain.open(encoding="utf-8")
    return bz2.open(directory / f"{name}.bz2", "rt", encoding="utf-8")


def _strip_tones(pinyin: str) -> str:
    # ü keeps its identity as "v" here; romanisation turns it into "yu" (吕 -> LYU) later.
    text = pinyin.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _value(key: str, raw: str) -> str:
    if key == "kMandarin":
        return _strip_tones(raw.split()[0])
    if key == "kSimplifiedVariant":
        return chr(int(raw.split()[0][2:], 16))
    return raw


def build_table(characters: str, unihan_dir: Path = UNIHAN_DIR) -> dict[str, dict[str, str]]:
    """Read Unihan and return ``{char: {"telecode", "pinyin", "simplified"}}`` for ``characters``.

    Simplified forms of traditional characters are included as entries too, so they get pinyin.
    """
    wanted = {f"U+{ord(c):04X}": c for c in characters}
    rows: dict[str, dict[str, str]] = {}
    for name in _FILES:
        with _open(unihan_dir, name) as handle:
            for line in handle:
                code, _, rest = line.partition("\t")
                key, _, raw = rest.rstrip("\n").partition("\t")
                if code in wanted and key in _KEYS:
                    rows.setdefault(wanted[code], {})[_KEYS[key]] = _value(key, raw)
    extra = {row["simplified"] for row in rows.values() if "simplified" in row} - set(rows)
    if extra:
        rows |= build_table("".join(sorted(extra)), unihan_dir)
    return dict(sorted(rows.items()))


@cache
def table() -> dict[str, dict[str, str]]:
    """The committed table (loaded once)."""
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


def telecode(char: str) -> str:
    """The four-digit CCC telecode of a traditional character (KeyError if not in the table)."""
    return table()[char]["telecode"]


def decode_telecodes(codes: str) -> str:
    """``"7115 1129 2429"`` -> ``"陳大文"`` (only for characters in the committed table)."""
    reverse = {row["telecode"]: char for char, row in table().items() if "telecode" in row}
    return "".join(reverse[code] for code in codes.split())


def pinyin(char: str) -> str:
    """Toneless pinyin of a character, ``v`` standing for ``ü``."""
    return table()[char]["pinyin"]


def simplified(text: str) -> str:
    """The simplified form of a traditional string (characters without a variant stay as they are)."""
    return "".join(table().get(c, {}).get("simplified", c) for c in text)


def main() -> None:
    """Regenerate ``data/unihan_names.json`` from the system's Unihan files."""
    rows = build_table(all_characters())
    TABLE_PATH.parent.mkdir(exist_ok=True)
    # One character per line keeps diffs of the committed file readable.
    body = ",\n".join(
        f"{json.dumps(c, ensure_ascii=False)}: {json.dumps(r, ensure_ascii=False, sort_keys=True)}"
        for c, r in rows.items()
    )
    TABLE_PATH.write_text("{\n" + body + "\n}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
