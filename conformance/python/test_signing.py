"""Offline cross-check: our V4 POST-policy signature equals the official Python SDK's.

No official vector covers V4 POST signing (protocol.md §7), so the SDK's own key derivation
(`SignerV4._calc_signature`) is the reference. Our side is `oss-sign`'s `post_policy` example, which
reads the inputs as JSON on stdin.
"""

import base64
import datetime
import json
import os
import random
import subprocess

import pytest
from alibabacloud_oss_v2.signer.v4 import SignerV4

CASES = [
    ("ak", "sk", None, "cn-hangzhou", "oss", 1702743657,
     {"expiration": "2023-12-17T00:00:00.000Z", "conditions": [{"bucket": "examplebucket"}]}),
    ("LTAI-example", "s3cr3t/with+chars=", "sts-token-value", "ap-southeast-1", "oss", 1735689600,
     {"expiration": "2025-01-01T01:00:00.000Z",
      "conditions": [["starts-with", "$key", "user/eric/"], ["content-length-range", 1, 10485760],
                     {"x-oss-security-token": "sts-token-value"}, ["in", "$content-type", ["image/jpg", "image/png"]]]}),
    ("ak", "sk", None, "cb-123", "oss-cloudbox", 1702781677,
     {"expiration": "2023-12-17T03:00:00.000Z", "conditions": [["eq", "$success_action_status", "201"]]}),
]


@pytest.mark.parametrize("case", CASES, ids=["basic", "sts-and-conditions", "cloudbox"])
def test_post_policy_signature_matches_python_sdk(case):
    binary = os.environ.get("OSS_SIGN_POST_POLICY_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("OSS_SIGN_POST_POLICY_BIN must point at oss-sign's post_policy example")
    ak, sk, token, region, product, when, policy = case
    policy_text = json.dumps(policy)
    request = {"access_key_id": ak, "access_key_secret": sk, "region": region,
               "product": product, "time_unix": when, "policy": policy_text}
    if token:
        request["security_token"] = token
    out = subprocess.run([binary], input=json.dumps(request), capture_output=True, text=True,
                         check=True, timeout=60)
    ours = json.loads(out.stdout)

    moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    date = moment.strftime("%Y%m%d")
    policy_b64 = base64.b64encode(policy_text.encode()).decode()
    expected = SignerV4()._calc_signature(sk, date, region, product, policy_b64)

    assert ours["policy"] == policy_b64
    assert ours["signature"] == expected
    fields = ours["fields"]
    assert fields["x-oss-signature-version"] == "OSS4-HMAC-SHA256"
    assert fields["x-oss-credential"] == f"{ak}/{date}/{region}/{product}/aliyun_v4_request"
    assert fields["x-oss-date"] == moment.strftime("%Y%m%dT%H%M%SZ")
    assert fields["x-oss-signature"] == expected
    assert fields.get("x-oss-security-token") == token


# --- Header and presign signatures on random requests -------------------------------------------

_ALPHABET = "abcXYZ019-._~ /+!@#$%^&*()=?&|子目录é'\"\\:;,<>[]{}`"


def _random_cases(count: int, seed: int) -> list:
    """Requests with awkward keys and query names, additional headers, STS and CloudBox."""
    from urllib.parse import quote

    rnd = random.Random(seed)

    def text(n):
        return "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, n)))

    cases = []
    for i in range(count):
        key = text(30)
        query = [(text(6), text(6) if rnd.random() < 0.7 else "") for _ in range(rnd.randint(0, 4))]
        qs = "&".join(quote(k, safe="") + ("=" + quote(v, safe="") if v else "") for k, v in query)
        url = "http://bucket.oss-cn-hangzhou.aliyuncs.com/" + quote(key, safe="/") + ("?" + qs if qs else "")
        headers = {"x-oss-meta-a": text(8).strip() or "x", "Content-Type": "text/plain", "abc": "v1", "User-Agent": "ua"}
        if rnd.random() < 0.5:
            headers["x-oss-callback"] = "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9leGFtcGxlLmNvbSJ9"
        region, product = rnd.choice([("cn-hangzhou", "oss"), ("cb-123", "oss-cloudbox")])
        cases.append({
            "presign": rnd.random() < 0.5, "expires": rnd.randint(1, 604800),
            "method": rnd.choice(["PUT", "GET", "POST"]), "url": url, "headers": headers,
            "region": region, "product": product, "bucket": "bucket", "key": key,
            "time": 1700000000 + rnd.randint(0, 10**8),
            "additional": rnd.choice([None, ["abc"], ["ABC", "x-oss-meta-a", "missing", "user-agent"]]),
            "secret": "sk" + text(5), "token": rnd.choice([None, "tok%d" % i]),
        })
    return cases


def _python_signature(case: dict) -> str:
    from urllib.parse import parse_qsl, urlsplit

    from alibabacloud_oss_v2.credentials import Credentials
    from alibabacloud_oss_v2.types import HttpRequest, SigningContext

    request = HttpRequest(case["method"], case["url"], headers=dict(case["headers"]))
    when = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc)
    ctx = SigningContext(
        product=case["product"], region=case["region"], bucket=case["bucket"], key=case["key"],
        request=request,
        credentials=Credentials(access_key_id="ak", access_key_secret=case["secret"],
                                security_token=case["token"]),
        signing_time=when,
        additional_headers=set(case["additional"]) if case["additional"] else None,
    )
    if case["presign"]:
        ctx.auth_method_query = True
        ctx.expiration_time = when + datetime.timedelta(seconds=case["expires"])
        SignerV4().sign(ctx)
        return dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))["x-oss-signature"]
    SignerV4().sign(ctx)
    return request.headers["Authorization"].rsplit("Signature=", 1)[1]


def test_random_header_and_presign_signatures_match_python_sdk():
    binary = os.environ.get("OSS_SIGN_CASES_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("OSS_SIGN_CASES_BIN must point at oss-sign's sign_cases example")
    cases = _random_cases(300, seed=7)
    out = subprocess.run([binary], input="\n".join(json.dumps(c) for c in cases),
                         capture_output=True, text=True, check=True, timeout=120)
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(answers) == len(cases)
    mismatches = [
        (case, ours) for case, ours in zip(cases, answers)
        if ours["signature"] != _python_signature(case)
    ]
    assert not mismatches, "first mismatch: %r\nour canonical request:\n%s" % (
        mismatches[0][0], mismatches[0][1]["canonical_request"])
    # The cases really cover both modes and both products.
    assert {c["presign"] for c in cases} == {True, False}
    assert {c["product"] for c in cases} == {"oss", "oss-cloudbox"}
