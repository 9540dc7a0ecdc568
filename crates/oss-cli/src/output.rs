//! What the CLI prints besides its results: warnings on stderr, silenced by `-q`.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once from `-q` before the command runs; read wherever a warning or a human line is
/// printed, so commands need not pass the flag down.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `-q` for the rest of the process.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `-q` was given: print nothing but errors.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints `oss-rs: warning: …` on stderr unless `-q`.
pub(crate) fn warn(message: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr(), "oss-rs: warning: {message}");
    }
}
