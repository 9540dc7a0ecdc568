//! The multipart uploader and the raw multipart calls against the emulator.

mod support;

use bytes::Bytes;
use oss_callback::CallbackBodyType;
use oss_emulator::Operation;
use oss_upload::{
    effective_part_size, part_count, CompleteParts, Crc64, Error, ObjectOptions, Progress,
    ProgressEvent, UploadSource, DEFAULT_PART_SIZE, MAX_PARTS,
};
use support::{assert_callback, data, vars, Harness};

const PART: u64 = 100 * 1024;

async fn multipart_file(parts_full: usize, tail: usize, expected_parts: usize) {
    let h = Harness::start().await;
    let key = format!("mp/{parts_full}-{tail}.bin");
    let body = data(parts_full * PART as usize + tail);
    let f = h.write_file("src.bin", &body);
    let (progress, mut rx) = Progress::channel();
    let out = h
        .client
        .multipart_upload(&key, UploadSource::file(f))
        .with_part_size(PART)
        .with_parallelism(4)
        .with_progress(progress)
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars())
        .send()
        .await
        .unwrap();
    assert_callback(
        &h,
        &out,
        &key,
        &body,
        "application/octet-stream",
        CallbackBodyType::Json,
    );
    assert_eq!(h.stored(&key).await, body);
    let log = h.emu.requests();
    assert_eq!(log.count(Operation::UploadPart, &key), expected_parts);
    assert_eq!(log.count(Operation::InitiateMultipartUpload, &key), 1);
    assert_eq!(log.count(Operation::CompleteMultipartUpload, &key), 1);
    let mut done = Vec::new();
    let mut sent = 0;
    while let Ok(e) = rx.try_recv() {
        match e {
            ProgressEvent::PartDone { part_number, .. } => done.push(part_number),
            ProgressEvent::BytesSent {
                total_sent, total, ..
            } => {
                assert_eq!(total, Some(body.len() as u64));
                sent = total_sent;
            }
            _ => {}
        }
    }
    done.sort_unstable();
    assert_eq!(done, (1..=expected_parts as u32).collect::<Vec<_>>());
    assert_eq!(sent, body.len() as u64);
}

#[tokio::test]
async fn one_part() {
    multipart_file(1, 0, 1).await;
}

#[tokio::test]
async fn two_parts_last_short() {
    multipart_file(1, 777, 2).await;
}

#[tokio::test]
async fn thirty_seven_parts_last_short() {
    multipart_file(36, 5000, 37).await;
}

#[tokio::test]
async fn below_one_part_is_a_single_put() {
    let h = Harness::start().await;
    let body = data(PART as usize - 1);
    let out = h
        .client
        .multipart_upload("small.txt", body.clone())
        .with_part_size(PART)
        .with_callback(h.callback(CallbackBodyType::FormUrlEncoded))
        .with_callback_vars(vars())
        .send()
        .await
        .unwrap();
    assert_callback(
        &h,
        &out,
        "small.txt",
        &body,
        "text/plain",
        CallbackBodyType::FormUrlEncoded,
    );
    let log = h.emu.requests();
    assert_eq!(log.count(Operation::PutObject, "small.txt"), 1);
    assert_eq!(
        log.count(Operation::InitiateMultipartUpload, "small.txt"),
        0
    );
}

fn chunked(body: &[u8], chunk: usize) -> UploadSource {
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    UploadSource::stream(futures_util::stream::iter(chunks), None)
}

#[tokio::test]
async fn unknown_length_stream_is_buffered_part_by_part() {
    let h = Harness::start().await;
    for (key, len, parts) in [
        ("s/a", 3 * PART as usize + 10, 4),
        ("s/b", 2 * PART as usize, 2),
    ] {
        let body = data(len);
        let out = h
            .client
            .multipart_upload(key, chunked(&body, 33_333))
            .with_part_size(PART)
            .send()
            .await
            .unwrap();
        assert_eq!(out.crc64, Some(Crc64::checksum(&body)));
        assert!(out.callback.is_none());
        assert_eq!(h.stored(key).await, body);
        assert_eq!(h.emu.requests().count(Operation::UploadPart, key), parts);
    }
}

