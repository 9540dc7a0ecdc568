"""Authentication failures the emulator must report exactly as OSS does."""

import alibabacloud_oss_v2 as oss
import pytest

from conftest import make_client

BUCKET = "py-auth"


def _error_of(call):
    with pytest.raises(oss.exceptions.OperationError) as info:
        call()
    return info.value.unwrap()


def test_wrong_secret_is_403_signature_does_not_match(emulator):
    bad = make_client(emulator.endpoint, secret="not-the-secret")
    err = _error_of(lambda: bad.put_object(
        oss.PutObjectRequest(bucket=BUCKET, key="auth/x", body=b"x")))
    assert err.status_code == 403
    assert err.code == "SignatureDoesNotMatch"
    assert err.ec == "0002-00000201"  # the V4 signature EC


def test_unknown_access_key_is_403_invalid_access_key_id(emulator):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("who-is-this", "x")
    cfg.region = "cn-hangzhou"
    cfg.endpoint = emulator.endpoint
    cfg.use_path_style = True
    cfg.disable_ssl = True
    stranger = oss.Client(cfg)
    err = _error_of(lambda: stranger.get_object(oss.GetObjectRequest(bucket=BUCKET, key="auth/x")))
    assert err.status_code == 403
    assert err.code == "InvalidAccessKeyId"
