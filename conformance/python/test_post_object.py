"""PostObject (form upload) built by hand, as the official samples do, with a V4 policy.

The signature is computed with the official SDK's own V4 key derivation, so this also checks that
the emulator's policy verification agrees with the SDK's signer.
"""

import base64
import datetime
import json

import alibabacloud_oss_v2 as oss
import requests
from alibabacloud_oss_v2.signer.v4 import SignerV4

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION, b64json

BUCKET = "py-post"


def _form(key: str, extra_conditions: list, extra_fields: dict) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc)
    date = now.strftime("%Y%m%d")
    x_oss_date = now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{ACCESS_KEY_ID}/{date}/{REGION}/oss/aliyun_v4_request"
    expiration = (now + datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = {
        "expiration": expiration,
        "conditions": [
            {"bucket": BUCKET},
            {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
            {"x-oss-credential": credential},
            {"x-oss-date": x_oss_date},
            ["content-length-range", 1, 1024],
            *extra_conditions,
        ],
    }
    policy_b64 = base64.b64encode(json.dumps(policy).encode()).decode()
    signature = SignerV4()._calc_signature(ACCESS_KEY_SECRET, date, REGION, "oss", policy_b64)
    fields = {
        "key": key,
        "policy": policy_b64,
        "x-oss-signature-version": "OSS4-HMAC-SHA256",
        "x-oss-credential": credential,
        "x-oss-date": x_oss_date,
        "x-oss-signature": signature,
    }
    fields.update(extra_fields)
    return fields


def test_post_object_with_callback(emulator, client, callback_server):
    key = "post/form-upload.txt"
    tmpl = '{"bucket":${bucket},"object":${object},"size":${size},"v":${x:var1}}'
    callback = b64json({"callbackUrl": callback_server.url + "/post", "callbackBody": tmpl,
                        "callbackBodyType": "application/json"})
    fields = _form(key, [["starts-with", "$key", "post/"]], {"callback": callback, "x:var1": "form"})
    resp = requests.post(f"{emulator.endpoint}/{BUCKET}", data=fields,
                         files={"file": ("form-upload.txt", b"posted bytes", "text/plain")}, timeout=30)
    assert resp.status_code == 200, resp.text
    received = callback_server.last()
    assert received["verified"]
    assert json.loads(received["body"]) == {"bucket": BUCKET, "object": key, "size": "12", "v": "form"}
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == b"posted bytes"


def test_post_object_policy_condition_violation_is_403(emulator):
    fields = _form("elsewhere/x.txt", [["starts-with", "$key", "post/"]], {})
    resp = requests.post(f"{emulator.endpoint}/{BUCKET}", data=fields,
                         files={"file": ("x.txt", b"x", "text/plain")}, timeout=30)
    assert resp.status_code == 403
    assert "<Code>AccessDenied</Code>" in resp.text


def test_post_object_bad_signature_is_rejected(emulator):
    fields = _form("post/bad-signature.txt", [], {})
    fields["x-oss-signature"] = "0" * 64
    resp = requests.post(f"{emulator.endpoint}/{BUCKET}", data=fields,
                         files={"file": ("x.txt", b"x", "text/plain")}, timeout=30)
    assert resp.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in resp.text
