"""Presigned PUT URLs carrying a callback, made by the official SDK and sent with `requests`."""

import json

import alibabacloud_oss_v2 as oss
import requests

from conftest import b64json

BUCKET = "py-presign"


def _presigned_put(client, key, callback_url, tmpl):
    return client.presign(oss.PutObjectRequest(
        bucket=BUCKET, key=key,
        callback=b64json({"callbackUrl": callback_url, "callbackBody": tmpl,
                          "callbackBodyType": "application/json"}),
        callback_var=b64json({"x:var1": "presigned"}),
    ))


def test_presigned_put_with_callback_headers(client, callback_server):
    key = "presign/with-callback.txt"
    tmpl = '{"object":${object},"size":${size},"v":${x:var1}}'
    pre = _presigned_put(client, key, callback_server.url + "/presign", tmpl)
    # The callback headers are signed: the uploader must send them exactly.
    assert "x-oss-callback" in {k.lower() for k in pre.signed_headers}
    resp = requests.put(pre.url, data=b"presigned body", headers=dict(pre.signed_headers), timeout=30)
    assert resp.status_code == 200, resp.text
    received = callback_server.last()
    assert received["verified"]
    assert json.loads(received["body"]) == {"object": key, "size": "14", "v": "presigned"}
    assert resp.json()["Status"] == "OK"


def test_presigned_put_without_its_signed_callback_header_is_403(client, callback_server):
    key = "presign/missing-header.txt"
    pre = _presigned_put(client, key, callback_server.url + "/presign", '{"o":${object}}')
    headers = {k: v for k, v in pre.signed_headers.items() if k.lower() != "x-oss-callback"}
    resp = requests.put(pre.url, data=b"x", headers=headers, timeout=30)
    assert resp.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in resp.text


def test_presigned_get_returns_the_object(client):
    key = "presign/get.txt"
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"fetch me"))
    pre = client.presign(oss.GetObjectRequest(bucket=BUCKET, key=key))
    resp = requests.get(pre.url, timeout=30)
    assert resp.status_code == 200
    assert resp.content == b"fetch me"
