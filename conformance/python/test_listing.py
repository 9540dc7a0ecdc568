"""Buckets, listings and batch deletes through the official Python SDK, against an emulator with
strict buckets (the binary's default, like OSS: a bucket exists only once PutBucket made it).

The SDK always asks for `encoding-type=url` and decodes with `unquote` (a `+` stays a `+`), so
the keys below, with spaces, `+`, CJK, `%` and a literal `%20`, come back intact only if the
emulator writes a space as `%20` and `+` as `%2B` (spec §4.1); the raw answer is checked too.
"""

import alibabacloud_oss_v2 as oss
import pytest

from conftest import PRESET_BUCKET

KIB = 1024

# Byte-wise order is code-point order, which is what Python's sorted() gives.
ROOT_KEYS = ["root key.txt", "root+%.txt", "z 100%20 ~!*'();:@&=$,.txt"]
NESTED_KEYS = [
    "a b/1.txt",
    "a b/2+3.txt",
    "a b/sub/deep.txt",
    "plus+dir/k",
    "文档/报告 %20.txt",
    "文档/x+y%2B.bin",
]
SPECIAL_KEYS = sorted(ROOT_KEYS + NESTED_KEYS)


def service_error(call):
    with pytest.raises(oss.exceptions.OperationError) as info:
        call()
    return info.value.unwrap()


def make_bucket(client, name):
    assert client.put_bucket(oss.PutBucketRequest(bucket=name)).status_code == 200


def put(client, bucket, key, data):
    client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=data))


def bucket_names(client, limit=None):
    paginator = client.list_buckets_paginator(limit=limit) if limit else client.list_buckets_paginator()
    pages = list(paginator.iter_page(oss.ListBucketsRequest()))
    return [b.name for page in pages for b in (page.buckets or [])], len(pages)


def test_get_object_on_an_unknown_bucket_is_no_such_bucket(strict_client):
    err = service_error(lambda: strict_client.get_object(
        oss.GetObjectRequest(bucket="py-never-made", key="a.txt")))
    assert (err.status_code, err.code) == (404, "NoSuchBucket")
    err = service_error(lambda: strict_client.put_object(
        oss.PutObjectRequest(bucket="py-never-made", key="a.txt", body=b"x")))
    assert (err.status_code, err.code) == (404, "NoSuchBucket")
    err = service_error(lambda: strict_client.get_bucket_info(
        oss.GetBucketInfoRequest(bucket="py-never-made")))
    assert (err.status_code, err.code) == (404, "NoSuchBucket")
    # The preset bucket (--create-bucket) is there without a PutBucket.
    put(strict_client, PRESET_BUCKET, "hello.txt", b"hi")


def test_put_bucket_get_bucket_info_list_buckets_delete_bucket(strict_client):
    make_bucket(strict_client, "py-made")
    # Again by the same owner: OSS answers 200 (it modifies metadata).
    make_bucket(strict_client, "py-made")

    info = strict_client.get_bucket_info(oss.GetBucketInfoRequest(bucket="py-made")).bucket_info
    assert info.name == "py-made"
    assert info.location == "oss-cn-hangzhou"
    assert info.storage_class == "Standard"
    assert info.creation_date is not None

    names, _ = bucket_names(strict_client)
    assert "py-made" in names and PRESET_BUCKET in names
    assert names == sorted(names)
    # One bucket per page: the paginator follows NextMarker to the end.
    paged, pages = bucket_names(strict_client, limit=1)
    assert paged == names
    assert pages >= len(names)
    listed = strict_client.list_buckets(oss.ListBucketsRequest(prefix="py-m"))
    assert [b.name for b in listed.buckets] == ["py-made"]
    assert listed.buckets[0].region == "cn-hangzhou"

    # Not empty: 409 BucketNotEmpty; empty: 204, then it is gone.
    put(strict_client, "py-made", "k", b"x")
    err = service_error(lambda: strict_client.delete_bucket(oss.DeleteBucketRequest(bucket="py-made")))
    assert (err.status_code, err.code) == (409, "BucketNotEmpty")
    strict_client.delete_object(oss.DeleteObjectRequest(bucket="py-made", key="k"))
    assert strict_client.delete_bucket(oss.DeleteBucketRequest(bucket="py-made")).status_code == 204
    err = service_error(lambda: strict_client.get_bucket_info(oss.GetBucketInfoRequest(bucket="py-made")))
    assert (err.status_code, err.code) == (404, "NoSuchBucket")
    err = service_error(lambda: strict_client.delete_bucket(oss.DeleteBucketRequest(bucket="py-made")))
    assert (err.status_code, err.code) == (404, "NoSuchBucket")
    assert "py-made" not in bucket_names(strict_client)[0]


