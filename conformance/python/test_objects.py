"""Plain object operations through the official Python SDK."""

import alibabacloud_oss_v2 as oss
import pytest

BUCKET = "py-objects"


def test_get_object_returns_the_bytes_put(client):
    data = bytes(range(256)) * 33
    key = "objects/子目录/a b~c+d%e=f&g.bin"
    put = client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=data))
    assert put.status_code == 200
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == data
    assert got.headers["ETag"] == put.headers["ETag"]
    # The SDK checks x-oss-hash-crc64ecma itself on upload; both ends must agree.
    assert got.headers["x-oss-hash-crc64ecma"] == put.headers["x-oss-hash-crc64ecma"]


def test_range_get(client):
    key = "objects/range.txt"
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"0123456789"))
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key, range_header="bytes=2-5"))
    assert got.status_code == 206
    assert got.body.read() == b"2345"


def test_head_object_reports_metadata(client):
    key = "objects/meta.txt"
    client.put_object(oss.PutObjectRequest(
        bucket=BUCKET, key=key, body=b"meta", content_type="text/plain",
        metadata={"owner": "conformance"}))
    head = client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key))
    assert head.content_length == 4
    assert head.content_type == "text/plain"
    assert head.metadata.get("owner") == "conformance"


def test_head_missing_object_is_404_no_such_key(client):
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="objects/missing"))
    err = info.value.unwrap()
    assert err.status_code == 404
    # HEAD has no body: the SDK reads the error from the x-oss-err header.
    assert err.code == "NoSuchKey"


def test_delete_object(client):
    key = "objects/delete-me"
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"x"))
    assert client.delete_object(oss.DeleteObjectRequest(bucket=BUCKET, key=key)).status_code == 204
    with pytest.raises(oss.exceptions.OperationError):
        client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))


def test_list_parts_paginates(client):
    key = "objects/list-parts.bin"
    init = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=key))
    for number in range(1, 6):
        client.upload_part(oss.UploadPartRequest(
            bucket=BUCKET, key=key, upload_id=init.upload_id, part_number=number,
            body=bytes([number]) * 1024))
    page = client.list_parts(oss.ListPartsRequest(
        bucket=BUCKET, key=key, upload_id=init.upload_id, max_parts=2))
    assert [p.part_number for p in page.parts] == [1, 2]
    assert page.is_truncated
    page2 = client.list_parts(oss.ListPartsRequest(
        bucket=BUCKET, key=key, upload_id=init.upload_id, max_parts=10,
        part_number_marker=page.next_part_number_marker))
    assert [p.part_number for p in page2.parts] == [3, 4, 5]
    assert not page2.is_truncated
    client.abort_multipart_upload(oss.AbortMultipartUploadRequest(
        bucket=BUCKET, key=key, upload_id=init.upload_id))
