"""The back office. Read-mostly: status changes only through actions that call the services, audit
events and OCR attempts strictly read-only, and every view of personal data writes an audit event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from kyc.choices import DocumentKind, DocumentSide, ReasonCode
from kyc.exceptions import KycError
from kyc.models import (
    Applicant,
    AuditEvent,
    Case,
    Check,
    Decision,
    Document,
    ExtractedField,
    Note,
    OcrAttempt,
    Partner,
    Portrait,
    ProviderState,
)
from kyc.services import cases as case_services
from kyc.services import ocr_queue, providers
from kyc.services.audit import audit_record
from kyc.services.documents import document_add, document_fields_read


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nothing can be added, changed or deleted here: only viewed."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "auto_approve", "four_eyes", "is_active", "created_at"]
    list_filter = ["auto_approve", "four_eyes", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Applicant)
class ApplicantAdmin(ReadOnlyAdmin):
    list_display = ["external_ref", "partner", "created_at"]
    list_filter = ["partner"]
    search_fields = ["external_ref"]  # declared data is encrypted and cannot be searched
    list_select_related = ["partner"]
    exclude = ["declared_name_zh", "declared_name_en", "declared_birth_date", "declared_nationality"]


class DocumentInline(admin.TabularInline):
    model = Document
    fields = ["document_type", "side", "status", "status_reason", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DecisionForm(forms.Form):
    reason_codes = forms.MultipleChoiceField(choices=ReasonCode.choices, widget=forms.CheckboxSelectMultiple)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class UploadForm(forms.Form):
    document_type = forms.ChoiceField(choices=DocumentKind.choices)
    side = forms.ChoiceField(choices=DocumentSide.choices)
    image = forms.FileField(help_text="JPEG, PNG, BMP or TIFF, at most 10 MB")


def _decision_action(service: Any, label: str) -> Any:
    def action(modeladmin: CaseAdmin, request: HttpRequest, queryset: QuerySet[Case]) -> HttpResponse | None:
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **modeladmin.admin_site.each_context(request),
                "form": form,
                "cases": queryset,
                "title": label,
                "action": request.POST.get("action"),
                "opts": modeladmin.model._meta,
            }
            return TemplateResponse(request, "admin/kyc/case_decision.html", context)
        for case in queryset:
            modeladmin.run(
                request,
                case,
                service,
                reason_codes=form.cleaned_data["reason_codes"],
                comment=form.cleaned_data["comment"],
            )
        return None

    action.__name__ = service.__name__
    return admin.action(description=label)(action)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["short_id", "applicant", "partner", "status", "assigned_to", "created_at", "updated_at"]
    list_filter = ["status", "applicant__partner", "assigned_to", "created_at"]
    search_fields = ["id", "applicant__external_ref"]
    list_select_related = ["applicant__partner", "assigned_to"]
    readonly_fields = ["id", "applicant", "status", "routing_reason", "created_at", "updated_at", "closed_at"]
    fields = [*readonly_fields, "assigned_to"]
    inlines = [DocumentInline]
    actions = [
        "start_review",
        _decision_action(case_services.case_approve, "Approve selected cases"),
        _decision_action(case_services.case_reject, "Reject selected cases"),
        _decision_action(case_services.case_request_resubmission, "Request resubmission"),
    ]

    @admin.display(description="Case")
    def short_id(self, obj: Case) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="Partner", ordering="applicant__partner__name")
    def partner(self, obj: Case) -> str:
        return obj.applicant.partner.name

    def run(self, request: HttpRequest, case: Case, service: Any, **kwargs: Any) -> None:
        try:
            service(case=case, actor=request.user, **kwargs)
        except KycError as error:
            self.message_user(request, f"{case}: {error.message}", messages.ERROR)
        else:
            self.message_user(request, f"{case}: done", messages.SUCCESS)

    @admin.action(description="Start review")
    def start_review(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        for case in queryset:
            self.run(request, case, case_services.case_start_review, reason="started from the back office")

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        if "assigned_to" in form.changed_data:
            case_services.case_assign(case=obj, reviewer=obj.assigned_to, actor=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        upload = self.admin_site.admin_view(self.upload_view)
        return [path("<uuid:case_id>/upload/", upload, name="kyc_case_upload"), *super().get_urls()]

    def upload_view(self, request: HttpRequest, case_id: str) -> HttpResponse:
        """Add one document image to a case; a refused image shows the precise reason and keeps the form."""
        case = get_object_or_404(Case, pk=case_id)
        if not request.user.has_perm("kyc.add_document"):
            return HttpResponse(status=403)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                document_add(
                    case=case,
                    document_type=form.cleaned_data["document_type"],
                    side=form.cleaned_data["side"],
                    data=form.cleaned_data["image"].read(),
                    actor=request.user,
                )  # type: ignore[arg-type]
            except KycError as error:
                form.add_error("image", f"{error.message} [{error.code}]")
            else:
                self.message_user(request, "Document received.", messages.SUCCESS)
                return redirect("admin:kyc_case_change", case.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "case": case,
            "opts": self.model._meta,
            "title": f"Upload a document to {case}",
        }
        return TemplateResponse(request, "admin/kyc/case_upload.html", context, status=400 if form.errors else 200)


class FieldInline(admin.TabularInline):
    model = ExtractedField
    fields = ["name", "value", "raw", "confidence", "source", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExtractedField]:
        return super().get_queryset(request).filter(is_current=True)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttemptInline(admin.TabularInline):
    model = OcrAttempt
    fields = ["number", "provider", "action", "outcome", "error_code", "vendor_code", "latency_ms", "started_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["short_id", "document_type", "side", "status", "case", "created_at"]
    list_filter = ["status", "document_type", "side", "created_at"]
    search_fields = ["id", "case__id", "original_sha256"]
    list_select_related = ["case"]
    readonly_fields = [
        "id",
        "case",
        "document_type",
        "side",
        "status",
        "status_reason",
        "detected_type",
        "image_link",
        "width",
        "height",
        "size_bytes",
        "original_format",
        "original_sha256",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [FieldInline, AttemptInline]
    actions = ["rerun_ocr"]

    @admin.action(description="Re-run OCR (keeps earlier attempts and fields)")
    def rerun_ocr(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            try:
                ocr_queue.document_rerun(document=document, actor=request.user)  # type: ignore[arg-type]
            except KycError as error:
                self.message_user(request, f"{document}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{document}: queued for OCR", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("kyc.change_document") and obj is None  # actions only, no edit form

    @admin.display(description="Document")
    def short_id(self, obj: Document) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="Image")
    def image_link(self, obj: Document) -> str:
        url = reverse("document-image", args=[obj.pk])
        return format_html(
            '<a href="{}?purpose=back_office" target="_blank" rel="noopener">view image (logged)</a>', url
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        document = self.get_object(request, object_id)
        if document is not None:
            # The change page shows decrypted fields: the read is logged before the page is built.
            document_fields_read(document=document, actor=request.user, purpose="back_office")  # type: ignore[arg-type]
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ExtractedField)
class ExtractedFieldAdmin(ReadOnlyAdmin):
    """Values are never listed; opening one field is a logged read."""

    list_display = ["name", "document", "source", "confidence", "is_current", "created_at"]
    list_filter = ["name", "source", "is_current"]
    list_select_related = ["document"]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        field = self.get_object(request, object_id)
        if field is not None:
            audit_record(
                actor=request.user,
                action="field.viewed",
                obj=field,  # type: ignore[arg-type]
                case_id=field.document.case_id,
                data={"field": field.name, "purpose": "back_office"},
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(OcrAttempt)
class OcrAttemptAdmin(ReadOnlyAdmin):
    list_display = ["document", "number", "provider", "action", "outcome", "error_code", "latency_ms", "started_at"]
    list_filter = ["provider", "action", "outcome", "error_class"]
    search_fields = ["vendor_request_id", "document__id"]
    exclude = ["raw_response"]
    list_select_related = ["document"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OcrAttempt]:
        return super().get_queryset(request).defer("raw_response")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "chain", "seq", "actor_repr", "action", "object_type", "object_id", "case_id"]
    list_filter = ["action", "object_type", "created_at"]
    search_fields = ["object_id", "case_id", "request_id", "actor_repr"]
    date_hierarchy = "created_at"


@admin.register(Check)
class CheckAdmin(ReadOnlyAdmin):
    list_display = ["code", "result", "detail", "case", "document", "is_current", "created_at"]
    list_filter = ["result", "code", "is_current"]
    list_select_related = ["case", "document"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "reason_codes", "actor_repr", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["case"]
    exclude = ["comment"]


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ["case", "author", "created_at"]
    list_select_related = ["case", "author"]
    exclude = ["body"]


@admin.register(Portrait)
class PortraitAdmin(ReadOnlyAdmin):
    list_display = ["document", "created_at"]
    list_select_related = ["document"]
    readonly_fields = ["document", "corners", "created_at", "image_link"]
    fields = readonly_fields

    @admin.display(description="Image")
    def image_link(self, obj: Portrait) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">view portrait (logged)</a>',
            reverse("portrait-image", args=[obj.pk]),
        )


@admin.register(ProviderState)
class ProviderStateAdmin(ReadOnlyAdmin):
    """Suspended providers (after a configuration error) and the effective routing of every type."""

    list_display = ["provider", "suspended", "vendor_code", "reason", "suspended_at", "resumed_at"]
    actions = ["resume"]
    change_list_template = "admin/kyc/providerstate/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("kyc.change_providerstate") and obj is None

    @admin.action(description="Resume calls to the selected providers")
    def resume(self, request: HttpRequest, queryset: QuerySet[ProviderState]) -> None:
        for state in queryset.filter(suspended=True):
            ocr_queue.provider_resume(provider=state.provider, actor=request.user)  # type: ignore[arg-type]
            self.message_user(request, f"{state.provider} resumed", messages.SUCCESS)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        quotas = providers.quotas()
        routing = [
            {
                "type": DocumentKind(code).label,
                "steps": [{"step": str(step), "quota": quotas.get(str(step))} for step in steps],
            }
            for code, steps in providers.routes().items()
        ]
        outcomes = OcrAttempt.objects.filter(started_at__gte=timezone.now() - timedelta(days=1))
        context = {
            **(extra_context or {}),
            "attempt_outcomes": dict(outcomes.values_list("outcome").annotate(n=Count("id")).order_by()),
            "routing": routing,
            "quota_share": providers.conf()["quota_share"],
            "max_attempts": providers.conf()["max_attempts"],
        }
        return super().changelist_view(request, context)