def test_list_objects_v2_paginator_with_a_delimiter_over_special_keys(strict_client):
    bucket = "py-listing"
    make_bucket(strict_client, bucket)
    sizes = {}
    for i, key in enumerate(SPECIAL_KEYS):
        sizes[key] = i + 1
        put(strict_client, bucket, key, b"x" * (i + 1))

    # One level, two entries a page: root keys as contents, the rest as common prefixes.
    paginator = strict_client.list_objects_v2_paginator(limit=2)
    pages = list(paginator.iter_page(oss.ListObjectsV2Request(bucket=bucket, delimiter="/")))
    assert len(pages) == 3
    keys = [o.key for p in pages for o in (p.contents or [])]
    prefixes = [c.prefix for p in pages for c in (p.common_prefixes or [])]
    assert keys == ROOT_KEYS
    assert prefixes == ["a b/", "plus+dir/", "文档/"]
    for page in pages:
        assert page.encoding_type == "url"
        assert page.delimiter == "/"
        assert page.key_count == len(page.contents or []) + len(page.common_prefixes or [])
    assert [p.is_truncated for p in pages] == [True, True, False]
    for o in (o for p in pages for o in (p.contents or [])):
        assert o.size == sizes[o.key]
        assert o.etag.startswith('"') and o.storage_class == "Standard"

    # Recursive under a CJK prefix, one key a page: the decoded prefix echoes back.
    pages = list(strict_client.list_objects_v2_paginator(limit=1).iter_page(
        oss.ListObjectsV2Request(bucket=bucket, prefix="文档/")))
    assert [o.key for p in pages for o in (p.contents or [])] == ["文档/x+y%2B.bin", "文档/报告 %20.txt"]
    assert all(p.prefix == "文档/" for p in pages)

    # Everything, start-after a key with a space, and the prefix one level down.
    rest = list(strict_client.list_objects_v2_paginator(limit=3).iter_page(
        oss.ListObjectsV2Request(bucket=bucket, start_after="a b/2+3.txt")))
    assert [o.key for p in rest for o in (p.contents or [])] == SPECIAL_KEYS[SPECIAL_KEYS.index("a b/2+3.txt") + 1:]
    sub = strict_client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket, prefix="a b/", delimiter="/"))
    assert [o.key for o in sub.contents] == ["a b/1.txt", "a b/2+3.txt"]
    assert [c.prefix for c in sub.common_prefixes] == ["a b/sub/"]


def test_list_objects_v2_wire_form_is_percent_20_and_percent_2b(strict_client):
    bucket = "py-wire"
    make_bucket(strict_client, bucket)
    put(strict_client, bucket, "a b+c.txt", b"x")
    out = strict_client.invoke_operation(oss.OperationInput(
        op_name="ListObjectsV2", method="GET", bucket=bucket,
        parameters={"list-type": "2", "encoding-type": "url", "prefix": "a b"}))
    xml = out.http_response.content.decode()
    assert "<Key>a%20b%2Bc.txt</Key>" in xml
    assert "<Prefix>a%20b</Prefix>" in xml
    assert "<EncodingType>url</EncodingType>" in xml


