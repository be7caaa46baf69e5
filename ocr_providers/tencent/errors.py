"""Tencent ``Response.Error.Code`` -> our taxonomy (vendors.md A.6).

Exact codes first, then the code's prefix (``FailedOperation.Foo`` falls back to ``FailedOperation``).
Unknown codes are treated as retryable: the task layer bounds retries, and the vendor's code is kept.
"""

from __future__ import annotations

from ocr_providers.exceptions import OcrError, OcrMisconfigured, OcrRejected, OcrUnavailable

__all__ = ["classify", "from_http_status"]

R, F, C = OcrUnavailable, OcrRejected, OcrMisconfigured

# code -> (class, our stable code)
EXACT: dict[str, tuple[type[OcrError], str]] = {
    "RequestLimitExceeded": (R, "rate_limited"),
    "RequestLimitExceeded.UinLimitExceeded": (R, "rate_limited"),
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": (R, "rate_limited"),
    "RequestLimitExceeded.IPLimitExceeded": (R, "rate_limited"),
    "InternalError": (R, "vendor_error"),
    "ServiceUnavailable": (R, "vendor_busy"),
    "FailedOperation.EngineRecognizeTimeout": (R, "vendor_busy"),
    "FailedOperation.UnKnowError": (R, "vendor_error"),
    "FailedOperation.WarningServiceFailed": (R, "vendor_error"),
    "FailedOperation.DownLoadError": (R, "vendor_error"),
    "ResourceUnavailable.ImageDownloadError": (R, "vendor_error"),
    # Our clock is off by more than 5 min; the provider re-signs once before surfacing this.
    "AuthFailure.SignatureExpire": (C, "clock_skew"),
    "AuthFailure.SignatureFailure": (C, "bad_signature"),
    "AuthFailure.SecretIdNotFound": (C, "bad_credentials"),
    "AuthFailure.InvalidSecretId": (C, "bad_credentials"),
    "AuthFailure.TokenFailure": (C, "bad_credentials"),
    "AuthFailure.UnauthorizedOperation": (C, "not_authorised"),
    "UnauthorizedOperation": (C, "not_authorised"),
    "FailedOperation.UnOpenError": (C, "service_not_activated"),
    "ActionOffline": (C, "service_not_activated"),
    "FailedOperation.ArrearsError": (C, "account_in_arrears"),
    "ResourceUnavailable.InArrears": (C, "account_in_arrears"),
    "ResourceUnavailable.ResourcePackageRunOut": (C, "account_in_arrears"),
    "ResourcesSoldOut.ChargeStatusException": (C, "account_in_arrears"),
    "FailedOperation.CountLimitError": (C, "quota_exhausted"),
    "LimitExceeded": (C, "quota_exhausted"),
    "UnsupportedRegion": (C, "region_not_supported"),
    "FailedOperation.ImageDecodeFailed": (F, "unreadable_image"),
    "InvalidParameter.EngineImageDecodeFailed": (F, "unreadable_image"),
    "FailedOperation.FileDecodeFailed": (F, "unreadable_image"),
    "FailedOperation.UnKnowFileTypeError": (F, "unreadable_image"),
    "FailedOperation.EmptyImageError": (F, "unreadable_image"),
    "FailedOperation.ImageBlur": (F, "unreadable_image"),
    "FailedOperation.ImageNoText": (F, "unreadable_image"),
    "FailedOperation.OcrFailed": (F, "unreadable_image"),
    "FailedOperation.ImageSizeTooLarge": (F, "image_too_large"),
    "LimitExceeded.TooLargeFileError": (F, "image_too_large"),
    "InvalidParameterValue.InvalidFileContentSize": (F, "image_too_large"),
    "RequestSizeLimitExceeded": (F, "image_too_large"),
    "FailedOperation.NoHKIDCard": (F, "wrong_document_type"),
    "FailedOperation.NoPassport": (F, "wrong_document_type"),
    "FailedOperation.ImageNoSpecifiedCard": (F, "wrong_document_type"),
    "FailedOperation.NotAppointCard": (F, "wrong_document_type"),
    "InvalidParameterValue.UnsupportedCard": (F, "wrong_document_type"),
    "FailedOperation.CardSideError": (F, "wrong_side"),
    "FailedOperation.MultiCardError": (F, "several_documents"),
    "FailedOperation.InconsistencyBetweenMRZAndVRZ": (F, "mrz_mismatch"),
}

PREFIXES: dict[str, tuple[type[OcrError], str]] = {
    "RequestLimitExceeded": (R, "rate_limited"),
    "InternalError": (R, "vendor_error"),
    "AuthFailure": (C, "bad_credentials"),
    "ResourceUnavailable": (C, "service_not_activated"),
    "ResourceInsufficient": (C, "service_not_activated"),
    "InvalidAction": (C, "invalid_request"),
    "NoSuchVersion": (C, "invalid_request"),
    "NoSuchProduct": (C, "invalid_request"),
    "UnsupportedOperation": (C, "invalid_request"),
    "UnsupportedProtocol": (C, "invalid_request"),
    "InvalidParameter": (C, "invalid_request"),
    "InvalidParameterValue": (C, "invalid_request"),
    "MissingParameter": (C, "invalid_request"),
    "UnknownParameter": (C, "invalid_request"),
    "InvalidRequest": (C, "invalid_request"),
    "IpInBlacklist": (C, "not_authorised"),
    "IpNotInWhitelist": (C, "not_authorised"),
    "FailedOperation": (F, "unreadable_image"),
}


def _lookup(code: str) -> tuple[type[OcrError], str]:
    if code in EXACT:
        return EXACT[code]
    parts = code.split(".")
    for i in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in PREFIXES:
            return PREFIXES[prefix]
    return PREFIXES.get(code, (R, "vendor_error"))


def classify(code: str, message: str, request_id: str) -> OcrError:
    """The ``OcrError`` for one ``Response.Error``, keeping Tencent's code, message and RequestId."""
    cls, ours = _lookup(code)
    return cls(
        f"Tencent {code}: {message}",
        code=ours,
        vendor_code=code,
        vendor_message=message,
        request_id=request_id,
        http_status=200,
    )


def from_http_status(status: int, request_id: str = "") -> OcrUnavailable:
    """Business errors come in HTTP 200 bodies; other statuses are transport trouble (as in the SDK)."""
    return OcrUnavailable(
        f"Tencent answered HTTP {status}",
        code="vendor_busy",
        vendor_code=str(status),
        http_status=status,
        request_id=request_id,
    )
