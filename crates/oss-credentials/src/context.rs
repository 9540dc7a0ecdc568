//! The injected outside world: environment variables, files, the clock and HTTP.
//!
//! Providers read nothing directly; they ask the [`Context`]. Tests build one from
//! [`StaticEnv`], [`MemFiles`] and [`ManualClock`], so they never touch the real `HOME`, the
//! process environment or the network.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// A boxed, `Send` future: what the object-safe traits of this crate return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Environment variables.
pub trait Env: Send + Sync + fmt::Debug {
    /// The value of `name`, if set (and valid Unicode).
    fn var(&self, name: &str) -> Option<String>;

    /// The home directory: `HOME`, else `USERPROFILE` (Windows).
    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME")
            .or_else(|| self.var("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }
}

/// Reads the process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEnv;

impl Env for OsEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests and for callers that configure explicitly.
#[derive(Clone, Default)]
pub struct StaticEnv {
    vars: HashMap<String, String>,
}

impl StaticEnv {
    /// No variables at all (so no `HOME` either).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }
}

impl fmt::Debug for StaticEnv {
    // Values may be secrets: show only the names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("StaticEnv").field("names", &names).finish()
    }
}

impl Env for StaticEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
}

/// Reading whole files.
pub trait FileRead: Send + Sync + fmt::Debug {
    /// The bytes of the file at `path`.
    fn read<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, io::Result<Vec<u8>>>;
}

/// Reads the real file system (through `tokio::fs`, so the runtime is never blocked).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFiles;

impl FileRead for OsFiles {
    fn read<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, io::Result<Vec<u8>>> {
        Box::pin(tokio::fs::read(path))
    }
}

/// Files held in memory, for tests; a path can also be made unreadable.
#[derive(Clone, Default)]
pub struct MemFiles {
    files: HashMap<PathBuf, Result<Vec<u8>, io::ErrorKind>>,
}

impl MemFiles {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// A file at `path` with `contents`.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), Ok(contents.into()));
        self
    }

    /// A file at `path` that exists but fails to read with `PermissionDenied`.
    pub fn with_unreadable(mut self, path: impl Into<PathBuf>) -> Self {
        self.files
            .insert(path.into(), Err(io::ErrorKind::PermissionDenied));
        self
    }
}

impl fmt::Debug for MemFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut paths: Vec<&Path> = self.files.keys().map(PathBuf::as_path).collect();
        paths.sort_unstable();
        f.debug_struct("MemFiles").field("paths", &paths).finish()
    }
}

impl FileRead for MemFiles {
    fn read<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, io::Result<Vec<u8>>> {
        let result = match self.files.get(path) {
            Some(Ok(bytes)) => Ok(bytes.clone()),
            Some(Err(kind)) => Err(io::Error::from(*kind)),
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        };
        Box::pin(async move { result })
    }
}

/// The wall clock, used to judge expiry and schedule refreshes.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to, for tests of expiry and refresh.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: SystemTime) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sending one HTTP request, for the network providers (ECS metadata, STS, credentials URI).
pub trait HttpFetch: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the whole response.
    fn fetch(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, io::Result<http::Response<Bytes>>>;
}

/// Refuses every request. The default: the providers of this version do no network I/O, and a
/// test context can never reach `100.100.100.200` or any other address by accident.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHttp;

impl HttpFetch for NoHttp {
    fn fetch(
        &self,
        _request: http::Request<Bytes>,
    ) -> BoxFuture<'_, io::Result<http::Response<Bytes>>> {
        Box::pin(async {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no HTTP client is configured in this credentials context",
            ))
        })
    }
}