def test_list_multipart_uploads_and_list_parts(strict_client):
    bucket = "py-uploads"
    make_bucket(strict_client, bucket)
    keys = ["mp/a b+c.bin", "mp/a b+c.bin", "mp/文档%.bin", "other/x.bin"]
    ids = []
    for key in keys:
        init = strict_client.initiate_multipart_upload(
            oss.InitiateMultipartUploadRequest(bucket=bucket, key=key))
        ids.append(init.upload_id)
    etags = []
    for n in (1, 2, 3):
        part = strict_client.upload_part(oss.UploadPartRequest(
            bucket=bucket, key=keys[0], upload_id=ids[0], part_number=n, body=bytes([n]) * (100 * KIB)))
        etags.append(part.etag)

    # One upload a page: key-marker and upload-id-marker carry the paginator through the two
    # uploads of the same key.
    pages = list(strict_client.list_multipart_uploads_paginator(limit=1).iter_page(
        oss.ListMultipartUploadsRequest(bucket=bucket, prefix="mp/")))
    listed = [(u.key, u.upload_id) for p in pages for u in (p.uploads or [])]
    assert sorted(listed) == sorted(zip(keys[:3], ids[:3]))
    assert [k for k, _ in listed] == sorted(k for k, _ in listed)
    assert all(p.encoding_type == "url" for p in pages)
    assert all(u.initiated is not None for p in pages for u in (p.uploads or []))
    everything = strict_client.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket=bucket))
    assert len(everything.uploads) == 4 and not everything.is_truncated

    # Two parts a page.
    pages = list(strict_client.list_parts_paginator(limit=2).iter_page(
        oss.ListPartsRequest(bucket=bucket, key=keys[0], upload_id=ids[0])))
    assert len(pages) == 2
    parts = [p for page in pages for p in (page.parts or [])]
    assert [p.part_number for p in parts] == [1, 2, 3]
    assert [p.etag for p in parts] == etags
    assert all(p.size == 100 * KIB for p in parts)
    assert pages[0].key == keys[0]

    # Uploads in progress keep the bucket from being deleted.
    err = service_error(lambda: strict_client.delete_bucket(oss.DeleteBucketRequest(bucket=bucket)))
    assert (err.status_code, err.code) == (409, "BucketNotEmpty")
    for key, upload_id in zip(keys, ids):
        strict_client.abort_multipart_upload(
            oss.AbortMultipartUploadRequest(bucket=bucket, key=key, upload_id=upload_id))
    assert not strict_client.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket=bucket)).uploads
    err = service_error(lambda: strict_client.list_parts(
        oss.ListPartsRequest(bucket=bucket, key=keys[0], upload_id=ids[0])))
    assert (err.status_code, err.code) == (404, "NoSuchUpload")
    assert strict_client.delete_bucket(oss.DeleteBucketRequest(bucket=bucket)).status_code == 204


def test_delete_multiple_objects_verbose_and_quiet(strict_client):
    bucket = "py-batch"
    make_bucket(strict_client, bucket)
    for key in SPECIAL_KEYS:
        put(strict_client, bucket, key, b"x")

    half = SPECIAL_KEYS[:4]
    # Verbose: every key is reported, a never-written one too (as OSS does).
    result = strict_client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=bucket, encoding_type="url", quiet=False,
        objects=[oss.DeleteObject(key=k) for k in half + ["never written +%.txt"]]))
    assert sorted(d.key for d in result.deleted_objects) == sorted(half + ["never written +%.txt"])

    # Quiet: nothing reported on success.
    rest = SPECIAL_KEYS[4:]
    result = strict_client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=bucket, quiet=True, objects=[oss.DeleteObject(key=k) for k in rest]))
    assert not result.deleted_objects

    left = strict_client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket))
    assert not left.contents
    assert strict_client.delete_bucket(oss.DeleteBucketRequest(bucket=bucket)).status_code == 204

    err = service_error(lambda: strict_client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket="py-never-made", objects=[oss.DeleteObject(key="a")])))
    assert (err.status_code, err.code) == (404, "NoSuchBucket")
