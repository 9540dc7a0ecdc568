//! [`ServeArgs`]: the command-line flags of the emulator, defined once and shared by the
//! `oss-emulator` binary and `oss-rs emulator` (which flattens them into its subcommand), so
//! the two cannot drift apart.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::builder::EmulatorBuilder;
use crate::error::Error;

/// The emulator's flags other than region and credentials (each binary takes those its own way).
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
    /// Keep objects and uploads on disk in this directory, across restarts [default: in memory]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Require this STS security token on every request [default: none]
    #[arg(long)]
    pub sts_token: Option<String>,
    /// Seconds a callback server has to answer
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = seconds)]
    pub callback_timeout: Duration,
    /// Refuse loopback/private callback hosts like real OSS (EC 0007-00000008)
    #[arg(long)]
    pub strict_callback_urls: bool,
    /// PEM file (PKCS#8 or PKCS#1) of the RSA key callbacks are signed with [default: a
    /// 1024-bit key generated at start]
    #[arg(long, value_name = "PEM")]
    pub rsa_key: Option<PathBuf>,
    /// Seconds a client has to send a whole request head; slower connections are closed
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = seconds)]
    pub header_read_timeout: Duration,
    /// Seconds a kept-alive connection may sit idle between requests before it is closed
    #[arg(long, default_value = "60", value_name = "SECONDS", value_parser = seconds)]
    pub idle_timeout: Duration,
    /// Most connections served at once; further clients wait until one closes
    #[arg(long, default_value_t = crate::builder::DEFAULT_MAX_CONNECTIONS, value_name = "N",
          value_parser = at_least_one)]
    pub max_connections: usize,
    /// Entries kept by each of the request and callback logs (older ones are evicted and
    /// counted at /__emulator/stats)
    #[arg(long, default_value_t = crate::ring::DEFAULT_LOG_CAPACITY, value_name = "N")]
    pub log_capacity: usize,
    /// Create this bucket at start (repeat for more). Buckets can also be made with PutBucket
    /// (`oss-rs mb`)
    #[arg(long = "create-bucket", value_name = "NAME")]
    pub create_buckets: Vec<String>,
    /// Create a bucket on its first use instead of answering NoSuchBucket [default: strict,
    /// like OSS: buckets exist only once created]
    #[arg(long)]
    pub auto_create_buckets: bool,
    /// The identity side's flags.
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// The identity side (mock ECS metadata service and mock STS) on its own listener; any of
/// these flags turns it on.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct IdentityArgs {
    /// Serve a mock IMDS (plain HTTP) and a mock STS (HTTPS, self-signed CA) on one more
    /// listener; their temporary keys are accepted by the OSS side until they expire
    #[arg(long)]
    pub identity: bool,
    /// Address of the identity listener (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub identity_listen: SocketAddr,
    /// Write the mock STS's CA certificate (PEM) to this file, for clients to trust
    #[arg(long, value_name = "PEM")]
    pub sts_ca_file: Option<PathBuf>,
    /// The OIDC token AssumeRoleWithOIDC accepts [default: none, OIDC refused]
    #[arg(long, value_name = "TOKEN")]
    pub oidc_token: Option<String>,
    /// The RAM role name the mock IMDS reports
    #[arg(long, value_name = "NAME", default_value = crate::identity::DEFAULT_ROLE_NAME)]
    pub imds_role: String,
    /// Seconds an IMDS temporary key lives (STS keys live their DurationSeconds)
    #[arg(long, default_value = "3600", value_name = "SECONDS", value_parser = seconds)]
    pub temp_key_lifetime: Duration,
}

impl IdentityArgs {
    /// The identity settings, when any flag asks for the identity side.
    pub fn config(&self) -> Option<crate::IdentityConfig> {
        let on = self.identity || self.sts_ca_file.is_some() || self.oidc_token.is_some();
        if !on {
            return None;
        }
        let mut c = crate::IdentityConfig::new()
            .with_listen(self.identity_listen)
            .with_role_name(self.imds_role.clone())
            .with_key_lifetime(self.temp_key_lifetime);
        if let Some(path) = &self.sts_ca_file {
            c = c.with_ca_file(path.clone());
        }
        if let Some(token) = &self.oidc_token {
            c = c.with_oidc_token(token.clone());
        }
        Some(c)
    }
}

/// The lines a binary prints after `oss-emulator listening on …` when the identity side is on:
/// `oss-emulator IMDS on http://127.0.0.1:PORT` and `oss-emulator STS on https://127.0.0.1:PORT`.
pub fn identity_lines(emulator: &crate::Emulator) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(imds) = emulator.imds_endpoint() {
        lines.push(format!("oss-emulator IMDS on {imds}"));
    }
    if let Some(sts) = emulator.sts_endpoint() {
        lines.push(format!("oss-emulator STS on {sts}"));
    }
    lines
}

/// A count of at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

/// A positive, finite number of seconds (fractions allowed).
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err("must be a positive number of seconds".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

impl ServeArgs {
    /// Applies every flag to `builder` (reading the `--rsa-key` file).
    ///
    /// # Errors
    /// [`Error::Io`] when the `--rsa-key` file cannot be read.
    pub fn apply(&self, builder: EmulatorBuilder) -> Result<EmulatorBuilder, Error> {
        let mut b = builder
            .with_listen(self.listen)
            .with_callback_timeout(self.callback_timeout)
            .with_strict_callback_urls(self.strict_callback_urls)
            .with_header_read_timeout(self.header_read_timeout)
            .with_idle_timeout(self.idle_timeout)
            .with_max_connections(self.max_connections)
            .with_log_capacity(self.log_capacity)
            .with_auto_create_buckets(self.auto_create_buckets);
        for name in &self.create_buckets {
            b = b.with_bucket(name.clone());
        }
        if let Some(identity) = self.identity.config() {
            b = b.with_identity(identity);
        }
        if let Some(token) = &self.sts_token {
            b = b.with_sts_token(token.clone());
        }
        if let Some(dir) = &self.data_dir {
            b = b.with_data_dir(dir.clone());
        }
        if let Some(path) = &self.rsa_key {
            let pem = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            b = b.with_rsa_key_pem(pem);
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cmd {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn defaults_and_validation() {
        let c = Cmd::try_parse_from(["x"]).unwrap().serve;
        assert_eq!(c.header_read_timeout, Duration::from_secs(30));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.callback_timeout, Duration::from_secs(5));
        assert_eq!(c.max_connections, crate::builder::DEFAULT_MAX_CONNECTIONS);
        assert!(!c.auto_create_buckets, "the binaries are strict by default");
        assert!(c.create_buckets.is_empty());
        let c = Cmd::try_parse_from(["x", "--create-bucket", "a1", "--create-bucket", "b2"])
            .unwrap()
            .serve;
        assert_eq!(c.create_buckets, ["a1", "b2"]);
        let c = Cmd::try_parse_from(["x", "--header-read-timeout", "0.25"])
            .unwrap()
            .serve;
        assert_eq!(c.header_read_timeout, Duration::from_millis(250));
        for bad in [
            &["x", "--idle-timeout", "0"][..],
            &["x", "--callback-timeout", "-1"],
            &["x", "--header-read-timeout", "inf"],
            &["x", "--max-connections", "0"],
        ] {
            assert!(Cmd::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
