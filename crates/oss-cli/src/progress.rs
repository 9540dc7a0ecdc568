//! Upload progress for people: a bar (bytes, rate, ETA) on a terminal, plain lines otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oss_upload::{Progress, ProgressEvent};

use crate::size::human;

const BAR_TEMPLATE: &str =
    "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}";

/// Where progress is shown.
#[derive(Debug, Clone)]
pub(crate) enum ProgressView {
    /// An indicatif bar on stderr (a terminal).
    Bar(ProgressBar),
    /// A line on stderr at every 10 % (not a terminal).
    Lines(Arc<Mutex<LineState>>),
}

#[derive(Debug)]
pub(crate) struct LineState {
    started: Instant,
    total: u64,
    last_step: u64,
}

impl ProgressView {
    /// A bar when stderr is a terminal, plain lines otherwise, nothing with `-q`.
    pub(crate) fn for_stderr(total: u64) -> Self {
        if crate::output::quiet() {
            return ProgressView::Bar(ProgressBar::hidden());
        }
        if std::io::stderr().is_terminal() {
            let style = ProgressStyle::with_template(BAR_TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(style);
            ProgressView::Bar(bar)
        } else {
            ProgressView::Lines(Arc::new(Mutex::new(LineState {
                started: Instant::now(),
                total,
                last_step: 0,
            })))
        }
    }

    /// The sink handed to the uploader.
    pub(crate) fn sink(&self) -> Progress {
        let display = self.clone();
        Progress::new(move |event| display.on_event(event))
    }

    fn on_event(&self, event: &ProgressEvent) {
        let completing = matches!(event, ProgressEvent::BytesSent { total_sent, .. }
            if self.reaches_end(*total_sent));
        self.show(event);
        if completing {
            // The last bytes are with OSS; CompleteMultipartUpload (and the callback) can take
            // seconds with nothing moving, so say what is happening.
            self.message("completing the upload…");
        }
    }

    /// Whether `sent` is the first position at the end of a known total.
    fn reaches_end(&self, sent: u64) -> bool {
        match self {
            ProgressView::Bar(bar) => {
                !bar.is_hidden()
                    && bar
                        .length()
                        .is_some_and(|len| len > 0 && sent >= len && bar.position() < len)
            }
            ProgressView::Lines(state) => {
                let s = state.lock().unwrap_or_else(PoisonError::into_inner);
                s.total > 0 && sent >= s.total && s.last_step < 10
            }
        }
    }

    fn show(&self, event: &ProgressEvent) {
        match (self, event) {
            (
                ProgressView::Bar(bar),
                ProgressEvent::BytesSent { total_sent, .. }
                | ProgressEvent::BytesReceived {
                    total_received: total_sent,
                    ..
                },
            ) => {
                bar.set_position(*total_sent);
            }
            (
                ProgressView::Lines(state),
                ProgressEvent::BytesSent { total_sent, .. }
                | ProgressEvent::BytesReceived {
                    total_received: total_sent,
                    ..
                },
            ) => {
                let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
                if s.total == 0 {
                    return;
                }
                let step = total_sent.saturating_mul(10) / s.total;
                if step > s.last_step {
                    s.last_step = step;
                    let line =
                        progress_line(*total_sent, s.total, s.started.elapsed().as_secs_f64());
                    drop(s);
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
            (_, ProgressEvent::CheckpointDiscarded { reason }) => {
                self.message(&format!("checkpoint not used ({reason}); starting afresh"));
            }
            (_, ProgressEvent::Retried { operation, attempt }) => {
                self.message(&format!("retrying {operation} (attempt {attempt})"));
            }
            _ => {}
        }
    }

    /// Prints a message above the bar (or as a line).
    pub(crate) fn message(&self, text: &str) {
        match self {
            ProgressView::Bar(bar) => bar.println(text),
            ProgressView::Lines(_) => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    /// Removes the bar, so the summary starts on a line of its own.
    pub(crate) fn finish(&self) {
        if let ProgressView::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }

    /// Leaves the bar where it stopped, and ends its line so the error that follows starts on
    /// a line of its own.
    pub(crate) fn abandon(&self) {
        if let ProgressView::Bar(bar) = self {
            if bar.is_hidden() {
                return;
            }
            bar.abandon();
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `progress: 40.0 MiB / 200.0 MiB (20%), 95.3 MiB/s, ETA 2 s`
fn progress_line(sent: u64, total: u64, elapsed_secs: f64) -> String {
    let percent = sent.saturating_mul(100) / total.max(1);
    let rate = if elapsed_secs > 0.0 {
        sent as f64 / elapsed_secs
    } else {
        0.0
    };
    let eta = if rate > 0.0 {
        format!("{:.0} s", total.saturating_sub(sent) as f64 / rate)
    } else {
        "?".into()
    };
    format!(
        "progress: {} / {} ({percent}%), {}/s, ETA {eta}",
        human(sent),
        human(total),
        human(rate as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        assert_eq!(
            progress_line(40 << 20, 200 << 20, 2.0),
            "progress: 40.0 MiB / 200.0 MiB (20%), 20.0 MiB/s, ETA 8 s"
        );
        assert_eq!(
            progress_line(0, 10, 0.0),
            "progress: 0 B / 10 B (0%), 0 B/s, ETA ?"
        );
    }

    #[test]
    fn lines_once_per_tenth() {
        let display = ProgressView::Lines(Arc::new(Mutex::new(LineState {
            started: Instant::now(),
            total: 100,
            last_step: 0,
        })));
        for sent in [5u64, 12, 15, 25, 100] {
            display.on_event(&ProgressEvent::BytesSent {
                bytes: 1,
                total_sent: sent,
                total: Some(100),
            });
        }
        let ProgressView::Lines(state) = &display else {
            unreachable!()
        };
        assert_eq!(state.lock().unwrap().last_step, 10);
    }
}