/// The outside world as the providers see it. Cheap to clone.
///
/// [`Context::new`] reads the process environment and the real file system, with the system
/// clock and no HTTP; the `with_*` setters replace one part.
///
/// ```
/// use oss_credentials::{Context, Env as _, MemFiles, StaticEnv};
/// let ctx = Context::new()
///     .with_env(StaticEnv::new().with_var("HOME", "/home/test"))
///     .with_files(MemFiles::new());
/// assert_eq!(ctx.env().home_dir(), Some("/home/test".into()));
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    env: Arc<dyn Env>,
    files: Arc<dyn FileRead>,
    clock: Arc<dyn Clock>,
    http: Arc<dyn HttpFetch>,
}

impl Context {
    /// The process environment, the real file system, the system clock, no HTTP.
    pub fn new() -> Self {
        Self {
            env: Arc::new(OsEnv),
            files: Arc::new(OsFiles),
            clock: Arc::new(SystemClock),
            http: Arc::new(NoHttp),
        }
    }

    /// Environment variables. Default: [`OsEnv`].
    pub fn with_env(mut self, env: impl Env + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// File reads. Default: [`OsFiles`].
    pub fn with_files(mut self, files: impl FileRead + 'static) -> Self {
        self.files = Arc::new(files);
        self
    }

    /// The clock. Default: [`SystemClock`].
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// HTTP for network providers. Default: [`NoHttp`].
    pub fn with_http(mut self, http: impl HttpFetch + 'static) -> Self {
        self.http = Arc::new(http);
        self
    }

    /// HTTP through [`HyperHttp`](crate::HyperHttp), trusting the extra CA file named by
    /// `OSS_RS_CA_FILE` in this context's environment, if any. What [`crate::from_env`] uses.
    ///
    /// # Errors
    /// When the CA file cannot be read or holds no certificate.
    pub fn with_default_http(self) -> Result<Self, crate::Error> {
        let http = crate::HyperHttp::from_context(&self)?;
        Ok(self.with_http(http))
    }

    /// The environment.
    pub fn env(&self) -> &dyn Env {
        &*self.env
    }

    /// The files.
    pub fn files(&self) -> &dyn FileRead {
        &*self.files
    }

    /// The clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// HTTP.
    pub fn http(&self) -> &dyn HttpFetch {
        &*self.http
    }

    /// The variable `name`, trimmed, or `None` when unset or blank.
    pub(crate) fn non_empty(&self, name: &str) -> Option<String> {
        self.env
            .var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Whether `name` is `true` (case-insensitive), the SDKs' boolean rule.
    pub(crate) fn is_true(&self, name: &str) -> bool {
        self.non_empty(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `path` with a leading `~/` replaced by the home directory.
    pub(crate) fn expand_home(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~/"), self.env.home_dir()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        }
    }
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_env_debug_shows_names_only() {
        let env = StaticEnv::new().with_var("OSS_ACCESS_KEY_SECRET", "hunter2");
        assert_eq!(
            format!("{env:?}"),
            r#"StaticEnv { names: ["OSS_ACCESS_KEY_SECRET"] }"#
        );
    }

    #[tokio::test]
    async fn mem_files_missing_and_unreadable() {
        let files = MemFiles::new().with_file("/a", "x").with_unreadable("/b");
        assert_eq!(files.read(Path::new("/a")).await.unwrap(), b"x");
        assert_eq!(
            files.read(Path::new("/b")).await.unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            files.read(Path::new("/c")).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn default_http_refuses_everything() {
        let req = http::Request::get("http://100.100.100.200/latest/meta-data/")
            .body(Bytes::new())
            .unwrap();
        let err = NoHttp.fetch(req).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    }

    #[test]
    fn booleans_and_home_expansion() {
        let ctx = Context::new().with_env(
            StaticEnv::new()
                .with_var("HOME", "/h")
                .with_var("A", "TRUE")
                .with_var("B", "yes"),
        );
        assert!(ctx.is_true("A"));
        assert!(!ctx.is_true("B") && !ctx.is_true("C"));
        assert_eq!(ctx.expand_home("~/x/y"), PathBuf::from("/h/x/y"));
        assert_eq!(ctx.expand_home("/abs"), PathBuf::from("/abs"));
    }
}
