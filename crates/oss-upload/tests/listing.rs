//! Listing, batch delete, bucket calls and HeadObject's fields against an in-process emulator
//! with strict buckets (`NoSuchBucket` until `create_bucket`).

use futures_util::TryStreamExt;
use oss_upload::{Client, Error, ObjectOptions, ObjectPage};

async fn strict() -> oss_emulator::Emulator {
    oss_emulator::Emulator::builder()
        .with_credentials("ak", "sk")
        .with_auto_create_buckets(false)
        .start()
        .await
        .expect("emulator")
}

fn client(emu: &oss_emulator::Emulator, bucket: &str) -> Client {
    Client::builder(bucket)
        .with_endpoint(emu.endpoint())
        .with_region(emu.region())
        .with_static_credentials("ak", "sk")
        .with_path_style(true)
        .build()
        .expect("client")
}

fn code(e: &Error) -> String {
    match e {
        Error::Request { oss: Some(f), .. } => f.code.clone(),
        other => panic!("not a service error: {other}"),
    }
}

#[tokio::test]
async fn lists_pages_with_decoded_keys_deletes_and_manages_buckets() {
    let emu = strict().await;
    let c = client(&emu, "listing");
    let e = c.put_object("k", "x").send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
    c.create_bucket().await.unwrap();
    let keys = ["a/x y+z%.txt", "a/中文", "a/sub/1", "b/1", "top"];
    for (i, k) in keys.iter().enumerate() {
        c.put_object(*k, vec![b'z'; i + 1])
            .with_options(ObjectOptions::new().with_metadata("n", i.to_string()))
            .send()
            .await
            .unwrap();
    }
    let pages: Vec<ObjectPage> = c
        .list_objects()
        .with_page_size(2)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let listed: Vec<(String, u64)> = pages
        .iter()
        .flat_map(|p| p.objects.iter().map(|o| (o.key.clone(), o.size)))
        .collect();
    let mut want: Vec<(String, u64)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_string(), i as u64 + 1))
        .collect();
    want.sort();
    assert_eq!(listed, want);
    assert!(pages[0].objects[0].last_modified.is_some());

    let level: Vec<ObjectPage> = c
        .list_objects()
        .with_prefix("a/")
        .with_delimiter("/")
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(level[0].common_prefixes, ["a/sub/"]);
    let direct: Vec<&str> = level[0].objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(direct, ["a/x y+z%.txt", "a/中文"]);
    let after: Vec<ObjectPage> = c
        .list_objects()
        .with_start_after("b/1")
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(after[0].objects.len(), 1);
    assert_eq!(after[0].objects[0].key, "top");

    let head = c.head_object("a/中文").await.unwrap();
    assert_eq!(head.size, 2);
    assert_eq!(head.storage_class.as_deref(), Some("Standard"));
    assert!(head.last_modified.is_some());
    assert_eq!(head.metadata, [("n".to_string(), "1".to_string())]);

    let upload_id = c
        .initiate_multipart_upload("a/big", &ObjectOptions::new())
        .await
        .unwrap();
    let uploads: Vec<_> = c
        .list_uploads()
        .with_prefix("a/")
        .with_page_size(1)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = uploads
        .iter()
        .flat_map(|p| p.uploads.iter().map(|u| u.upload_id.as_str()))
        .collect();
    assert_eq!(ids, [upload_id.as_str()]);
    assert_eq!(
        code(&c.delete_bucket().await.unwrap_err()),
        "BucketNotEmpty"
    );
    c.abort_multipart_upload("a/big", &upload_id).await.unwrap();
    let e = c
        .abort_multipart_upload("a/big", &upload_id)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");

    let all: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let verbose = c.delete_objects(&all[..2], false).await.unwrap();
    assert_eq!(verbose, &all[..2]);
    assert!(c.delete_objects(&all[2..], true).await.unwrap().is_empty());
    let left: Vec<ObjectPage> = c.list_objects().into_pages().try_collect().await.unwrap();
    assert!(left[0].objects.is_empty());

    let info = c.bucket_info().await.unwrap();
    assert_eq!(info.name, "listing");
    let buckets: Vec<_> = c.list_buckets().into_pages().try_collect().await.unwrap();
    let names: Vec<&str> = buckets.iter().flatten().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["listing"]);
    c.delete_bucket().await.unwrap();
    assert_eq!(code(&c.bucket_info().await.unwrap_err()), "NoSuchBucket");
    assert!(matches!(
        c.list_objects()
            .with_page_size(0)
            .into_pages()
            .try_collect::<Vec<_>>()
            .await,
        Err(Error::InvalidArgument { .. })
    ));
}
