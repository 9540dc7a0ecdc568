"""Upload callbacks through the official Python SDK: PutObject, multipart Complete, the uploader."""

import json

import alibabacloud_oss_v2 as oss

from conftest import b64json

BUCKET = "py-callbacks"
JSON_TEMPLATE = (
    '{"bucket":${bucket},"object":${object},"mimeType":${mimeType},'
    '"size":${size},"etag":${etag},"my_var1":${x:var1}}'
)


def _callback(url: str, body: str, body_type: str) -> str:
    return b64json({"callbackUrl": url, "callbackBody": body, "callbackBodyType": body_type})


def _delivered_for(emulator, key: str) -> dict:
    matching = [c for c in emulator.callbacks() if c.get("key") == key]
    assert matching, f"the emulator recorded no callback for {key}"
    return matching[-1]


def test_put_object_with_json_callback(client, emulator, callback_server):
    key = "dir/json-callback.txt"
    result = client.put_object(oss.PutObjectRequest(
        bucket=BUCKET, key=key, body=b"123456789", content_type="text/plain",
        callback=_callback(callback_server.url + "/notify", JSON_TEMPLATE, "application/json"),
        callback_var=b64json({"x:var1": "value1"}),
    ))
    assert result.status_code == 200
    received = callback_server.last()
    assert received["verified"], "callback signature did not verify"
    assert received["content_type"] == "application/json"
    body = json.loads(received["body"])
    etag = result.headers["ETag"].strip('"')
    assert body == {
        "bucket": BUCKET, "object": key, "mimeType": "text/plain", "size": "9",
        "etag": etag, "my_var1": "value1",
    }
    # The uploader gets the callback server's answer as the response body.
    answer = json.loads(result.callback_result)
    assert answer["Status"] == "OK"
    assert json.loads(answer["received"]) == body
    assert _delivered_for(emulator, key)["outcome"] == "delivered"


def test_put_object_with_form_callback(client, callback_server):
    key = "dir/form callback+1.txt"
    template = "bucket=${bucket}&object=${object}&size=${size}&mimeType=${mimeType}&v=${x:var1}"
    result = client.put_object(oss.PutObjectRequest(
        bucket=BUCKET, key=key, body=b"hello", content_type="text/plain",
        callback=_callback(callback_server.url + "/form?id=1&index=2", template,
                           "application/x-www-form-urlencoded"),
        callback_var=b64json({"x:var1": "a b&c"}),
    ))
    assert result.status_code == 200
    received = callback_server.last()
    assert received["verified"]
    assert received["path"] == "/form?id=1&index=2"
    assert received["content_type"] == "application/x-www-form-urlencoded"
    assert received["body"] == (
        "bucket=py-callbacks&object=dir%2Fform%20callback%2B1.txt&size=5"
        "&mimeType=text%2Fplain&v=a%20b%26c"
    )


def test_put_object_callback_failure_is_203_and_object_kept(client, emulator, callback_server):
    key = "dir/callback-fails.txt"
    result = client.put_object(oss.PutObjectRequest(
        bucket=BUCKET, key=key, body=b"kept anyway",
        callback=_callback(callback_server.url + "/fail", "object=${object}",
                           "application/x-www-form-urlencoded"),
    ))
    # The Python SDK treats every 2xx as success; OSS answers 203 with CallbackFailed XML.
    assert result.status_code == 203
    assert "<Code>CallbackFailed</Code>" in result.callback_result
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == b"kept anyway"
    assert _delivered_for(emulator, key)["outcome"] == "failed"


def test_multipart_complete_with_callback(client, callback_server):
    key = "multipart/with-callback.bin"
    part1, part2 = b"a" * (100 * 1024), b"tail"
    init = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=key))
    parts = []
    for number, data in ((1, part1), (2, part2)):
        up = client.upload_part(oss.UploadPartRequest(
            bucket=BUCKET, key=key, upload_id=init.upload_id, part_number=number, body=data))
        parts.append(oss.UploadPart(part_number=number, etag=up.etag))
    result = client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key=key, upload_id=init.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts),
        callback=_callback(callback_server.url + "/mpu", JSON_TEMPLATE, "application/json"),
        callback_var=b64json({"x:var1": "mpu"}),
    ))
    assert result.status_code == 200
    received = callback_server.last()
    assert received["verified"]
    body = json.loads(received["body"])
    assert body["size"] == str(len(part1) + len(part2))
    assert body["object"] == key
    assert body["my_var1"] == "mpu"
    assert json.loads(result.callback_result)["Status"] == "OK"
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == part1 + part2


def test_sdk_uploader_sends_callback_on_complete(client, callback_server, tmp_path):
    key = "uploader/big.bin"
    data = bytes(range(256)) * 1600  # 409600 bytes: four 100 KiB parts
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    before = callback_server.count()
    uploader = client.uploader()
    result = uploader.upload_file(
        oss.PutObjectRequest(
            bucket=BUCKET, key=key,
            callback=_callback(callback_server.url + "/uploader", JSON_TEMPLATE, "application/json"),
            callback_var=b64json({"x:var1": "uploader"}),
        ),
        filepath=str(source), part_size=100 * 1024, parallel_num=2,
    )
    assert result.status_code == 200
    assert callback_server.count() == before + 1
    body = json.loads(callback_server.last()["body"])
    assert body["size"] == str(len(data))
    assert body["my_var1"] == "uploader"
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == data
