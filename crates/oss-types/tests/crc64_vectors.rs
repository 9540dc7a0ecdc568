//! All eight official `crc64` vectors, combine included, against the one CRC-64 of the workspace
//! (moved from oss-emulator's tests when its copy was replaced by `oss_types::Crc64`).

use oss_types::Crc64;
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../conformance/vectors/official.json"
));

fn u64_of(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().expect("decimal u64 in vector"),
        Value::Number(n) => n.as_u64().expect("u64 in vector"),
        other => panic!("unexpected vector value {other}"),
    }
}

#[test]
fn all_official_crc64_vectors() {
    let all: Vec<Value> = serde_json::from_str(VECTORS).expect("vectors parse");
    let mut seen = 0;
    for v in all.iter().filter(|v| v["kind"] == "crc64") {
        let id = v["id"].as_str().unwrap_or("?");
        let input = &v["input"];
        if let Some(data) = input["data_utf8"].as_str() {
            let want = u64_of(&v["expected"]["crc64_u64"]);
            assert_eq!(Crc64::checksum(data.as_bytes()), want, "{id}");
            let mut h = Crc64::new();
            for chunk in data.as_bytes().chunks(3) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), want, "{id} (streamed)");
        } else {
            let c = &input["combine"];
            let got = Crc64::combine(u64_of(&c["crc1"]), u64_of(&c["crc2"]), u64_of(&c["len2"]));
            assert_eq!(got, u64_of(&v["expected"]["combined_u64"]), "{id}");
        }
        seen += 1;
    }
    assert_eq!(seen, 8, "expected all 8 crc64 vectors");
}
