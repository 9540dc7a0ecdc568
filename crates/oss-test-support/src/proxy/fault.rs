//! What the proxy may do to a request, and the seeded choice of it.
//!
//! The choice depends on the seed, the request's method, path and query (its `uploadId` left
//! out, since the server picks it) and how many times that same request was seen before, never
//! on the order in which concurrent requests arrive: a seed injects the same faults into the
//! same requests in every run, and a retry of a request draws again.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::RequestHead;

/// An error answer in OSS's XML shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorStatus {
    /// 500 `InternalError`.
    InternalError,
    /// 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// 429 `TooManyRequests` (throttling; the code name is this proxy's, not attested by OSS).
    TooManyRequests,
}

impl ErrorStatus {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::InternalError => 500,
            Self::ServiceUnavailable => 503,
            Self::TooManyRequests => 429,
        }
    }

    /// The `<Code>` of the XML body.
    pub fn code(self) -> &'static str {
        match self {
            Self::InternalError => "InternalError",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::TooManyRequests => "TooManyRequests",
        }
    }
}

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded both ways unchanged.
    None,
    /// Part of the request body (at least none, never all of it) is forwarded, then both
    /// connections are reset: the server never sees a whole request. Only drawn for requests
    /// with a body; others get [`Fault::None`].
    ResetMidBody,
    /// The whole request is forwarded and the server's whole answer read, then the client's
    /// connection is reset before any response byte: the server did the work, the client
    /// cannot know.
    ResetBeforeResponse,
    /// Answered with this error without forwarding anything (the request body is read and
    /// dropped): the server never saw it.
    Reject(ErrorStatus),
    /// Forwarded, and the server's answer replaced with this error: the server did the work
    /// (OSS stored the object) and the client is told it failed.
    ReplaceResponse(ErrorStatus),
    /// Forwarded, and the server's answer held for [`FaultConfig::with_delay`] before it is
    /// sent, so a client with a shorter read timeout gives up on a request the server did.
    DelayResponse,
    /// Forwarded, and the answer sent with a `content-length` longer than its body, part of
    /// the body, then the connection closed. Not drawn for `HEAD` (no body to cut).
    TruncateResponse,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::ResetMidBody => f.write_str("reset-mid-body"),
            Self::ResetBeforeResponse => f.write_str("reset-before-response"),
            Self::Reject(e) => write!(f, "reject-{}", e.status()),
            Self::ReplaceResponse(e) => write!(f, "replace-{}", e.status()),
            Self::DelayResponse => f.write_str("delay-response"),
            Self::TruncateResponse => f.write_str("truncate-response"),
        }
    }
}

type Exempt = Arc<dyn Fn(&RequestHead) -> bool + Send + Sync>;

/// The faults to inject, their weights, the seed, and the requests never touched.
#[derive(Clone)]
pub struct FaultConfig {
    pub(crate) seed: u64,
    pub(crate) mix: Vec<(Fault, u32)>,
    pub(crate) exempt: Exempt,
    pub(crate) delay: Duration,
}

impl fmt::Debug for FaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultConfig")
            .field("seed", &self.seed)
            .field("mix", &self.mix)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

impl FaultConfig {
    /// No faults (every request weighs only on [`Fault::None`]) with `seed`; add faults with
    /// [`with`](Self::with). Exempt by default: anything under `/__emulator/`. Delay 2 s.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            mix: Vec::new(),
            exempt: Arc::new(|h: &RequestHead| h.path.starts_with("/__emulator/")),
            delay: Duration::from_secs(2),
        }
    }

    /// A pass-through proxy, for events and holds only.
    pub fn none() -> Self {
        Self::new(0)
    }

    /// Adds `fault` with relative `weight` (add [`Fault::None`] too, or every request that
    /// is not exempt gets a fault).
    pub fn with(mut self, fault: Fault, weight: u32) -> Self {
        self.mix.push((fault, weight));
        self
    }

    /// Requests for which `exempt` is true are forwarded unchanged and not counted (they
    /// still report events and can be held). Replaces the default.
    pub fn with_exempt(
        mut self,
        exempt: impl Fn(&RequestHead) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.exempt = Arc::new(exempt);
        self
    }

    /// How long [`Fault::DelayResponse`] holds an answer: longer than the client's read
    /// timeout. Default 2 s.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Draws faults: the seed and how often each request was seen.
