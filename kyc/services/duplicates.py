"""Does another applicant already hold this document number? An indexed lookup on the blind index."""

from __future__ import annotations

from collections.abc import Callable

from kyc import crypto
from kyc.checks.numbers import HOLDERS_SHOWN
from kyc.models import Applicant, ExtractedField


def duplicate_lookup_for(applicant: Applicant) -> Callable[[str, str], list[str]]:
    """A function ``(namespace, number) -> ids of OTHER applicants holding that number``: at most
    ``HOLDERS_SHOWN + 1`` of them (one more than shown tells the check there are more)."""

    def lookup(namespace: str, number: str) -> list[str]:
        index = crypto.blind_index(namespace, number)
        holders = (
            ExtractedField.objects.filter(blind_index=index, is_current=True)
            .exclude(document__case__applicant=applicant)
            .order_by()  # no model ordering: its columns would join the DISTINCT and repeat applicants
            .values_list("document__case__applicant_id", flat=True)
            .distinct()[: HOLDERS_SHOWN + 1]
        )
        return sorted(str(pk) for pk in holders)

    return lookup
