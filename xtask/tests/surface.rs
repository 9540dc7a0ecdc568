//! The public surface is a decision: every `pub use` / `pub mod` line of a crate's `lib.rs` is
//! listed in `docs/surface.txt`, which the surface table of `docs/architecture.md` summarises.
//! Changing a crate's surface without changing that list fails here.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `crate: pub use ...;` lines, each statement joined onto one line, in file order.
fn surface_of(krate: &str, lib: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in lib.lines() {
        let t = line.trim();
        if let Some(stmt) = current.as_mut() {
            stmt.push(' ');
            stmt.push_str(t);
        } else if t.starts_with("pub use ") || t.starts_with("pub mod ") {
            current = Some(t.to_owned());
        }
        if current
            .as_deref()
            .is_some_and(|s| s.ends_with(';') || s.ends_with('{') && s.starts_with("pub mod"))
        {
            let stmt = current.take().unwrap_or_default();
            let stmt = stmt
                .replace("{ ", "{")
                .replace(", }", "}")
                .replace(",}", "}");
            out.push(format!("{krate}: {stmt}"));
        }
    }
    out
}

fn current_surface() -> Vec<String> {
    let mut crates: Vec<_> = fs::read_dir(root().join("crates"))
        .expect("crates/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("src/lib.rs").exists())
        .collect();
    crates.sort();
    let mut all = Vec::new();
    for dir in crates {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let lib = fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        all.extend(surface_of(&name, &lib));
    }
    all
}

#[test]
fn lib_rs_surface_matches_the_committed_list() {
    let listed = fs::read_to_string(root().join("docs/surface.txt")).expect("docs/surface.txt");
    let listed: Vec<&str> = listed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let current = current_surface();
    let added: Vec<_> = current
        .iter()
        .filter(|c| !listed.contains(&c.as_str()))
        .collect();
    let removed: Vec<_> = listed
        .iter()
        .filter(|l| !current.iter().any(|c| c == *l))
        .collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "the public surface changed without docs/surface.txt (and the table in \
         docs/architecture.md):\n  not listed: {added:#?}\n  listed but gone: {removed:#?}"
    );
}

#[test]
fn the_architecture_table_names_every_crate_with_a_lib() {
    let doc = fs::read_to_string(root().join("docs/architecture.md")).expect("architecture.md");
    let table = doc
        .split("## Public surface")
        .nth(1)
        .expect("a `## Public surface` section");
    for line in current_surface() {
        let krate = line.split(':').next().unwrap_or_default();
        assert!(
            table.contains(&format!("| `{krate}` |")),
            "{krate} missing from the surface table"
        );
    }
}

#[test]
fn the_parser_sees_multi_line_re_exports() {
    let lib = "mod a;\npub use a::{\n    B,\n    C,\n};\npub mod limits;\n";
    assert_eq!(
        surface_of("k", lib),
        ["k: pub use a::{B, C};", "k: pub mod limits;"]
    );
}