#[derive(Debug, Default)]
pub(crate) struct Chooser {
    seen: HashMap<String, u64>,
}

impl Chooser {
    /// The fault for `head` and a second draw (where a mid-body reset cuts).
    pub(crate) fn choose(&mut self, config: &FaultConfig, head: &RequestHead) -> (Fault, u64) {
        let identity = identity(head);
        let n = self.seen.entry(identity.clone()).or_insert(0);
        let occurrence = *n;
        *n += 1;
        let mut state = config.seed ^ fnv1a(identity.as_bytes()) ^ occurrence.wrapping_mul(GOLDEN);
        let draw = splitmix64(&mut state);
        let extra = splitmix64(&mut state);
        let total: u64 = config.mix.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return (Fault::None, extra);
        }
        let mut pick = draw % total;
        let mut fault = Fault::None;
        for (f, w) in &config.mix {
            if pick < u64::from(*w) {
                fault = *f;
                break;
            }
            pick -= u64::from(*w);
        }
        let fault = match fault {
            Fault::ResetMidBody if head.content_length == 0 => Fault::None,
            Fault::TruncateResponse if head.method.eq_ignore_ascii_case("HEAD") => Fault::None,
            f => f,
        };
        (fault, extra)
    }
}

/// Method, path and query without `uploadId` values, which differ per run.
fn identity(head: &RequestHead) -> String {
    let mut pairs: Vec<&str> = head
        .query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("uploadId="))
        .collect();
    pairs.sort_unstable();
    format!("{} {}?{}", head.method, head.path, pairs.join("&"))
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to spread test faults.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, path: &str, query: &str, len: u64) -> RequestHead {
        RequestHead {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: Vec::new(),
            content_length: len,
        }
    }

    #[test]
    fn the_same_request_draws_the_same_fault_whatever_the_upload_id() {
        let config = FaultConfig::new(7)
            .with(Fault::None, 1)
            .with(Fault::ResetBeforeResponse, 1)
            .with(Fault::DelayResponse, 1);
        let draws = |upload_id: &str| {
            let mut c = Chooser::default();
            (0..20)
                .map(|i| {
                    let q = format!("partNumber={i}&uploadId={upload_id}");
                    c.choose(&config, &head("PUT", "/b/k", &q, 10)).0
                })
                .collect::<Vec<_>>()
        };
        let a = draws("AAA");
        assert_eq!(a, draws("BBB"));
        assert!(
            a.contains(&Fault::None) && a.contains(&Fault::DelayResponse),
            "{a:?}"
        );
        // Another seed draws differently.
        let mut c = Chooser::default();
        let other = FaultConfig {
            seed: 8,
            ..config.clone()
        };
        let b: Vec<_> = (0..20)
            .map(|i| {
                c.choose(&other, &head("PUT", "/b/k", &format!("partNumber={i}"), 10))
                    .0
            })
            .collect();
        assert_ne!(a, b);
    }

    #[test]
    fn faults_that_cannot_apply_become_none() {
        let config = FaultConfig::new(1).with(Fault::ResetMidBody, 1);
        let mut c = Chooser::default();
        assert_eq!(
            c.choose(&config, &head("POST", "/b/k", "uploads", 0)).0,
            Fault::None
        );
        assert_eq!(
            c.choose(&config, &head("PUT", "/b/k", "", 1)).0,
            Fault::ResetMidBody
        );
        let config = FaultConfig::new(1).with(Fault::TruncateResponse, 1);
        assert_eq!(
            c.choose(&config, &head("HEAD", "/b/k", "", 0)).0,
            Fault::None
        );
    }
}
