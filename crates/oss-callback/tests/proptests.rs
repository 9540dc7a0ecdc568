//! Properties: carrier round trips, template resolution, escaping, tamper detection.

#[path = "support/shared.rs"]
mod common;

use oss_callback::{
    decode_form, decode_headers, decode_query, encode_form, encode_headers, encode_query,
    sign_callback, verify_callback, Callback, CallbackBodyType, CallbackPrivateKey, CallbackVars,
    SystemValues, Template, SYSTEM_VARIABLES,
};
use proptest::prelude::*;

fn host() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,10}(\\.[a-z0-9]{1,8}){0,2}"
}

fn url() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("http://"), Just("https://")],
        host(),
        proptest::option::of(1u16..=65535),
        "(/[A-Za-z0-9._~%-]{0,8}){0,3}",
    )
        .prop_map(|(scheme, host, port, path)| match port {
            Some(p) => format!("{scheme}{host}:{p}{path}"),
            None => format!("{scheme}{host}{path}"),
        })
}

fn var_key() -> impl Strategy<Value = String> {
    "x:[a-z0-9_]{1,8}"
}

fn vars() -> impl Strategy<Value = CallbackVars> {
    proptest::collection::btree_map(var_key(), any::<String>(), 0..5).prop_map(|m| {
        let mut v = CallbackVars::new();
        for (k, val) in m {
            v.insert(k, val).unwrap();
        }
        v
    })
}

/// Template pieces: literal text without `$`, or a placeholder.
fn form_template() -> impl Strategy<Value = String> {
    let placeholder = prop_oneof![
        proptest::sample::select(SYSTEM_VARIABLES).prop_map(|n| format!("${{{n}}}")),
        var_key().prop_map(|k| format!("${{{k}}}")),
    ];
    let literal = "[^$]{1,12}";
    proptest::collection::vec(
        prop_oneof![placeholder, literal.prop_map(String::from)],
        1..8,
    )
    .prop_map(|parts| parts.concat())
}

