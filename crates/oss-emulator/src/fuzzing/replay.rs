//! Replays every seed and saved crash under `fuzz/corpus/<target>/` for the emulator's fuzz
//! targets through the functions the targets call, so CI exercises them without a fuzzer.

use std::path::PathBuf;

use crate::fuzzing;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{target}: expected a seed corpus");
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

#[test]
fn raw_http_corpus_gets_answers_never_500() {
    for (path, data) in corpus("emulator_http_raw") {
        // Every seed is a complete request: each must be answered (a status, not a hang-up).
        let status = fuzzing::http_request(&data);
        assert!(status.is_some(), "no answer to {}", path.display());
    }
}

#[test]
fn signed_http_corpus_gets_answers_never_500() {
    let mut statuses = Vec::new();
    for (path, data) in corpus("emulator_http_signed") {
        let status = fuzzing::signed_request(&data);
        assert!(status.is_some(), "no answer to {}", path.display());
        statuses.push(status);
    }
    // The seeds get past authentication: at least one succeeds outright.
    assert!(statuses.contains(&Some(200)), "{statuses:?}");
}

#[test]
fn parser_corpora_replay() {
    for (_, data) in corpus("emulator_post_policy") {
        fuzzing::post_policy(&data);
    }
    for (_, data) in corpus("emulator_complete_xml") {
        fuzzing::complete_xml(&data);
    }
}
