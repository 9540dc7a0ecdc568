//! The endpoint's URIs against the signer's query decoder (moved from the transport's
//! `endpoint.rs` when `Endpoint` moved to `oss-types`, which cannot depend on `oss-sign`).

use oss_transport::{Addressing, Endpoint};

proptest::proptest! {
    #[test]
    fn query_round_trips_through_the_signers_decoder(
        pairs in proptest::collection::vec(("[a-zA-Z0-9+|/ %&=?~._-]{1,12}", "[ -~]{0,12}"), 0..6)
    ) {
        let pairs: Vec<(String, String)> = pairs;
        let uri = Endpoint::region("cn-hangzhou").unwrap().uri(Some("bucket"), Some("k"), &pairs).unwrap();
        let decoded = oss_sign::decode_query(uri.query().unwrap_or(""));
        proptest::prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn any_key_gives_a_valid_uri_whose_path_is_the_encoded_key(key in "\\PC{0,40}") {
        let e = Endpoint::custom("http://127.0.0.1:1").unwrap().with_addressing(Addressing::PathStyle);
        let uri = e.uri(Some("bucket"), Some(&key), &[]).unwrap();
        proptest::prop_assert_eq!(uri.path(), format!("/bucket/{}", oss_sign::percent_encode(&key, true)));
    }
}
