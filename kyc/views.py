"""Authenticated, audited serving of private images. There is no other way to see one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from kyc.models import Document, Portrait
from kyc.services.audit import audit_record
from kyc.services.documents import document_image_read
from kyc.storage import private_storage

_PRIVATE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store, private",
    "Referrer-Policy": "no-referrer",
}


def _image_response(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    for header, value in _PRIVATE_HEADERS.items():
        response[header] = value
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _deny(request: HttpRequest, obj: Document | Portrait, case_id: object, action: str) -> None:
    audit_record(actor=request.user, action=action, obj=obj, case_id=case_id, data={"outcome": "denied"})  # type: ignore[arg-type]
    raise Http404  # no existence oracle: a denied read looks like a missing one


@login_required
@require_GET
def document_image(request: HttpRequest, document_id: str) -> HttpResponse:
    document = get_object_or_404(Document, pk=document_id)
    if not request.user.has_perm("kyc.view_document"):
        _deny(request, document, document.case_id, "document.image_view_denied")
    purpose = request.GET.get("purpose", "review")[:64]
    content = document_image_read(document=document, actor=request.user, purpose=purpose)  # type: ignore[arg-type]
    return _image_response(content, document.content_type, f"{document.pk}.{document.image.rsplit('.', 1)[-1]}")


@login_required
@require_GET
def portrait_image(request: HttpRequest, portrait_id: int) -> HttpResponse:
    portrait = get_object_or_404(Portrait.objects.select_related("document"), pk=portrait_id)
    case_id = portrait.document.case_id
    if not request.user.has_perm("kyc.view_document"):
        _deny(request, portrait, case_id, "portrait.view_denied")
    audit_record(
        actor=request.user,
        action="portrait.viewed",
        obj=portrait,
        case_id=case_id,  # type: ignore[arg-type]
        data={"document_id": str(portrait.document_id)},
    )
    with private_storage().open(portrait.image, "rb") as handle:
        content = handle.read()
    return _image_response(content, portrait.content_type, f"portrait-{portrait.pk}.jpg")
