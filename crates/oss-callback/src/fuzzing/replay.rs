//! Replays every seed/crash file under `fuzz/corpus/<target>/` through the same entry points
//! the cargo-fuzz targets call, so CI exercises them without a fuzzer.

use std::path::PathBuf;

use crate::fuzzing;
use crate::{verify_callback, Callback, CallbackPublicKey};

type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry); 3] = [
    ("template_resolve", fuzzing::template_resolve),
    ("callback_header_decode", fuzzing::callback_header_decode),
    ("callback_verify", fuzzing::callback_verify),
];

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

#[test]
fn replay_every_corpus_file() {
    for (target, entry) in TARGETS {
        let files = corpus(target);
        assert!(
            files.len() >= 3,
            "{target}: expected a seed corpus, found {} files",
            files.len()
        );
        for (path, data) in files {
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
        }
    }
}

/// The seeds are real inputs: the documented callback verifies, the vectors decode.
#[test]
fn seeds_are_meaningful() {
    let doc = std::fs::read_to_string(corpus_dir("callback_verify").join("doc_example")).unwrap();
    let mut parts = doc.splitn(3, '\n');
    let (target, auth, body) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let (path, query) = target.split_once('?').unwrap();
    let key = CallbackPublicKey::from_pem(
        "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKs/JBGzwUB2aVht4crBx3oIPBLNsjGs\nC0fTXv+nvlmklvkcolvpvXLTjaxUHR3W9LXxQ2EHXAJfCB+6H2YF1k8CAwEAAQ==\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    verify_callback(&key, path, query, body.as_bytes(), auth).unwrap();

    for (path, data) in corpus("callback_header_decode") {
        let text = String::from_utf8(data).unwrap();
        let first = text.split('\n').next().unwrap();
        let decoded = Callback::decode(first).is_ok() || Callback::from_json(&text).is_ok();
        assert!(decoded, "{} does not decode", path.display());
    }
}
