//! The question a destructive batch command (`rm -r`, `uploads abort --all`) asks before it
//! acts. On a terminal it asks on stderr and reads the answer from stdin; `--force` skips it.
//! Without a terminal there is nobody to ask, so the command refuses unless `--force` was given
//! (docs/decisions.md: a script must opt in to batch deletion explicitly).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use crate::Error;

/// Asks `question` (e.g. "remove 60 objects under oss://b/logs/?") unless `force`.
///
/// # Errors
/// [`Error::NotConfirmed`] when the answer is not yes, or when stdin is not a terminal and
/// `force` is false; [`Error::Io`] when the terminal cannot be read.
pub(crate) async fn confirm(question: String, force: bool) -> Result<(), Error> {
    if force {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::NotConfirmed(format!(
            "{}: stdin is not a terminal, so nobody can answer; pass --force to go ahead",
            question.trim_end_matches('?')
        )));
    }
    let answer = tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::stderr().lock();
        write!(stderr, "{question} [y/N] ").and_then(|()| stderr.flush())?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok::<_, std::io::Error>(line)
    })
    .await
    .map_err(|e| Error::io("cannot read the answer", std::io::Error::other(e)))?
    .map_err(|e| Error::io("cannot read the answer", e))?;
    if is_yes(&answer) {
        Ok(())
    } else {
        Err(Error::NotConfirmed(
            "answered no; nothing was changed".into(),
        ))
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_is_yes() {
        for yes in ["y\n", "Y", " yes \n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yess", "sure"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
