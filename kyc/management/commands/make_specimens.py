"""Write synthetic specimens and their ground truth: ``manage.py make_specimens --out DIR``."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kyc.specimens import CONDITIONS, FontMissing, generate
from ocr_providers.documents import DocumentType


class Command(BaseCommand):
    help = "Render synthetic specimen documents (watermarked SPECIMEN) with ground-truth JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="output folder (created if missing)")
        parser.add_argument("--type", choices=[t.value for t in DocumentType], help="one type (default: all)")
        parser.add_argument("--count", type=int, default=1, help="specimens per type (default 1)")
        parser.add_argument("--seed", type=int, default=2026, help="seed (default 2026)")
        parser.add_argument("--degrade", action="store_true", help="write every capture condition")
        parser.add_argument("--conditions", help=f"comma-separated subset of: {', '.join(CONDITIONS)}")

    def handle(self, *args, **options) -> None:
        conditions = self._conditions(options)
        started = time.monotonic()
        try:
            specimens = generate(
                options["out"],
                document_type=options["type"],
                count=options["count"],
                seed=options["seed"],
                conditions=conditions,
            )
        except (FontMissing, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        images = sum(len(c) for s in specimens for c in s.files.values())
        self.stdout.write(
            f"Wrote {len(specimens)} specimens ({images} images, {len(conditions)} conditions) "
            f"to {options['out']} in {time.monotonic() - started:.1f}s"
        )

    def _conditions(self, options) -> tuple[str, ...]:
        if options["conditions"]:
            chosen = tuple(c.strip() for c in options["conditions"].split(",") if c.strip())
            unknown = sorted(set(chosen) - set(CONDITIONS))
            if unknown:
                raise CommandError(f"unknown conditions {unknown}; choose from {', '.join(CONDITIONS)}")
            return chosen
        return CONDITIONS if options["degrade"] else ("clean",)
