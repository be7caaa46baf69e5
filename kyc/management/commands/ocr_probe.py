"""``manage.py ocr_probe IMAGE --type TYPE --provider NAME``: one image through one provider, no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kyc.ocr_config import build_provider
from ocr_providers import PROVIDERS, OcrError, OcrRequest, OcrResult
from ocr_providers.documents import DocumentType, Side


class Command(BaseCommand):
    help = "Send one image through an OCR provider with the configured credentials and print what it read."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("image", type=Path)
        parser.add_argument("--type", required=True, choices=[t.value for t in DocumentType])
        parser.add_argument("--side", choices=[s.value for s in Side], default=None)
        parser.add_argument("--provider", required=True, help=f"one of {sorted(PROVIDERS)}")
        parser.add_argument("--action", default="", help="vendor action or endpoint (default: by type)")
        parser.add_argument("--json", action="store_true", help="print the normalised result as JSON")
        parser.add_argument("--no-portrait", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        image: Path = options["image"]
        if not image.is_file():
            raise CommandError(f"no such image: {image}")
        request = OcrRequest(
            image=image.read_bytes(),
            document_type=DocumentType(options["type"]),
            side=Side(options["side"]) if options["side"] else None,
            action=options["action"],
            return_portrait=not options["no_portrait"],
            return_portrait_location=not options["no_portrait"],
        )
        try:
            result = build_provider(options["provider"]).recognize(request)
        except OcrError as exc:
            self._error(exc, as_json=options["json"])
        self._print(result, as_json=options["json"])

    def _error(self, exc: OcrError, *, as_json: bool) -> None:
        error = {"class": exc.kind, "code": exc.code, "vendor_code": exc.vendor_code, "message": exc.message}
        if exc.request_id:
            error["request_id"] = exc.request_id
        if as_json:
            self.stdout.write(json.dumps({"error": error}, ensure_ascii=False))
        raise CommandError(f"{exc.kind} error {exc.vendor_code or exc.code}: {exc.message}", returncode=1)

    def _print(self, result: OcrResult, *, as_json: bool) -> None:
        data = result.as_dict()
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{data['provider']} {data['action']} request_id={data['request_id']}")
        self.stdout.write(f"document: {data['document_type']} / {data['side']}")
        for name, f in data["fields"].items():
            confidence = "-" if f["confidence"] is None else f"{f['confidence']:.2f}"
            self.stdout.write(f"  {name:<20} {f['value']!s:<32} raw={f['raw']!r} confidence={confidence}")
        self.stdout.write(f"warnings: {', '.join(data['warnings']) or 'none'}")
        for p in data["portraits"]:
            self.stdout.write(f"portrait: {p['bytes']} bytes {p['content_type']} corners={p['corners']}")
