//! Replays `fuzz/corpus/transport_error_parse/` (seeds and saved crashes) through the function
//! the fuzz target calls.

use std::path::PathBuf;

#[test]
fn error_parse_corpus_replays() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/transport_error_parse");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        super::error_response(&data);
        count += 1;
    }
    assert!(count >= 3, "expected a seed corpus, found {count} files");
}