#[test]
fn part_size_grows_past_ten_thousand_parts() {
    // 100 GiB with 6 MiB parts would need 17 067 parts: the size grows by whole 6 MiB steps.
    let total = 100u64 << 30;
    let size = effective_part_size(Some(total), None);
    assert_eq!(size, 2 * DEFAULT_PART_SIZE);
    assert!(part_count(total, size) <= MAX_PARTS);
    assert!(part_count(total, size - DEFAULT_PART_SIZE) > MAX_PARTS - 1);
    // Exactly 10 000 parts of 100 KiB already grows (SDK rule: quotient >= 10 000).
    assert_eq!(
        effective_part_size(Some(10_000 * PART), Some(PART)),
        2 * PART
    );
    assert_eq!(
        effective_part_size(Some(10_000 * PART - 1), Some(PART)),
        PART
    );
}

fn failing_stream(good: usize) -> UploadSource {
    let body = data(good);
    let mut chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(50_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    chunks.push(Err(std::io::Error::other("source broke")));
    UploadSource::stream(futures_util::stream::iter(chunks), None)
}

#[tokio::test]
async fn failure_aborts_unless_parts_are_kept() {
    let h = Harness::start().await;
    let err = h
        .client
        .multipart_upload("broken/a", failing_stream(3 * PART as usize))
        .with_part_size(PART)
        .send()
        .await
        .unwrap_err();
    let Error::Multipart {
        upload_id,
        bucket,
        key,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (bucket.as_str(), key.as_str()),
        (support::BUCKET, "broken/a")
    );
    assert!(err
        .to_string()
        .contains(&format!("{upload_id} of oss://test-bucket/broken/a")));
    let gone = h
        .client
        .list_parts("broken/a", upload_id)
        .await
        .unwrap_err();
    assert_eq!(gone.service_code(), Some("NoSuchUpload"));

    let err = h
        .client
        .multipart_upload("broken/b", failing_stream(3 * PART as usize))
        .with_part_size(PART)
        .with_leave_parts_on_error(true)
        .send()
        .await
        .unwrap_err();
    let upload_id = err.upload_id().unwrap().to_owned();
    let parts = h.client.list_parts("broken/b", &upload_id).await.unwrap();
    assert!(!parts.is_empty());
    h.client
        .abort_multipart_upload("broken/b", &upload_id)
        .await
        .unwrap();
}

#[tokio::test]
async fn raw_calls_and_a_retried_complete() {
    let h = Harness::start().await;
    let key = "raw/object.dat";
    let opts = ObjectOptions::new().with_metadata("origin", "raw-test");
    let id = h
        .client
        .initiate_multipart_upload(key, &opts)
        .await
        .unwrap();
    let a = Bytes::from(data(PART as usize));
    let b = Bytes::from_static(b"tail");
    let p2 = h.client.upload_part(key, &id, 2, b.clone()).await.unwrap();
    let p1 = h.client.upload_part(key, &id, 1, a.clone()).await.unwrap();
    assert_eq!(p1.crc64, Crc64::checksum(&a));
    let listed = h.client.list_parts(key, &id).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(listed[0].etag, p1.etag);
    assert_eq!(listed[1].size, 4);
    let parts = [p1, p2];
    let out = h
        .client
        .complete_multipart_upload(key, &id, CompleteParts::Uploaded(&parts), None, None, &opts)
        .await
        .unwrap();
    let whole = [a.as_ref(), b.as_ref()].concat();
    assert_eq!(out.crc64, Some(Crc64::checksum(&whole)));
    // The same Complete again answers NoSuchUpload; HEAD shows the object is complete.
    let again = h
        .client
        .complete_multipart_upload(key, &id, CompleteParts::Uploaded(&parts), None, None, &opts)
        .await
        .unwrap();
    assert_eq!(again.etag, out.etag);
    assert_eq!(again.crc64, out.crc64);
    let head = h.client.head_object(key).await.unwrap();
    assert_eq!(head.size, whole.len() as u64);
    assert_eq!(
        head.metadata,
        vec![("origin".to_owned(), "raw-test".to_owned())]
    );
    // Without the upload's parts to compare, NoSuchUpload stays an error.
    let list: Vec<_> = parts.iter().map(Into::into).collect();
    let err = h
        .client
        .complete_multipart_upload(key, &id, CompleteParts::Listed(&list), None, None, &opts)
        .await
        .unwrap_err();
    assert_eq!(err.service_code(), Some("NoSuchUpload"));
    assert!(err.to_string().contains(&id), "{err}");
    let err = h.client.upload_part(key, &id, 0, b).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
}
