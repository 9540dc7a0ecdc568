"""Peer check of the emulator's mock STS: Alibaba's own `alibabacloud-credentials` gets temporary
credentials from it with its own AssumeRole signer (RPC signature v1, GET, all parameters in the
query), and the official OSS SDK then uploads with them.

No `Policy` parameter: that library percent-encodes a space as `+` before signing (spec §5.4,
vector B), which a correct verifier rejects.

The CA: the library sends through Tea's `TeaCore.do_action`, a `requests` session whose HTTPS
adapter carries an `ssl.create_default_context()` plus certifi, and calls `Session.send`
directly, so `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` (read only by `Session.request`) are
ignored. The setting it honours is OpenSSL's `SSL_CERT_FILE`, which `create_default_context`
loads through `set_default_verify_paths`. Each case runs in a fresh interpreter because the
environment is read when the first session is made (and Tea caches sessions per host).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading

import pytest

import alibabacloud_oss_v2 as oss

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION

ROLE_ARN = "acs:ram::1234567890123456:role/peer-check"

PEER = r"""
import json, sys
from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider
p = RamRoleArnCredentialsProvider(
    access_key_id=sys.argv[1], access_key_secret=sys.argv[2], role_arn=sys.argv[3],
    role_session_name="peer-check", duration_seconds=900, sts_endpoint=sys.argv[4])
c = p.get_credentials()
print(json.dumps({"id": c.get_access_key_id(), "secret": c.get_access_key_secret(),
                  "token": c.get_security_token()}))
"""


@pytest.fixture(scope="module")
def identity_emulator():
    binary = os.environ.get("OSS_EMULATOR_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("OSS_EMULATOR_BIN must point at the oss-emulator binary")
    workdir = tempfile.mkdtemp(prefix="oss-emulator-sts-")
    ca_file = os.path.join(workdir, "sts-ca.pem")
    proc = subprocess.Popen(
        [
            binary,
            "--listen", "127.0.0.1:0",
            "--region", REGION,
            "--access-key-id", ACCESS_KEY_ID,
            "--access-key-secret", ACCESS_KEY_SECRET,
            "--auto-create-buckets",
            "--identity",
            "--sts-ca-file", ca_file,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    found = {}
    for line in proc.stdout:
        for prefix, name in (
            ("oss-emulator listening on ", "endpoint"),
            ("oss-emulator STS on ", "sts"),
        ):
            if line.startswith(prefix):
                found[name] = line.strip().rsplit(" ", 1)[-1]
        if "sts" in found:
            break
    if "sts" not in found or "endpoint" not in found:
        proc.kill()
        pytest.fail("oss-emulator exited before it printed its STS address")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    yield found["endpoint"], found["sts"], ca_file
    proc.terminate()
    proc.wait(timeout=20)


def run_peer(sts_url: str, env_extra: dict, secret: str = ACCESS_KEY_SECRET):
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env.update(env_extra)
    host = sts_url.removeprefix("https://")
    return subprocess.run(
        [sys.executable, "-c", PEER, ACCESS_KEY_ID, secret, ROLE_ARN, host],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_alibabacloud_credentials_assumes_a_role_at_the_mock_sts(identity_emulator):
    endpoint, sts, ca_file = identity_emulator
    done = run_peer(sts, {"SSL_CERT_FILE": ca_file})
    assert done.returncode == 0, done.stderr
    creds = json.loads(done.stdout)
    assert creds["id"].startswith("STS.") and creds["token"]

    # The official OSS SDK uploads with them: the emulator's OSS side accepts the key.
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        creds["id"], creds["secret"], creds["token"])
    cfg.region = REGION
    cfg.endpoint = endpoint
    cfg.use_path_style = True
    client = oss.Client(cfg)
    put = client.put_object(oss.PutObjectRequest(bucket="peer-bucket", key="from-sts.txt", body=b"hello"))
    assert put.status_code == 200


def test_a_wrong_secret_is_refused_by_the_signature_check(identity_emulator):
    _, sts, ca_file = identity_emulator
    done = run_peer(sts, {"SSL_CERT_FILE": ca_file}, secret="not-the-secret")
    assert done.returncode != 0
    assert "SignatureDoesNotMatch" in done.stderr


def test_requests_ca_bundle_alone_is_not_honoured(identity_emulator):
    _, sts, ca_file = identity_emulator
    done = run_peer(sts, {"REQUESTS_CA_BUNDLE": ca_file})
    assert done.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr or "certificate verify failed" in done.stderr
