//! A throw-away certificate authority and server certificate for the TLS rows, made at run
//! time with the `openssl` command (no certificate-generation crate is among the project's
//! dependencies). Only the bench's clients are told to trust the root; the files live under
//! `target/bench/tls/`.

use std::path::Path;
use std::process::{Command, Stdio};

/// PEM file paths.
#[derive(Debug)]
pub(crate) struct Certs {
    /// The root the clients trust.
    pub(crate) ca: String,
    /// The server's certificate (for 127.0.0.1 and localhost), signed by the root.
    pub(crate) cert: String,
    pub(crate) key: String,
}

/// Makes a P-256 root and a server certificate signed by it, valid for two days.
///
/// # Errors
///
/// When `openssl` is missing or fails: the TLS rows are then skipped, and the report says so.
pub(crate) fn make_certs(dir: &Path) -> Result<Certs, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = |name: &str| dir.join(name).display().to_string();
    let (ca_key, ca, key, csr, cert, ext) = (
        path("ca.key"),
        path("ca.pem"),
        path("server.key"),
        path("server.csr"),
        path("server.pem"),
        path("server.ext"),
    );
    // A self-signed certificate used directly as its own root is refused by webpki as "a CA
    // used as an end entity", hence the two levels.
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                &ca_key,
                "-out",
                &ca,
                "-days",
                "2",
                "-subj",
                "/CN=oss-bench test root",
            ],
        ]
        .concat(),
    )?;
    openssl(
        &[
            &["req"],
            &ec[..],
            &["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"],
        ]
        .concat(),
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        &cert,
        "-days",
        "2",
        "-extfile",
        &ext,
    ])?;
    Ok(Certs { ca, cert, key })
}

fn openssl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