/// A JSON object template `{"k0":${v0},...}` with placeholders as values.
fn json_template() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        proptest::sample::select(SYSTEM_VARIABLES).prop_map(|n| format!("${{{n}}}")),
        var_key().prop_map(|k| format!("${{{k}}}")),
        Just("123".to_owned()),
        Just("\"lit\"".to_owned()),
    ];
    proptest::collection::vec(value, 1..6).prop_map(|vals| {
        let fields: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| format!("\"k{i}\":{v}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    })
}

fn callback() -> impl Strategy<Value = Callback> {
    (
        proptest::collection::vec(url(), 1..=5),
        proptest::option::of(host()),
        any::<bool>(),
        prop_oneof![
            form_template().prop_map(|t| (t, CallbackBodyType::FormUrlEncoded)),
            json_template().prop_map(|t| (t, CallbackBodyType::Json)),
        ],
        any::<bool>(),
        proptest::collection::btree_map("[a-z0-9][a-z0-9-]{0,8}", "[ -~]{0,10}", 0..4),
    )
        .prop_filter_map(
            "valid callback",
            |(urls, host, policy, (body, body_type), sni, headers)| {
                if policy {
                    return Callback::from_policy(format!("p{}", urls.len())).ok();
                }
                let mut b = Callback::builder()
                    .with_body(body)
                    .with_body_type(body_type)
                    .with_sni(sni);
                for u in urls {
                    b = b.with_url(u);
                }
                if let Some(h) = host {
                    b = b.with_host(h);
                }
                for (k, v) in headers {
                    if !k.starts_with("x-oss-") {
                        b = b.with_additional_header(k, v);
                    }
                }
                b.build().ok()
            },
        )
}

fn system_values() -> impl Strategy<Value = SystemValues> {
    proptest::collection::vec(any::<String>(), SYSTEM_VARIABLES.len()).prop_map(|vals| {
        let mut v = SystemValues::default();
        for (name, val) in SYSTEM_VARIABLES.iter().zip(vals) {
            v.set(name, val).unwrap();
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_callbacks_build(cb in callback()) {
        prop_assert!(cb.to_json().len() <= oss_callback::MAX_CALLBACK_JSON_LEN);
    }

    #[test]
    fn header_carrier_round_trips(cb in callback(), vars in vars()) {
        let mut headers = http::HeaderMap::new();
        encode_headers(&cb, Some(&vars), &mut headers).unwrap();
        prop_assert_eq!(decode_headers(&headers).unwrap(), Some((cb, vars)));
    }

    #[test]
    fn query_carrier_round_trips(cb in callback(), vars in vars()) {
        let q = encode_query(&cb, Some(&vars));
        prop_assert_eq!(decode_query(&q).unwrap(), Some((cb, vars)));
    }

    #[test]
    fn form_carrier_round_trips(cb in callback(), vars in vars()) {
        let f = encode_form(&cb, Some(&vars));
        prop_assert_eq!(decode_form(&f).unwrap(), Some((cb, vars)));
    }

    #[test]
    fn parse_and_resolve_never_panic(
        src in any::<String>(),
        values in system_values(),
        vars in vars(),
        json in any::<bool>(),
    ) {
        if let Ok(t) = Template::parse(&src) {
            let ty = if json { CallbackBodyType::Json } else { CallbackBodyType::FormUrlEncoded };
            let _ = t.resolve(&values, &vars, ty);
        }
    }

    #[test]
    fn json_output_is_valid_json(src in json_template(), values in system_values(), vars in vars()) {
        let t = Template::parse(&src).unwrap();
        t.check_json().unwrap();
        let out = t.resolve(&values, &vars, CallbackBodyType::Json).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        prop_assert!(parsed.is_object());
    }

    #[test]
    fn form_output_has_no_unescaped_separator_from_values(
        src in form_template(),
        values in system_values(),
        vars in vars(),
    ) {
        let t = Template::parse(&src).unwrap();
        let out = t.resolve(&values, &vars, CallbackBodyType::FormUrlEncoded).unwrap();
        // Count separators: they may only come from the template's literal text.
        let literal = t
            .resolve(&SystemValues::default(), &CallbackVars::new(), CallbackBodyType::FormUrlEncoded)
            .unwrap();
        for sep in ['&', '=', ' ', '+'] {
            prop_assert_eq!(out.matches(sep).count(), literal.matches(sep).count());
        }
    }
}

proptest! {
    // RSA over MD5 with a 512-bit key is fast, but keep the case count modest.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_single_byte_change_fails_verification(
        path in "/[A-Za-z0-9/._~+-]{0,20}",
        query in proptest::option::of("[A-Za-z0-9=&._~%+-]{0,20}"),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        which in 0usize..3,
        pos in any::<proptest::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let key = CallbackPrivateKey::from_pem(common::TEST_KEY_512).unwrap();
        let public = key.public_key();
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        let sig = sign_callback(&key, &path, &query, &body).unwrap();
        verify_callback(&public, &path, &query, &body, &sig).unwrap();
        // Change one byte of path (keeping it ASCII and '%'-free), query (same), or body.
        let ascii_change = |s: &str, i: usize| {
            let mut b = s.as_bytes().to_vec();
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._~-";
            let cur = alphabet.iter().position(|&c| c == b[i]).unwrap_or(0);
            let mut next = alphabet[(cur + delta as usize) % alphabet.len()];
            if next == b[i] {
                next = if b[i] == b'A' { b'B' } else { b'A' };
            }
            b[i] = next;
            String::from_utf8(b).unwrap()
        };
        let result = match which {
            0 => {
                let p = ascii_change(&path, pos.index(path.len()));
                verify_callback(&public, &p, &query, &body, &sig)
            }
            1 if !query.is_empty() => {
                let q = ascii_change(&query, pos.index(query.len()));
                verify_callback(&public, &path, &q, &body, &sig)
            }
            _ if !body.is_empty() => {
                let mut b = body.clone();
                let i = pos.index(b.len());
                b[i] = b[i].wrapping_add(delta);
                verify_callback(&public, &path, &query, &b, &sig)
            }
            _ => {
                let p = ascii_change(&path, pos.index(path.len()));
                verify_callback(&public, &p, &query, &body, &sig)
            }
        };
        prop_assert!(result.is_err());
    }
}
