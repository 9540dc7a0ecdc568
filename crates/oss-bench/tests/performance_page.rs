//! `docs/performance.md` quotes the newest committed bench report (`docs/bench/<date>.md`, from
//! a full `cargo xtask bench`) number for number: every number in the page's tables appears in
//! that report, the page names it, and it copies every row of the report's targets table.
//! Nothing here is timed: the numbers are compared as text.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The newest `docs/bench/YYYY-MM-DD.md` (dates sort as text) and its text.
fn newest_report() -> (String, String) {
    let dir = docs().join("bench");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md") && n.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    names.sort();
    let name = names.pop().expect("a dated report in docs/bench/");
    let text = std::fs::read_to_string(dir.join(&name)).expect("readable report");
    (name, text)
}

fn page() -> String {
    std::fs::read_to_string(docs().join("performance.md")).expect("docs/performance.md")
}

/// The numbers in `text`: runs of digits with an optional decimal part (`0.44`, `2752`).
fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// Table rows (not separator lines) of a markdown text.
fn table_rows(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| ---"))
}

#[test]
fn every_number_in_the_page_tables_is_in_the_newest_report() {
    let (name, report) = newest_report();
    let known: HashSet<String> = numbers(&report).into_iter().collect();
    let page = page();
    let missing: Vec<(String, String)> = table_rows(&page)
        .flat_map(|row| {
            numbers(row)
                .into_iter()
                .filter(|n| !known.contains(n))
                .map(move |n| (n, row.to_owned()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "numbers in docs/performance.md tables that docs/bench/{name} does not have: {missing:#?}"
    );
}

#[test]
fn the_page_names_the_newest_report() {
    let (name, _) = newest_report();
    assert!(
        page().contains(&format!("docs/bench/{name}")),
        "docs/performance.md must quote docs/bench/{name}, the newest report"
    );
}

#[test]
fn the_page_copies_every_target_row() {
    let (name, report) = newest_report();
    let targets = report
        .split("\n## Targets")
        .nth(1)
        .expect("a targets section in the report");
    let targets = targets.split("\n## ").next().unwrap_or_default();
    let page = page();
    let page_rows: HashSet<&str> = table_rows(&page).collect();
    let rows: Vec<&str> = table_rows(targets).skip(1).collect();
    assert!(!rows.is_empty(), "docs/bench/{name} has no target rows");
    let missing: Vec<&&str> = rows.iter().filter(|r| !page_rows.contains(**r)).collect();
    assert!(
        missing.is_empty(),
        "target rows of docs/bench/{name} missing from docs/performance.md: {missing:#?}"
    );
}

#[test]
fn numbers_are_tokenised_as_quoted() {
    assert_eq!(
        numbers("| 0.44 | 2752 MiB/s | p3 | 1.5. |"),
        ["0.44", "2752", "3", "1.5"]
    );
}
