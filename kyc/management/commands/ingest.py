"""Bulk intake of a backlog: one applicant, case and document per image, or one multi-document applicant
per folder that holds a ``manifest.json``::

    {"applicant": "REF-1", "declared": {"name_zh": "..."},
     "documents": [{"file": "front.jpg", "type": "mainland_travel_permit", "side": "front"}, ...]}

Refused images are listed with the reason and skipped; nothing else is lost.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kyc.choices import DocumentKind, DocumentStatus
from kyc.exceptions import KycError
from kyc.models import Document, Partner
from kyc.services import cases as case_services
from kyc.services.documents import document_add
from kyc.services.ocr_queue import document_queue_all

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
FINAL = {
    DocumentStatus.EXTRACTED,
    DocumentStatus.UNREADABLE,
    DocumentStatus.FAILED,
    DocumentStatus.APPROVED,
    DocumentStatus.REJECTED,
    DocumentStatus.RESUBMISSION_REQUESTED,
}


class Command(BaseCommand):
    help = "Create applicants, cases and documents from image files or manifest folders, and queue them for OCR."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="image files, folders of images, or folders with manifest.json")
        parser.add_argument("--type", required=True, choices=DocumentKind.values, help="type of single images")
        parser.add_argument("--side", default="front", choices=["front", "back"])
        parser.add_argument("--partner", default="Bulk intake", help="partner name (created if missing)")
        parser.add_argument("--wait", action="store_true", help="wait until every document is final")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait at most with --wait")

    def handle(self, *args, **options):
        partner = self._partner(options["partner"])
        batches = list(self._batches([Path(p) for p in options["paths"]], options["type"], options["side"]))
        if not batches:
            raise CommandError("no images found in the given paths")
        created, refused = [], []
        for number, batch in enumerate(batches, 1):
            ids, errors = self._ingest(partner, batch)
            created += ids
            refused += errors
            self._progress("queued", number, len(batches))
        self.stdout.write("")
        for path, message in refused:
            self.stderr.write(f"refused {path}: {message}")
        self.stdout.write(f"queued {len(created)} document(s); refused {len(refused)}")
        if options["wait"] and created:
            self._wait(created, options["timeout"])
        if refused:
            raise CommandError(f"{len(refused)} file(s) refused (listed above)", returncode=2)

    def _partner(self, name: str) -> Partner:
        partner = Partner.objects.filter(name=name).first()
        if partner:
            return partner
        slug = "-".join(name.lower().split())[:50] or "bulk"
        return case_services.partner_create(name=name, slug=slug, actor=None)

    def _batches(self, paths, document_type, side):
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist")
            if path.is_dir() and (path / "manifest.json").exists():
                yield self._manifest(path)
            elif path.is_dir():
                yield from (
                    {"ref": None, "declared": {}, "documents": [(image, document_type, side)]}
                    for image in sorted(path.iterdir())
                    if image.suffix.lower() in IMAGE_SUFFIXES
                )
            else:
                yield {"ref": None, "declared": {}, "documents": [(path, document_type, side)]}

    def _manifest(self, folder: Path) -> dict:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            documents = [(folder / d["file"], d["type"], d.get("side", "front")) for d in manifest["documents"]]
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f"{folder}/manifest.json is not valid: {error}") from None
        return {"ref": manifest.get("applicant"), "declared": manifest.get("declared", {}), "documents": documents}

    def _ingest(self, partner: Partner, batch: dict) -> tuple[list, list]:
        ids, errors = [], []
        with transaction.atomic():
            ref = batch["ref"] or f"ingest-{uuid.uuid4().hex[:12]}"
            applicant = case_services.applicant_create(
                partner=partner, external_ref=ref, actor=None, declared=batch["declared"]
            )
            case = case_services.case_open(applicant=applicant, actor=None)
            for path, document_type, side in batch["documents"]:
                try:
                    data = path.read_bytes()
                    ids.append(
                        document_add(case=case, document_type=document_type, side=side, data=data, actor=None).pk
                    )
                except (KycError, OSError) as error:
                    errors.append((path, getattr(error, "message", str(error))))
            document_queue_all(case=case, actor=None)
        return ids, errors

    def _progress(self, label: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total)
        self.stdout.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        sys.stdout.flush()

    def _wait(self, ids: list, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            statuses = Counter(Document.objects.filter(pk__in=ids).values_list("status", flat=True))
            final = sum(n for s, n in statuses.items() if s in FINAL)
            self._progress("final", final, len(ids))
            if final == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.stdout.write("")
        for status, count in sorted(statuses.items()):
            self.stdout.write(f"{status}: {count}")
        if final < len(ids):
            raise CommandError(f"timed out with {len(ids) - final} document(s) not final")
