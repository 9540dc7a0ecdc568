"""The direct-upload kit with an independent form encoder as the peer.

`requests` builds the multipart/form-data body itself (its own encoding, not ours) from the
fields of a token issued by the kit's example server (`serve_uploads`), posts it straight to the
emulator, and gets back the kit handler's JSON, relayed by OSS after a verified callback.
"""

from __future__ import annotations

import os
import subprocess
import threading

import alibabacloud_oss_v2 as oss
import pytest
import requests

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION

BUCKET = "py-direct"


@pytest.fixture(scope="module")
def kit(emulator):
    binary = os.environ.get("OSS_DIRECT_UPLOAD_SERVER_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("OSS_DIRECT_UPLOAD_SERVER_BIN must point at the serve_uploads example (cargo xtask conformance sets it)")
    proc = subprocess.Popen(
        [
            binary,
            "--listen", "127.0.0.1:0",
            "--endpoint", emulator.endpoint,
            "--bucket", BUCKET,
            "--region", REGION,
            "--access-key-id", ACCESS_KEY_ID,
            "--access-key-secret", ACCESS_KEY_SECRET,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = None
    for line in proc.stdout:
        if line.startswith("serve-uploads listening on "):
            url = line.strip().rsplit(" ", 1)[-1]
            break
    if url is None:
        proc.kill()
        pytest.fail("serve_uploads exited before it printed its address")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_requests_posts_the_token_fields_and_gets_the_handler_answer(kit, client):
    token = requests.get(kit + "/uploads/token", headers={"x-user": "alice"}, timeout=30)
    assert token.status_code == 200, token.text
    t = token.json()
    assert t["dir"] == "users/alice/"
    fields = dict(t["fields"])
    fields["key"] = t["dir"] + "${filename}"
    fields["Content-Type"] = "text/plain"
    resp = requests.post(
        t["host"],
        data=fields,
        files={"file": ("peer.txt", b"bytes from requests", "text/plain")},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    etag = answer.pop("etag")
    assert answer == {
        "ok": True,
        "object": "users/alice/peer.txt",
        "size": 19,
        "mimeType": "text/plain",
        "user": "alice",
        "message": "Thanks alice: users/alice/peer.txt (19 bytes) is stored.",
    }
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="users/alice/peer.txt"))
    assert got.body.read() == b"bytes from requests"
    assert got.etag.strip('"') == etag


def test_a_changed_x_field_is_refused_and_nothing_is_stored(kit, client):
    t = requests.get(kit + "/uploads/token", params={"user": "bob"}, timeout=30).json()
    fields = dict(t["fields"])
    fields["key"] = t["dir"] + "claim.txt"
    fields["Content-Type"] = "text/plain"
    fields["x:user"] = "admin"
    resp = requests.post(t["host"], data=fields, files={"file": ("c.txt", b"x", "text/plain")}, timeout=30)
    assert resp.status_code == 403, resp.text
    assert "<Code>AccessDenied</Code>" in resp.text
    with pytest.raises(oss.exceptions.OperationError):
        client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="users/bob/claim.txt"))


def test_the_hook_refuses_anonymous_and_forbidden_users(kit):
    assert requests.get(kit + "/uploads/token", timeout=30).status_code == 401
    r = requests.get(kit + "/uploads/token", headers={"x-user": "mallory"}, timeout=30)
    assert r.status_code == 403
    assert r.json()["error"] == "Forbidden"
