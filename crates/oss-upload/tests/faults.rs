//! Issue 14's fault suite: hundreds of uploads through a seeded fault-injecting proxy
//! ([`oss_test_support::FaultProxy`]) in front of the emulator, each checked against the
//! emulator's own record.
//!
//! Faults: resets mid-body and before the response, 500/503/429 with OSS XML both instead of
//! forwarding and after the emulator did the work, answers delayed past the client's read
//! timeout, truncated answers. Half the PutObjects and half the multipart uploads carry a
//! callback with a unique `${x:id}`. Then:
//! - every upload reported ok is stored byte for byte (GET straight from the emulator, CRC-64
//!   compared with the source), as is every `CallbackOutcomeUnknown` that says it is stored;
//! - every upload ends (ok, `CallbackOutcomeUnknown` or another typed error) within its
//!   deadline;
//! - no callback is delivered twice (the emulator's log and the callback server's), none is
//!   delivered for an upload reported failed, and the emulator's log evicted nothing;
//! - no upload fails when its only fault was one (a 5xx on Complete, or on a callback-bearing
//!   PutObject);
//! - `GET /__emulator/uploads` lists no upload beyond those an Initiate whose answer was lost
//!   may have left (OSS keeps those too; the count is printed).
//!
//! `FAULT_SEED=<u64>` picks another seed; the counts are printed (`--nocapture`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use oss_callback::{Callback, CallbackBodyType, CallbackVars};
use oss_test_support::{
    Answer, CallbackServer, ErrorStatus, Fault, FaultConfig, FaultProxy, Injection,
};
use oss_upload::{Client, Confirmation, Crc64, Error};
use tokio::sync::Semaphore;

const BUCKET: &str = "faults";
const DEFAULT_SEED: u64 = 0x0014_FA17;
const PUTS: usize = 180;
const MULTIPARTS: usize = 120;
const CONCURRENCY: usize = 8;
const PART_SIZE: u64 = 200 * 1024;
/// The client gives up on a silent connection after this long.
const READ_TIMEOUT: Duration = Duration::from_millis(800);
/// A delayed answer comes this late, well past the read timeout.
const DELAY: Duration = Duration::from_millis(2000);
/// Safety bound per upload: a hang fails the suite instead of stalling it.
const UPLOAD_DEADLINE: Duration = Duration::from_secs(40);

