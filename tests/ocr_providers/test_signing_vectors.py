"""Every signing vector in vendors.md (A.4 and B.5), reproduced byte for byte."""

from __future__ import annotations

import pytest

from ocr_providers.huawei import signing as hw
from ocr_providers.tencent import signing as tc

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TC_CRED = f"TC3-HMAC-SHA256 Credential={SECRET_ID}"

# (body, host, timestamp, payload hash, hashed canonical request, kSigning, signature, date)
TC_VECTORS = {
    "TC-1": (
        b'{"ImageBase64": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP8=", "CropPortrait": true}',
        "ocr.tencentcloudapi.com",
        1551113065,
        "2e3d322c8e8e3aa1432eaf0071511d2aff8becdf0101ea664cd5ecba6e3909b9",
        "2e78e9a437d70149e1af631fa41a9413b695a63ebc040b95623615eaf06d4c20",
        "2b4aec12ca80fa0f90a8d1de313d32fe29c6f9bc6804c962a4e3d26207fc9b31",
        "c921cddea72f2d5cdef059fdccac14d914d030faba0533afc33b01664a0283e5",
        "2019-02-25",
    ),
    "TC-2": (
        b'{"ReturnHeadImage": true, "DetectFake": false, "ImageUrl": "https://example.com/hkid-front.jpg"}',
        "ocr.intl.tencentcloudapi.com",
        1704067199,
        "a20bbd9677de5c5dc9db2055228d833ab2679365ea6b1d066e1ead38ba2d3dac",
        "7ca1c5a29d4e75cd99c4c34389fe51615a70cf11352cffffcaa2af90a8f16644",
        "b0ad2009b45fb6980dce9ada9855b3584ca79a7a62a619a56d45db0a28b1d0f4",
        "6c117d579f83641b2008099c80011e54438128573b8fd692f5756df80a5e30df",
        "2023-12-31",
    ),
    "TC-3": (
        b'{"ImageUrl": "https://example.com/passport.jpg", "Type": "CN", "CropPortrait": true}',
        "ocr.tencentcloudapi.com",
        1551113065,
        "c6b0a30455d00ca0fbcd3495c456dc981b99bcb8edc3d99741ec0e9a09861f49",
        "f5f27da0ffe69241ee1833bec739b23bef1d7b5e522544524b6d7a85c29af436",
        "2b4aec12ca80fa0f90a8d1de313d32fe29c6f9bc6804c962a4e3d26207fc9b31",
        "ec06b91fe58c898eb586372eda6dd4c59ae49e89ea1adef2756dabd1324cc54f",
        "2019-02-25",
    ),
    # Temporary credentials: X-TC-Token is sent but not signed; the non-ASCII URL is \u-escaped.
    "TC-4": (
        b'{"ImageUrl": "https://example.com/\\u56de\\u4e61\\u8bc1.jpg", "RetProfile": true, "CardSide": "FRONT"}',
        "ocr.tencentcloudapi.com",
        1551113065,
        "fad9264ca2fed125f40067856672268450a224763e6b9dd4f39ee7a6b321ea2b",
        "3f3d7e213b1ff1b034598a6798224341be216fb0cb5f9321ee65c1fda35c8699",
        "2b4aec12ca80fa0f90a8d1de313d32fe29c6f9bc6804c962a4e3d26207fc9b31",
        "65ffe47b933bd09dfdd46b199b923c8ef245c69fdd5d1b327d5c61190ea1112c",
        "2019-02-25",
    ),
}


@pytest.mark.parametrize("name", sorted(TC_VECTORS))
def test_tencent_vector_intermediates_and_authorization(name):
    body, host, ts, payload_hash, hashed_canonical, k_signing, sig, date = TC_VECTORS[name]
    canonical = tc.canonical_request(content_type="application/json", host=host, body=body)
    assert canonical == (f"POST\n/\n\ncontent-type:application/json\nhost:{host}\n\ncontent-type;host\n{payload_hash}")
    assert tc.sha256_hex(canonical) == hashed_canonical
    to_sign = tc.string_to_sign(timestamp=ts, canonical=canonical)
    assert to_sign == f"TC3-HMAC-SHA256\n{ts}\n{date}/ocr/tc3_request\n{hashed_canonical}"
    assert tc.signing_key(SECRET_KEY, date).hex() == k_signing
    authorization = tc.sign(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        host=host,
        content_type="application/json",
        body=body,
        timestamp=ts,
    )
    assert authorization == (f"{TC_CRED}/{date}/ocr/tc3_request, SignedHeaders=content-type;host, Signature={sig}")


