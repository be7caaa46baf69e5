"""``manage.py ocr_emulator``: run the Tencent/Huawei OCR emulator on loopback until interrupted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocr_providers.emulator import (
    FAIL_WAYS,
    RETRYABLE_FAIL_WAYS,
    Credentials,
    VendorEmulator,
    engine_reader,
    fail_ways_checked,
    parse_quota,
)
from ocr_providers.emulator.state import Reader
from ocr_providers.exceptions import OcrMisconfigured


class Command(BaseCommand):
    help = (
        "Serve both vendors' OCR protocols on 127.0.0.1 for tests, demos, benchmarks and partner sandboxes. "
        "Unscripted answers carry what the offline engine reads in the posted image, formatted as each "
        "vendor would (--samples: FIXED SAMPLES instead, fast and image-independent); script it over "
        "/_emulator/... (see ocr_providers/README.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
        parser.add_argument("--latency-ms", type=float, default=0.0)
        parser.add_argument("--quota", action="append", default=[], metavar="ACTION=N/s")
        parser.add_argument("--fail-rate", type=float, default=0.0, help="share of calls answered with a fault")
        parser.add_argument(
            "--fail-ways",
            default=",".join(RETRYABLE_FAIL_WAYS),
            help=f"comma-separated ways those calls fail, or 'all' (default: the retryable ones). Known: "
            f"{', '.join(FAIL_WAYS)}",
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--samples",
            action="store_true",
            help="answer unscripted calls with the fixed samples instead of reading the image",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            quotas = dict(parse_quota(q) for q in options["quota"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not 0.0 <= options["fail_rate"] <= 1.0:
            raise CommandError("--fail-rate is a share between 0 and 1")
        try:
            given = options["fail_ways"]
            ways = FAIL_WAYS if given == "all" else fail_ways_checked([w for w in given.split(",") if w])
        except ValueError as exc:
            raise CommandError(f"--fail-ways: {exc}") from exc
        reader = None if options["samples"] else self._reader()
        emulator = VendorEmulator(
            host=options["host"], port=options["port"], latency_ms=options["latency_ms"], quotas=quotas,
            fail_rate=options["fail_rate"], fail_ways=ways, seed=options["seed"], reader=reader,
        )  # fmt: skip
        self._banner(emulator, quotas, reader is not None)
        try:
            emulator.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("stopping")
        finally:
            emulator.close()

    def _reader(self) -> Reader:
        """The offline engine as the reader, loaded before the port opens (the first call is not slow)."""
        try:
            return engine_reader()
        except OcrMisconfigured as exc:
            raise CommandError(f"{exc} (or pass --samples for the fixed answers)") from exc

    def _banner(self, emulator: VendorEmulator, quotas: dict[str, float], reads: bool) -> None:
        creds = Credentials()
        answers = "read from the image by the offline engine" if reads else "fixed samples"
        self.stdout.write(f"OCR vendor emulator on {emulator.url} (unscripted answers are {answers})")
        self.stdout.write(f"  KYC_TENCENT_ENDPOINT={emulator.url}  KYC_HUAWEI_ENDPOINT={emulator.url}")
        self.stdout.write(f"  KYC_HUAWEI_IAM_ENDPOINT={emulator.url}  project id {creds.project_id}")
        self.stdout.write("  accepts the example credentials of vendors.md (TC-1 / HW-1 keys)")
        if quotas:
            self.stdout.write("  quotas: " + ", ".join(f"{a}={r:g}/s" for a, r in quotas.items()))
