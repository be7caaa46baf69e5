"""Domain errors. Each has a stable ``code`` that the API and UI can rely on."""

from __future__ import annotations


class KycError(Exception):
    code = "kyc_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidTransition(KycError):
    code = "invalid_transition"

    def __init__(self, kind: str, current: str, target: str) -> None:
        current, target = str(current), str(target)  # plain values, not enum reprs, in the message
        super().__init__(f"cannot move {kind} from {current!r} to {target!r}")
        self.kind, self.current, self.target = kind, current, target


class DocumentInvalid(KycError):
    """An uploaded image or document request that we refuse; the message says exactly why."""

    code = "document_invalid"


class CaseConflict(KycError):
    code = "case_conflict"


class PermissionDeniedForCase(KycError):
    code = "permission_denied"


class AuditChainBroken(KycError):
    code = "audit_chain_broken"