def test_tencent_tc1_derived_keys():
    k_date = tc._hmac(("TC3" + SECRET_KEY).encode(), "2019-02-25")
    assert k_date.hex() == "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a"
    assert tc._hmac(k_date, "ocr").hex() == "4f10d8de4c3d8c63afbe50e2f00a70ff3dcfcdf1aefc7d1dde476e6607d19287"


def test_tencent_tc2_uses_the_utc_date_at_23_59_59():
    assert tc.credential_date(1704067199) == "2023-12-31"
    assert tc.credential_date(1551113065) == "2019-02-25"  # already 2019-02-26 in UTC+8


@pytest.mark.parametrize(
    ("body", "payload_hash", "hashed_canonical", "sig"),
    [
        (
            b'{"ImageBase64": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP8=", "CropPortrait": true}',
            "2e3d322c8e8e3aa1432eaf0071511d2aff8becdf0101ea664cd5ecba6e3909b9",
            "ff57c6be2f5a7521919b36bc39c33a6eee37ce2068e7e213096cb0385fe77dfb",
            "7abfdaa03880f96cb2509ce329eb96e83a26b70bd8c826a5e6a2af93655922bc",
        ),
        (
            b'{"ImageBase64":"/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP8=","CropPortrait":true}',
            "c4458ced1efefb55802fc9bfe04b92b312a3e3ff8ae104e72dda7561e220dc30",
            "d8399cf24008edf88b626cc97abb640c2864f29989f7119f0be18d3550d2b4ea",
            "095e137fbbf62324e6ffcd4ebcea3e8b84347aca181e5e800d784e306f2a83b5",
        ),
    ],
    ids=["TC-5a", "TC-5b"],
)
def test_tencent_tc5_charset_content_type(body, payload_hash, hashed_canonical, sig):
    content_type = "application/json; charset=utf-8"
    canonical = tc.canonical_request(content_type=content_type, host="ocr.tencentcloudapi.com", body=body)
    assert canonical.endswith(payload_hash)
    assert tc.sha256_hex(canonical) == hashed_canonical
    authorization = tc.sign(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        host="ocr.tencentcloudapi.com",
        content_type=content_type,
        body=body,
        timestamp=1551113065,
    )
    assert authorization.endswith(f"Signature={sig}")


