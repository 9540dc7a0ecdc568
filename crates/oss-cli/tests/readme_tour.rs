//! The README's tour of `oss-rs` (between `<!-- tour:start -->` and `<!-- tour:end -->`), run
//! as a user would run it: its `export` sets the environment of the later commands, the
//! emulator and the callback server it starts with `&` are started here on free ports of
//! 127.0.0.1 (the tour's 9000 and 8080 are replaced by them everywhere), `oss-rs` is the built
//! binary, and every other line runs with `sh -c` in an empty directory and must succeed.

use std::path::Path;
use std::process::Command;

use oss_test_support::{isolated_command, spawn_callback_server, spawn_emulator, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const README: &str = include_str!("../../../README.md");

/// The tour's lines: inside the markers and the code fence, without blanks and comments.
fn tour_lines() -> Vec<&'static str> {
    let start = README
        .find("<!-- tour:start -->")
        .expect("tour:start marker");
    let end = README.find("<!-- tour:end -->").expect("tour:end marker");
    let block = &README[start..end];
    let lines: Vec<&str> = block
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("```") && !l.starts_with('#'))
        .collect();
    assert!(
        (1..=10).contains(&lines.len()),
        "the tour has {} lines (at most ten): {lines:?}",
        lines.len()
    );
    lines
}

/// `export A=1 B=2` as pairs.
fn exports(line: &str) -> Vec<(String, String)> {
    line.trim_start_matches("export ")
        .split_whitespace()
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("export NAME=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

struct Tour {
    env: Vec<(String, String)>,
    /// The tour's ports and the real ones: ("127.0.0.1:9000", "127.0.0.1:41234").
    ports: Vec<(&'static str, String)>,
    servers: Vec<Running>,
}

impl Tour {
    fn substitute(&self, line: &str) -> String {
        let mut line = line.to_owned();
        for (from, to) in &self.ports {
            line = line.replace(from, to);
        }
        line
    }

    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = isolated_command(program);
        cmd.current_dir(dir);
        for (k, v) in &self.env {
            cmd.env(k, self.substitute(v));
        }
        cmd
    }

    /// `oss-rs emulator …` / `oss-rs callback-server …` from a line ending in `&`.
    fn start_server(&mut self, line: &str, dir: &Path) {
        let words: Vec<&str> = line.trim_end_matches('&').split_whitespace().collect();
        assert_eq!(words[0], "oss-rs", "{line}");
        match words[1] {
            "emulator" => {
                assert!(!line.contains("--listen"), "{line}");
                let mut cmd = self.command(BIN, dir);
                cmd.args(&words[1..]).args(["--listen", "127.0.0.1:0"]);
                let (emulator, endpoint) = spawn_emulator(&mut cmd);
                let addr = endpoint.trim_start_matches("http://").to_owned();
                self.ports.push(("127.0.0.1:9000", addr));
                self.servers.push(emulator);
            }
            "callback-server" => {
                // The helper adds --listen 127.0.0.1:0 and --trust-key-url-prefix itself: check
                // the tour's are the ones it needs, then let it start the server.
                let listen = words
                    .iter()
                    .position(|w| *w == "--listen")
                    .expect("--listen");
                assert_eq!(words[listen + 1], "127.0.0.1:8080", "{line}");
                let trust = words
                    .iter()
                    .position(|w| *w == "--trust-key-url-prefix")
                    .expect("--trust-key-url-prefix");
                let trusted = self.substitute(words[trust + 1]);
                assert_eq!(words.len(), 6, "{line}");
                let (server, url) = spawn_callback_server(&mut self.command(BIN, dir), &trusted);
                let addr = url.trim_start_matches("http://").to_owned();
                self.ports.push(("127.0.0.1:8080", addr));
                self.servers.push(server);
            }
            other => panic!("the tour starts an unexpected server {other:?}: {line}"),
        }
    }
}

#[test]
fn readme_says_how_to_install_and_links_the_guide() {
    assert!(README.contains("cargo install --path crates/oss-cli"));
    assert!(README.contains("](docs/guide-cli.md)"));
}

#[test]
fn readme_tour_runs_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tour = Tour {
        env: Vec::new(),
        ports: Vec::new(),
        servers: Vec::new(),
    };
    let mut ran = Vec::new();
    for line in tour_lines() {
        if line.starts_with("export ") {
            tour.env.extend(exports(line));
        } else if line.ends_with('&') {
            tour.start_server(line, dir.path());
        } else {
            let script = tour.substitute(line);
            let script = match script.strip_prefix("oss-rs ") {
                Some(rest) => format!("{} {rest}", shell_quote(BIN)),
                None => script,
            };
            let out = tour
                .command("sh", dir.path())
                .args(["-c", &script])
                .output()
                .expect("run sh");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "{line}\n=> {script}\nexit {:?}\nstdout: {stdout}\nstderr: {stderr}",
                out.status.code()
            );
            ran.push((line, stdout.into_owned()));
        }
    }
    assert_eq!(
        tour.servers.len(),
        2,
        "the tour starts an emulator and a callback server"
    );
    // What each command printed is what the README says it prints.
    let printed = |name: &str| {
        ran.iter()
            .find(|(l, _)| l.starts_with(&format!("oss-rs {name} ")))
            .map(|(_, out)| out.clone())
            .unwrap_or_else(|| panic!("the tour runs no `oss-rs {name}`"))
    };
    printed("mb");
    let cp = printed("cp");
    assert!(!cp.trim().is_empty(), "cp printed no callback answer");
    assert!(printed("ls").contains("docs/hello.txt"));
    let presign = printed("presign");
    assert!(presign.starts_with("http://127.0.0.1:"), "{presign}");
}
