"""Demo data for `make run`: a partner, reviewers with a printed login, and applicants with synthetic
specimen documents in several statuses. Idempotent: a second run adds nothing and prints the login."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction

from kyc.models import Partner
from kyc.services import cases as case_services
from kyc.services.documents import document_add
from kyc.services.ocr import ocr_document_run
from kyc.services.ocr_queue import document_queue_all
from kyc.specimens import FontMissing, render_specimen

SEED = 2026
REVIEWER_PERMISSIONS = [
    "view_case",
    "change_case",
    "view_document",
    "add_document",
    "view_applicant",
    "view_extractedfield",
    "view_ocrattempt",
    "view_check",
    "view_decision",
    "view_auditevent",
    "view_portrait",
    "view_note",
]
# (external ref, document type, sides, what happens to the case after upload)
DEMO_APPLICANTS = [
    ("DEMO-HKID-001", "hk_id_card", ["front"], "queued"),
    ("DEMO-PASS-001", "cn_passport", ["front"], "queued"),
    ("DEMO-EEP-001", "exit_entry_permit", ["front", "back"], "queued"),
    ("DEMO-MTP-001", "mainland_travel_permit", ["front", "back"], "queued"),
    ("DEMO-HKID-002", "hk_id_card", ["front"], "awaiting_second_approval"),
    ("DEMO-PASS-002", "cn_passport", ["front"], "approved"),
    ("DEMO-EEP-002", "exit_entry_permit", ["front"], "rejected"),
    ("DEMO-MTP-002", "mainland_travel_permit", ["front"], "resubmission_requested"),
]


def _declared(ref: str, truth: dict) -> dict[str, str]:
    """What the applicant told the partner: the document's own data, except for one applicant whose
    declared birth date is wrong, so the demo shows a failing check."""
    declared = {"name_zh": truth["name_zh"], "birth_date": truth["birth_date"]}
    if ref == "DEMO-EEP-001":
        declared["birth_date"] = "1970-01-01"
    return declared


class Command(BaseCommand):
    help = "Create demo data (partner, reviewers, applicants with specimen documents) and print the login."

    def handle(self, *args, **options):
        password = self._password()
        users = self._users(password)
        if not Partner.objects.filter(slug="demo-securities").exists():
            try:
                self._applicants(users)
            except FontMissing as error:
                self.stderr.write(self.style.WARNING(f"No demo documents: {error}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: http://{os.environ.get('KYC_ADDR') or '127.0.0.1:8000'}/admin/  user 'admin' "
                f"(superuser), 'reviewer1' or 'reviewer2' "
                f"(reviewers), password '{password}'"
            )
        )

    def _password(self) -> str:
        path = Path(settings.VAR_DIR) / "demo-login.txt"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(12)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password

    def _users(self, password: str) -> dict[str, User]:
        group, _ = Group.objects.get_or_create(name="Reviewers")
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="kyc", codename__in=REVIEWER_PERMISSIONS)
        )
        users = {}
        for name, superuser in (("admin", True), ("reviewer1", False), ("reviewer2", False)):
            user, created = User.objects.get_or_create(
                username=name, defaults={"is_staff": True, "is_superuser": superuser}
            )
            if created:
                user.set_password(password)
                user.save()
            if not superuser:
                user.groups.add(group)
            users[name] = user
        return users

    @transaction.atomic
    def _applicants(self, users: dict[str, User]) -> None:
        partner = case_services.partner_create(name="Demo Securities Ltd", slug="demo-securities", actor=None)
        for index, (ref, document_type, sides, outcome) in enumerate(DEMO_APPLICANTS):
            images = {side: render_specimen(document_type, side, seed=SEED, index=index) for side in sides}
            applicant = case_services.applicant_create(
                partner=partner, external_ref=ref, actor=None, declared=_declared(ref, images["front"][1]["truth"])
            )
            case = case_services.case_open(applicant=applicant, actor=None)
            for side, (image, _record) in images.items():
                document_add(case=case, document_type=document_type, side=side, data=image, actor=users["reviewer1"])
            document_queue_all(case=case, actor=None)  # the worker reads them once the server starts
            if outcome != "queued":
                self._settle(case, outcome, users)
        self.stdout.write(f"Created {len(DEMO_APPLICANTS)} demo applicants with specimen documents.")

    def _settle(self, case, outcome: str, users: dict[str, User]) -> None:
        """Decided demo cases: read their documents now, with the real engine, then decide."""
        first, second = users["reviewer1"], users["reviewer2"]
        for document in case.documents.all():
            ocr_document_run(document_id=document.pk)  # the routing policy then sends the case to review
        case.refresh_from_db()
        if outcome in {"awaiting_second_approval", "approved"}:
            case_services.case_approve(case=case, actor=first)
        if outcome == "approved":
            case_services.case_approve(case=case, actor=second)
        elif outcome == "rejected":
            case_services.case_reject(case=case, actor=first, reason_codes=["document_expired"])
        elif outcome == "resubmission_requested":
            case_services.case_request_resubmission(case=case, actor=first, reason_codes=["poor_image_quality"])
