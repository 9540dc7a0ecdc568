// Shared helpers for the integration tests, included with `#[path]` (a file in a
// subdirectory is not a test target of its own).
#![allow(dead_code, unreachable_pub)]

use serde_json::Value;

pub const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../conformance/vectors/official.json"
);

pub fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).expect("conformance/vectors/official.json");
    serde_json::from_str(&text).expect("vectors file is JSON")
}

pub fn by_kind(kind: &str) -> Vec<Value> {
    vectors()
        .into_iter()
        .filter(|v| v["kind"] == kind)
        .collect()
}

pub fn by_id(id: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("vector {id} is missing from {VECTORS}"))
}

pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{} lacks string {pointer}", v["id"]))
}

pub const TEST_KEY_512: &str = include_str!("../data/test_key_512.pem");
pub const TEST_KEY_1024: &str = include_str!("../../testdata/emulator_test_key.pem");
