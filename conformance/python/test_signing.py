"""Offline cross-check: our V4 POST-policy signature equals the official Python SDK's.

No official vector covers V4 POST signing (protocol.md §7), so the SDK's own key derivation
(`SignerV4._calc_signature`) is the reference. Our side is `oss-sign`'s `post_policy` example, which
reads the inputs as JSON on stdin.
"""

import base64
import datetime
import json
import os
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
