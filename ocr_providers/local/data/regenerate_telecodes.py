"""Regenerate ``telecodes.tsv`` (Chinese Commercial Code -> character) from Unihan.

Run from the repository root: ``python ocr_providers/local/data/regenerate_telecodes.py``.
Reads ``kTaiwanTelegraph`` from Debian's ``unicode-data`` package (Unihan_OtherMappings.txt.bz2), the
four-digit telegraph codes printed under the English name on Hong Kong identity cards. The output is
a modified extract of a Unicode Data File: see UNICODE-LICENSE.txt beside it.
"""

from __future__ import annotations

import bz2
import sys
from pathlib import Path

SOURCE = Path("/usr/share/unicode/Unihan_OtherMappings.txt.bz2")
TARGET = Path(__file__).with_name("telecodes.tsv")


def main() -> int:
    table: dict[str, str] = {}
    version = "unknown"
    with bz2.open(SOURCE, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("# Unicode version:"):
                version = line.split(":", 1)[1].strip()
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[1] == "kTaiwanTelegraph":
                char = chr(int(parts[0][2:], 16))
                # One code per character in Unihan 15; keep the first if a later release adds a clash.
                table.setdefault(parts[2], char)
    lines = [f"# kTaiwanTelegraph from Unihan {version} (unicode-data); generated, do not edit"]
    lines += [f"{code}\t{table[code]}" for code in sorted(table)]
    TARGET.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {len(table)} codes to {TARGET}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