fn seed() -> u64 {
    std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One planned upload.
#[derive(Debug, Clone)]
struct Plan {
    index: usize,
    key: String,
    multipart: bool,
    callback: bool,
    len: usize,
    state: u64,
}

impl Plan {
    /// The source bytes, made again on each call so no more than the uploads in flight are
    /// held in memory.
    fn data(&self) -> Bytes {
        let mut state = self.state;
        let mut data = Vec::with_capacity(self.len + 8);
        while data.len() < self.len {
            data.extend_from_slice(&splitmix(&mut state).to_le_bytes());
        }
        data.truncate(self.len);
        Bytes::from(data)
    }

    fn id(&self) -> String {
        format!("u{}", self.index)
    }
}

fn plans(seed: u64) -> Vec<Plan> {
    (0..PUTS + MULTIPARTS)
        .map(|index| {
            let mut state = seed ^ (index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
            let multipart = index >= PUTS;
            let len = if multipart {
                // 1 to 3 MiB: 6 to 16 parts of 200 KiB.
                (1 << 20) + (splitmix(&mut state) % (2 << 20)) as usize
            } else {
                1 + (splitmix(&mut state) % (64 << 10)) as usize
            };
            let kind = if multipart { "mp" } else { "put" };
            Plan {
                index,
                key: format!("{kind}/{index:03}"),
                multipart,
                callback: index % 2 == 0,
                len,
                state,
            }
        })
        .collect()
}

/// How one upload ended.
#[derive(Debug)]
enum Outcome {
    Ok { callback_answered: bool },
    Unknown(Confirmation),
    Failed { kind: String, display: String },
    Hung,
}

/// The variant path of an error, e.g. `Multipart/Request/Timeout`, for the counts.
fn kind(e: &Error) -> String {
    fn name(debug: String) -> String {
        debug
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap_or("")
            .to_owned()
    }
    match e {
        Error::Multipart { source, .. } => format!("Multipart/{}", kind(source)),
        Error::Request { source, .. } => format!("Request/{}", name(format!("{source:?}"))),
        other => name(format!("{other:?}")),
    }
}

fn fault_name(f: &Fault) -> String {
    f.to_string()
}

async fn upload(client: &Client, plan: &Plan, callback_url: &str) -> Outcome {
    let callback = plan.callback.then(|| {
        Callback::builder()
            .with_url(callback_url)
            .with_body(r#"{"object":${object},"id":${x:id}}"#)
            .with_body_type(CallbackBodyType::Json)
            .build()
            .unwrap()
    });
    let vars = || CallbackVars::new().with("x:id", plan.id()).unwrap();
    let data = plan.data();
    let result = if plan.multipart {
        let mut b = client
            .multipart_upload(plan.key.clone(), data.clone())
            .with_part_size(PART_SIZE)
            .with_parallelism(3);
        if let Some(cb) = callback {
            b = b.with_callback(cb).with_callback_vars(vars());
        }
        tokio::time::timeout(UPLOAD_DEADLINE, b.send()).await
    } else {
        let mut b = client.put_object(plan.key.clone(), data.clone());
        if let Some(cb) = callback {
            b = b.with_callback(cb).with_callback_vars(vars());
        }
        tokio::time::timeout(UPLOAD_DEADLINE, b.send()).await
    };
    match result {
        Err(_) => Outcome::Hung,
        Ok(Ok(out)) => Outcome::Ok {
            callback_answered: out.callback.is_some(),
        },
        Ok(Err(Error::CallbackOutcomeUnknown(u))) => Outcome::Unknown(u.confirmation),
        Ok(Err(e)) => Outcome::Failed {
            kind: kind(&e),
            display: e.to_string(),
        },
    }
}

/// Whether `plan`'s object is stored byte for byte, read straight from the emulator: the
/// bytes equal the source's and the CRC-64 the emulator reports equals the source's.
async fn check_stored(direct: &Client, plan: &Plan) -> Result<(), String> {
    let source = plan.data();
    let out = direct
        .get_object(plan.key.clone())
        .send()
        .await
        .map_err(|e| format!("{}: reported stored, GET failed: {e}", plan.key))?;
    let reported = out.head.crc64;
    let bytes = out
        .body
        .bytes()
        .await
        .map_err(|e| format!("{}: GET body: {e}", plan.key))?;
    let want = Crc64::checksum(&source);
    if bytes != source || reported != Some(want) {
        return Err(format!(
            "{}: stored {} bytes (CRC-64 {:016x}, reported {reported:?}) differ from the source's {} ({want:016x})",
            plan.key,
            bytes.len(),
            Crc64::checksum(&bytes),
            source.len(),
        ));
    }
    Ok(())
}

/// Some request of `key` was sent more often than its faults explain: a timeout or reset the
/// proxy did not inject (a busy machine) made the client resend it.
fn resent_without_fault(injections: &[Injection], key: &str) -> bool {
    let path = format!("/{BUCKET}/{key}");
    let mut sends: HashMap<String, (usize, usize)> = HashMap::new();
    // The ambiguity rule's HEADs repeat by design, one per unconfirmed send.
    for i in injections
        .iter()
        .filter(|i| i.head.path == path && i.head.method != "HEAD")
    {
        let query: Vec<&str> = i
            .head
            .query
            .split('&')
            .filter(|p| !p.starts_with("uploadId="))
            .collect();
        let entry = sends
            .entry(format!("{} {}", i.head.method, query.join("&")))
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(i.fault != Fault::None);
    }
    sends.values().any(|(sent, faulted)| *sent > faulted + 1)
}

/// The server did the request and the client never got its answer.
fn answer_lost(f: Fault) -> bool {
    matches!(
        f,
        Fault::ResetBeforeResponse
            | Fault::ReplaceResponse(_)
            | Fault::DelayResponse
            | Fault::TruncateResponse
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_survive_injected_faults_with_at_most_one_callback_each() {
    let started = Instant::now();
    let seed = seed();
    let emu = oss_test_support::emulator("ak", "sk")
        .with_log_capacity(1_000_000)
        .start()
        .await
        .unwrap();
    let cb = CallbackServer::start(&emu, Answer::StatusOk).await;
    let callback_url = format!("{}/notify", cb.url);
    let config = FaultConfig::new(seed)
        .with(Fault::None, 72)
        .with(Fault::ResetMidBody, 4)
        .with(Fault::ResetBeforeResponse, 4)
        .with(Fault::Reject(ErrorStatus::InternalError), 2)
        .with(Fault::Reject(ErrorStatus::ServiceUnavailable), 2)
        .with(Fault::Reject(ErrorStatus::TooManyRequests), 2)
        .with(Fault::ReplaceResponse(ErrorStatus::InternalError), 3)
        .with(Fault::ReplaceResponse(ErrorStatus::ServiceUnavailable), 3)
        .with(Fault::ReplaceResponse(ErrorStatus::TooManyRequests), 2)
        .with(Fault::DelayResponse, 3)
        .with(Fault::TruncateResponse, 3)
        .with_delay(DELAY);
    let proxy = FaultProxy::start(emu.local_addr(), config).await.unwrap();

    let transport = oss_transport::Client::builder()
        .with_read_timeout(READ_TIMEOUT)
        .with_connect_timeout(Duration::from_secs(2))
        .with_retry(
            oss_transport::RetryConfig::default()
                .with_max_attempts(6)
                .with_base_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(5))
                .with_seed(seed),
        );
    let client = Client::builder(BUCKET)
        .with_endpoint(proxy.url())
        .with_region(emu.region())
        .with_static_credentials("ak", "sk")
        .with_path_style(true)
        .with_transport_config(transport)
        .build()
        .unwrap();
    let direct = Client::builder(BUCKET)
        .with_endpoint(emu.endpoint())
        .with_region(emu.region())
        .with_static_credentials("ak", "sk")
        .with_path_style(true)
        .build()
        .unwrap();

    let plans = plans(seed);
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for plan in plans.clone() {
        let client = client.clone();
        let url = callback_url.clone();
        let permits = Arc::clone(&permits);
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            upload(&client, &plan, &url).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("no upload task panics"));
    }
    let uploaded_in = started.elapsed();

    // The record, straight from the emulator.
    let mut problems: Vec<String> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for d in emu.callbacks() {
        *by_key.entry(d.key.clone()).or_default() += 1;
    }
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for r in cb.received() {
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        let id = v["id"].as_str().unwrap_or("?").to_owned();
        *by_id.entry(id).or_default() += 1;
    }
    let duplicates = by_key
        .values()
        .filter(|n| **n > 1)
        .count()
        .max(by_id.values().filter(|n| **n > 1).count());
    for (key, n) in by_key.iter().filter(|(_, n)| **n > 1) {
        problems.push(format!("{key}: the emulator delivered {n} callbacks"));
    }
    for (id, n) in by_id.iter().filter(|(_, n)| **n > 1) {
        problems.push(format!("{id}: the callback server received {n} callbacks"));
    }
    let stats = emu.callback_log_stats();
    if stats.evicted != 0 {
        problems.push(format!(
            "the callback log evicted {} entries",
            stats.evicted
        ));
    }

    let injections = proxy.injections();
    let faults_of = |key: &str| -> Vec<&Injection> {
        let path = format!("/{BUCKET}/{key}");
        injections
            .iter()
            .filter(|i| i.head.path == path && i.fault != Fault::None)
            .collect()
    };
    let mut ok = 0;
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let mut hung = 0;
    for (plan, outcome) in plans.iter().zip(&outcomes) {
        let delivered = by_key.get(&plan.key).copied().unwrap_or(0);
        let mut must_be_stored = false;
        match outcome {
            Outcome::Ok { callback_answered } => {
                ok += 1;
                must_be_stored = true;
                if plan.callback && (!callback_answered || delivered != 1) {
                    problems.push(format!(
                        "{}: ok with a callback, answered {callback_answered}, delivered {delivered}",
                        plan.key
                    ));
                }
            }
            Outcome::Unknown(confirmation) => {
                *unknown.entry(format!("{confirmation:?}")).or_default() += 1;
                must_be_stored = *confirmation == Confirmation::Stored;
                if !plan.callback {
                    problems.push(format!(
                        "{}: CallbackOutcomeUnknown without a callback",
                        plan.key
                    ));
                }
            }
            Outcome::Failed { kind, display } => {
                *failed.entry(kind.clone()).or_default() += 1;
                if delivered > 0 {
                    problems.push(format!(
                        "{}: reported failed ({display}) but its callback was delivered",
                        plan.key
                    ));
                }
                // With six attempts and the ambiguity rule, one fault alone never ends an
                // upload: not a 5xx on Complete, nor one on a callback-bearing PutObject. (Not
                // judged when a busy machine's own timeouts resent requests as well.)
                let faults = faults_of(&plan.key);
                let natural = resent_without_fault(&injections, &plan.key);
                if let (false, [only]) = (natural, faults.as_slice()) {
                    let what = if only.head.method == "POST" && only.head.has_query("uploadId") {
                        "Complete".to_owned()
                    } else {
                        format!(
                            "{} {}?{}",
                            only.head.method, only.head.path, only.head.query
                        )
                    };
                    problems.push(format!(
                        "{}: lost to a single {} on {what}: {display}",
                        plan.key, only.fault
                    ));
                }
            }
            Outcome::Hung => {
                hung += 1;
                problems.push(format!(
                    "{}: no outcome within {UPLOAD_DEADLINE:?}",
                    plan.key
                ));
            }
        }
        if must_be_stored {
            if let Err(problem) = check_stored(&direct, plan).await {
                problems.push(problem);
            }
        }
    }

    // What is left open, straight from the emulator's admin view.
    let uploads_url = format!("{}/__emulator/uploads", emu.endpoint());
    let (status, body) = tokio::task::spawn_blocking(move || {
        oss_test_support::http_request(&uploads_url, "GET", &[], b"")
    })
    .await
    .unwrap();
    let left: Vec<serde_json::Value> = if status == 200 {
        serde_json::from_str(&body).unwrap_or_default()
    } else {
        problems.push(format!("GET /__emulator/uploads answered {status}"));
        Vec::new()
    };
    // An Initiate whose answer was lost (the emulator created the upload, the client never
    // learnt its id) leaves an upload behind: OSS would keep it too, so those are reported. A
    // fault loses it, and so does a read timeout on a busy machine, so every Initiate after a
    // key's first may have left one. Any other open upload is one the uploader should have
    // completed or aborted: a failure (a failed upload may keep one whose Abort was lost).
    let mut lost_initiates = 0;
    let mut faulted_initiates = 0;
    for (plan, outcome) in plans.iter().zip(&outcomes).filter(|(p, _)| p.multipart) {
        let path = format!("/{BUCKET}/{}", plan.key);
        let initiates: Vec<&Injection> = injections
            .iter()
            .filter(|i| {
                i.head.path == path && i.head.method == "POST" && i.head.has_query("uploads")
            })
            .collect();
        faulted_initiates += initiates.iter().filter(|i| answer_lost(i.fault)).count();
        let lost = initiates.len().saturating_sub(1);
        lost_initiates += lost;
        let open = left
            .iter()
            .filter(|u| u["key"] == plan.key.as_str())
            .count();
        let allowed = lost + usize::from(matches!(outcome, Outcome::Failed { .. }));
        if open > allowed {
            let requests: Vec<String> = injections
                .iter()
                .filter(|i| i.head.path == path)
                .map(|i| format!("{} ?{} {}", i.head.method, i.head.query, i.fault))
                .collect();
            let ids: Vec<String> = left
                .iter()
                .filter(|u| u["key"] == plan.key.as_str())
                .map(|u| format!("{} ({} parts)", u["upload_id"], u["parts"]))
                .collect();
            problems.push(format!(
                "{}: {open} uploads left open {ids:?} after {} Initiates ({outcome:?}); requests {requests:?}",
                plan.key,
                initiates.len()
            ));
        }
    }
    let counts = proxy.counts();
    let faults: BTreeMap<String, u64> = counts.iter().map(|(f, n)| (fault_name(f), *n)).collect();
    println!(
        "fault suite, seed {seed} (FAULT_SEED), {:?} uploading, {:?} in all",
        uploaded_in,
        started.elapsed()
    );
    println!(
        "uploads: {} ({PUTS} PutObject, {MULTIPARTS} multipart; half with a callback)",
        plans.len()
    );
    println!(
        "requests through the proxy: {}",
        counts.values().sum::<u64>()
    );
    println!("faults by kind: {faults:?}");
    println!("ok: {ok}");
    println!(
        "callback outcome unknown: {} {unknown:?}",
        unknown.values().sum::<usize>()
    );
    println!(
        "typed errors: {} {failed:?}",
        failed.values().sum::<usize>()
    );
    println!("hung: {hung}");
    let natural = plans
        .iter()
        .filter(|p| resent_without_fault(&injections, &p.key))
        .count();
    println!(
        "uploads that also resent a request the proxy did not fault (busy machine): {natural}"
    );
    println!(
        "callbacks delivered: {} (emulator log), {} (callback server)",
        by_key.values().sum::<usize>(),
        by_id.values().sum::<usize>()
    );
    println!("duplicates: {duplicates}");
    println!("callback log: {stats:?}");
    println!(
        "multipart uploads left open: {} (Initiates resent: {lost_initiates}, answers lost to a fault: {faulted_initiates})",
        left.len()
    );
    for u in left.iter().take(10) {
        println!("  open: {u}");
    }
    for (plan, outcome) in plans
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, Outcome::Failed { .. }))
        .take(20)
    {
        let faults: Vec<String> = faults_of(&plan.key)
            .iter()
            .map(|i| {
                format!(
                    "{} {}?{} {}",
                    i.head.method, i.head.path, i.head.query, i.fault
                )
            })
            .collect();
        println!("  failed {}: {outcome:?}; faults {faults:?}", plan.key);
    }
    let total_faults: u64 = counts
        .iter()
        .filter(|(f, _)| **f != Fault::None)
        .map(|(_, n)| n)
        .sum();
    assert!(
        total_faults >= 100,
        "the mix injected only {total_faults} faults"
    );
    assert!(
        ok >= plans.len() / 2,
        "only {ok} of {} uploads succeeded",
        plans.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
