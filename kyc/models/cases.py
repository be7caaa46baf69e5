"""Partners, applicants, cases, decisions and notes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kyc.choices import CaseStatus, DecisionKind
from kyc.fields import EncryptedTextField
from kyc.workflow import CASE_TERMINAL


class Partner(models.Model):
    """An organisation that submits applicants (a bank, broker, exchange or remittance firm)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    auto_approve = models.BooleanField(
        default=False, help_text=_("Approve without review when every field is confident and every check passes.")
    )
    four_eyes = models.BooleanField(default=True, help_text=_("Approvals need a second, different reviewer."))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Applicant(models.Model):
    """A person being verified for a partner; declared data is optional and encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="applicants")
    external_ref = models.CharField(max_length=128, help_text=_("The partner's own reference for this person."))
    declared_name_zh = EncryptedTextField(null=True, blank=True)
    declared_name_en = EncryptedTextField(null=True, blank=True)
    declared_birth_date = EncryptedTextField(null=True, blank=True, help_text=_("ISO date"))
    declared_nationality = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "external_ref"], name="applicant_ref_per_partner")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.partner.slug}/{self.external_ref}"


class Case(models.Model):
    """One verification of an applicant. A later re-verification is a new case; the old decision stays."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=32, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    routing_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_valid"),
            # At most one case in progress per applicant (Wagtail-style conditional unique constraint).
            models.UniqueConstraint(
                fields=["applicant"],
                condition=~Q(status__in=sorted(s.value for s in CASE_TERMINAL)),
                name="one_active_case_per_applicant",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {str(self.id)[:8]} ({self.get_status_display()})"

    @property
    def is_terminal(self) -> bool:
        return self.status in CASE_TERMINAL


class Decision(models.Model):
    """A reviewer's (or the routing policy's) decision on a case, with reason codes."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=32, choices=DecisionKind.choices)
    reason_codes = models.JSONField(default=list)
    comment = EncryptedTextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_repr = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_repr}"


class Note(models.Model):
    """A free-text note on a case; encrypted because reviewers write personal details in them."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note {self.pk} on {self.case_id}"
