"""KYC_OCR_ROUTES and KYC_OCR_QUOTAS parsing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from kyc.routing import RouteStep, parse_quotas, parse_routes


def test_unset_routes_send_everything_to_the_offline_engine():
    assert set(parse_routes("").values()) == {(RouteStep("local", "auto"),)}


def test_primary_and_fallback():
    routes = parse_routes("hk_id_card=tencent:HKIDCardOCR>local:auto, cn_passport=huawei:passport")
    assert routes["hk_id_card"] == (RouteStep("tencent", "HKIDCardOCR"), RouteStep("local", "auto"))
    assert routes["cn_passport"] == (RouteStep("huawei", "passport"),)
    assert routes["exit_entry_permit"] == (RouteStep("local", "auto"),)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("passport=tencent:PassportOCR", "TYPE=PROVIDER:ACTION"),
        ("hk_id_card=acme:Read", "unknown provider 'acme'"),
        ("hk_id_card=tencent", "is not PROVIDER:ACTION"),
        ("hk_id_card", "TYPE=PROVIDER:ACTION"),
    ],
)
def test_bad_routes_are_refused_clearly(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_routes(spec)


def test_quotas():
    assert parse_quotas("tencent:PermitOCR=10, tencent:HKIDCardOCR=5") == {
        "tencent:PermitOCR": 10.0,
        "tencent:HKIDCardOCR": 5.0,
    }


@pytest.mark.parametrize("spec", ["tencent:PermitOCR", "tencent:PermitOCR=0", "tencent:PermitOCR=fast", "acme:X=3"])
def test_bad_quotas_are_refused(spec):
    with pytest.raises(ImproperlyConfigured):
        parse_quotas(spec)