def test_tencent_tc0_published_documentation_example():
    body = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    canonical = tc.canonical_request(
        content_type="application/json; charset=utf-8", host="cvm.tencentcloudapi.com", body=body
    )
    assert tc.sha256_hex(body) == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    assert tc.sha256_hex(canonical) == "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    to_sign = tc.string_to_sign(timestamp=1551113065, canonical=canonical, service="cvm")
    assert tc.signature(SECRET_KEY, 1551113065, to_sign, "cvm") == (
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


AK = "HPUAEXAMPLEAK0000000"
SK = "EXAMPLESECRETKEY000000000000000000000000"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
UA = "huaweicloud-usdk-python/3.0; example-app/1.0"

# endpoint, host, date, body, body hash, (a) string-to-sign hash, (a) signature, (b) hash, (b) signature
HW_VECTORS = {
    "HW-1": (
        "exit-entry-permit",
        "ocr.ap-southeast-1.myhuaweicloud.com",
        "20240115T083000Z",
        b'{"image": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP8=", "return_portrait_image": true, '
        b'"return_portrait_location": true}',
        "a1090677ca7cb486166d23dd9f6830639c66eaa823b1ac3f027dc7309c83982c",
        "00882e022cf826c67ea237d8644d3b47465ff2043141791029bbf88ac43dd439",
        "12eef6e5117295052c4bd20d1c7bb4c54dce151085b8252870b3dca9c5f62b2e",
        "f7985c4c0cde540330733c77d55b2d1709d4110e0a612c5ed76ddd323857c171",
        "5dfe7cbabf0f55949297c6325ccee1d8c9fa82a9d3400d62b729037ceb0b6da2",
    ),
    "HW-2": (
        "mainland-travel-permit",
        "ocr.ap-southeast-1.myhuaweicloud.com",
        "20241231T235959Z",
        b'{"url": "https://example.com/mtp-front.jpg", "return_portrait_image": false}',
        "725243607891ddec18ffb48423a4b3d44aac33a1d32ad59aec52f74adea37fc5",
        "552c32f411267a533238db9c2da04ced410451d7ac518b24b8313500c414b6e9",
        "c4d141e58960f9cc67bdb2f14e4f807bfaea44726a8b08fbed9b2346e18bb888",
        "6f4b3377c4ff21c08743e61df853ae2e716ea25b08c895018b84be2d076d7980",
        "89dbb08e671f95e5836a4d5d7cb614d23269bb6859161b51086edd9d63d355b9",
    ),
    "HW-3": (
        "passport",
        "ocr.cn-north-4.myhuaweicloud.com",
        "20250301T120000Z",
        b'{"image": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP8=", "country_code": "GENERAL"}',
        "7d916b6ef1c664590cdd0423c5ef71b9ec317a6bc0de8d24096a689edcf78b13",
        "07286c74edbb3083702289c001e049ed02ec363cf33e1d6ff865184dec5221f9",
        "381df802b2c7bc2ab5d372cf4c41904f44d081b7c5e1181bfcd1e46c52b8bd8b",
        "8c07e300bfc31c94ea36d562c6b13e2acc9f306a9e301ad567a4170acb69c07f",
        "6d0ab86d48fa42739d881f9ffa5f9c66d0a360172ef0ab4b84c8051e7354c873",
    ),
}


def _hw_headers(host, date, *, user_agent=False):
    headers = {
        "Content-Type": "application/json;charset=utf-8",
        "Host": host,
        "X-Project-Id": PROJECT,
        "X-Sdk-Date": date,
    }
    if user_agent:
        headers["User-Agent"] = UA
    return headers


@pytest.mark.parametrize("name", sorted(HW_VECTORS))
def test_huawei_vector_a_full_sdk_header_set(name):
    endpoint, host, date, body, body_hash, sts_hash, sig, _, _ = HW_VECTORS[name]
    path = f"/v2/{PROJECT}/ocr/{endpoint}"
    headers = _hw_headers(host, date, user_agent=True)
    canonical = hw.canonical_request(method="POST", path=path, query=(), headers=headers, body=body)
    assert canonical == (
        f"POST\n{path}/\n\ncontent-type:application/json;charset=utf-8\nhost:{host}\nuser-agent:{UA}\n"
        f"x-project-id:{PROJECT}\nx-sdk-date:{date}\n\ncontent-type;host;user-agent;x-project-id;x-sdk-date\n"
        f"{body_hash}"
    )
    assert hw.string_to_sign(canonical, date).split("\n") == ["SDK-HMAC-SHA256", date, sts_hash]
    assert hw.sign(ak=AK, sk=SK, method="POST", path=path, headers=headers, body=body) == (
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, "
        f"Signature={sig}"
    )


@pytest.mark.parametrize("name", sorted(HW_VECTORS))
def test_huawei_vector_b_minimal_header_set(name):
    endpoint, host, date, body, body_hash, _, _, sts_hash, sig = HW_VECTORS[name]
    path = f"/v2/{PROJECT}/ocr/{endpoint}"
    headers = _hw_headers(host, date)
    canonical = hw.canonical_request(method="POST", path=path, query=(), headers=headers, body=body)
    assert canonical.endswith(f"\n\ncontent-type;host;x-project-id;x-sdk-date\n{body_hash}")
    assert hw.string_to_sign(canonical, date) == f"SDK-HMAC-SHA256\n{date}\n{sts_hash}"
    assert hw.sign(ak=AK, sk=SK, method="POST", path=path, headers=headers, body=body) == (
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={sig}"
    )


def test_huawei_hw0_published_string_to_sign():
    headers = {
        "Content-Type": "application/json",
        "Host": "service.region.example.com",
        "X-Sdk-Date": "20191115T033655Z",
    }
    query = [("marker", "13551d6b-755d-4757-b956-536f674975c0"), ("limit", "2")]
    canonical = hw.canonical_request(
        method="GET", path="/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs", query=query, headers=headers, body=b""
    )
    assert canonical == (
        "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n"
        "content-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\n"
        "content-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert hw.string_to_sign(canonical, "20191115T033655Z") == (
        "SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    )


def test_huawei_sdk_date_format_and_trailing_slash_rule():
    assert hw.sdk_date(1705307400) == "20240115T083000Z"
    assert hw.canonical_uri("/v2/p/ocr/passport") == "/v2/p/ocr/passport/"
    assert hw.canonical_uri("/v2/p/ocr/passport/") == "/v2/p/ocr/passport/"


def test_huawei_sign_refuses_without_sdk_date():
    with pytest.raises(ValueError):
        hw.sign(ak=AK, sk=SK, method="POST", path="/", headers={"Host": "h"}, body=b"")
