//! The CRC-64 of data being uploaded, computed only when the client's CRC check is on
//! ([`ClientBuilder::with_crc_check`](crate::ClientBuilder::with_crc_check)).
//!
//! Every upload path asks here rather than calling [`Crc64`] itself, so turning the check off
//! skips the hashing, not just the compare, and one test counter sees every call.

use std::sync::{Arc, Mutex};

use oss_types::Crc64;

/// A running CRC-64 slot for a body hashed as it is sent (a file part streamed from disk) when
/// `on`, else `None`: no slot, so the transport has nothing to hash into.
pub(crate) fn running_crc(on: bool) -> Option<Arc<Mutex<Crc64>>> {
    if !on {
        return None;
    }
    #[cfg(test)]
    calls::bump();
    Some(Arc::new(Mutex::new(Crc64::new())))
}

/// `Some(crc)` of `data` when `on`, else `None` without reading `data`.
pub(crate) fn upload_crc(on: bool, data: &[u8]) -> Option<u64> {
    if !on {
        return None;
    }
    #[cfg(test)]
    calls::bump();
    Some(Crc64::checksum(data))
}

/// Counts [`upload_crc`] and [`running_crc`] hashing calls per thread, so a test on a current-thread runtime sees
/// only its own uploads while other tests run in parallel.
#[cfg(test)]
pub(crate) mod calls {
    use std::cell::Cell;

    thread_local! {
        static CALLS: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn bump() {
        CALLS.with(|c| c.set(c.get() + 1));
    }

    pub(crate) fn get() -> u64 {
        CALLS.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    async fn client(emu: &oss_emulator::Emulator, crc: bool) -> Client {
        Client::builder("bucket")
            .with_endpoint(emu.endpoint())
            .with_region(emu.region())
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .with_crc_check(crc)
            .build()
            .unwrap()
    }

    // Three parts of 100 KiB and a shorter last one, through PutObject and the multipart
    // uploader from memory and from a file (whose parts the transport hashes as it sends them,
    // into a slot only `running_crc` hands out); with the check on the counter moves (so it
    // sees these paths), with it off it stays put and the stored bytes are still exact.
    #[tokio::test]
    async fn crc_off_skips_the_hash_and_stores_the_bytes() {
        let emu = oss_test_support::emulator("ak", "sk")
            .start()
            .await
            .unwrap();
        let data: bytes::Bytes = (0..350_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        std::fs::write(&path, &data).unwrap();
        for crc in [true, false] {
            let client = client(&emu, crc).await;
            if crc {
                client.create_bucket().await.unwrap();
            }
            let before = calls::get();
            let put_key = format!("put-{crc}");
            client
                .put_object(&put_key, data.clone())
                .send()
                .await
                .unwrap();
            let mp_key = format!("multipart-{crc}");
            let out = client
                .multipart_upload(&mp_key, data.clone())
                .with_part_size(100 * 1024)
                .with_parallelism(2)
                .send()
                .await
                .unwrap();
            let file_key = format!("file-{crc}");
            let file_out = client
                .multipart_upload(&file_key, crate::UploadSource::file(&path))
                .with_part_size(100 * 1024)
                .with_parallelism(2)
                .send()
                .await
                .unwrap();
            let hashed = calls::get() - before;
            if crc {
                assert_eq!(hashed, 9, "one PutObject and four parts twice");
                assert_eq!(out.crc64, Some(Crc64::checksum(&data)));
                assert_eq!(file_out.crc64, Some(Crc64::checksum(&data)));
            } else {
                assert_eq!(hashed, 0);
            }
            for key in [&put_key, &mp_key, &file_key] {
                let stored = client
                    .get_object(key.as_str())
                    .send()
                    .await
                    .unwrap()
                    .body
                    .bytes()
                    .await
                    .unwrap();
                assert_eq!(stored, data, "{key}");
            }
        }
    }
}
