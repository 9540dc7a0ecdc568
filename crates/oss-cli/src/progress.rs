//! Upload progress for people: a bar (bytes, rate, ETA) on a terminal, plain lines otherwise.
//!
//! Nothing is drawn until OSS has accepted bytes (a part done or found in a checkpoint, bytes
//! received by a download) or a request is still streaming its body: a request refused before
//! any byte (a wrong secret, a 403) leaves no bar behind its error. On resume, the bytes found in
//! the checkpoint are shown apart (`resumed 41.0 MiB`) and the rate counts only the bytes sent
//! by this run.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use oss_upload::{Progress, ProgressEvent};

use crate::size::human;

const BAR_TEMPLATE: &str =
    "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes}{msg} {run_rate} ETA {run_eta}";

/// Where progress is shown.
#[derive(Debug, Clone)]
pub(crate) struct ProgressView {
    kind: Kind,
    run: Arc<Mutex<RunState>>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// An indicatif bar on stderr (a terminal), drawn once [`RunState::visible`].
    Bar(ProgressBar),
    /// A line on stderr at every 10 % (not a terminal).
    Lines(Arc<Mutex<LineState>>),
    /// Nothing (`-q`).
    Quiet,
}

#[derive(Debug)]
pub(crate) struct LineState {
    total: u64,
    last_step: u64,
}

/// What this run has done, shared by the bar's rate and ETA keys.
#[derive(Debug)]
struct RunState {
    started: Instant,
    /// Bytes already in OSS (or on disk, for a download) found in a checkpoint.
    resumed: u64,
    /// OSS has accepted bytes: a part done or skipped, or bytes received.
    accepted: bool,
    /// Something has been drawn (the bar revealed, a line printed).
    visible: bool,
}

impl RunState {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            resumed: 0,
            accepted: false,
            visible: false,
        }
    }

    /// Bytes per second sent by this run, counting none of the resumed bytes.
    fn rate(&self, position: u64) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            position.saturating_sub(self.resumed) as f64 / secs
        } else {
            0.0
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ProgressView {
    /// A bar when stderr is a terminal, plain lines otherwise, nothing with `-q`.
    pub(crate) fn for_stderr(total: u64) -> Self {
        let run = Arc::new(Mutex::new(RunState::new()));
        let kind = if crate::output::quiet() {
            Kind::Quiet
        } else if std::io::stderr().is_terminal() {
            Kind::Bar(new_bar(total, &run))
        } else {
            Kind::Lines(Arc::new(Mutex::new(LineState {
                total,
                last_step: 0,
            })))
        };
        Self { kind, run }
    }

    /// The sink handed to the uploader.
    pub(crate) fn sink(&self) -> Progress {
        let display = self.clone();
        Progress::new(move |event| display.on_event(event))
    }

    fn on_event(&self, event: &ProgressEvent) {
        let before = self.position();
        self.show(event);
        let reached_end = match event {
            ProgressEvent::BytesSent { total_sent, .. } => {
                let total = self.total();
                total > 0 && *total_sent >= total && before < total
            }
            _ => false,
        };
        let visible = lock(&self.run).visible;
        if reached_end && visible {
            // The last bytes are with OSS; CompleteMultipartUpload (and the callback) can take
            // seconds with nothing moving, so say what is happening.
            self.message("completing the upload…");
        }
    }

    /// Where the bar (or the lines) stand: bytes of the object accounted for.
    fn position(&self) -> u64 {
        match &self.kind {
            Kind::Bar(bar) => bar.position(),
            Kind::Lines(state) => {
                let s = lock(state);
                s.last_step.saturating_mul(s.total) / 10
            }
            Kind::Quiet => 0,
        }
    }

    fn total(&self) -> u64 {
        match &self.kind {
            Kind::Bar(bar) => bar.length().unwrap_or(0),
            Kind::Lines(state) => lock(state).total,
            Kind::Quiet => 0,
        }
    }

    /// Marks the display visible when it may be drawn: bytes accepted, or a body still
    /// streaming (below the total). Returns whether it is visible.
    fn reveal_if(&self, streaming: bool) -> bool {
        let mut run = lock(&self.run);
        if run.visible {
            return true;
        }
        if !(run.accepted || streaming) || matches!(self.kind, Kind::Quiet) {
            return false;
        }
        run.visible = true;
        drop(run);
        if let Kind::Bar(bar) = &self.kind {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.tick();
        }
        true
    }

    fn show(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::BytesSent { total_sent, .. } => {
                let total = self.total();
                self.advance(*total_sent, total > 0 && *total_sent < total);
            }
            ProgressEvent::BytesReceived { total_received, .. } => {
                lock(&self.run).accepted = true;
                self.advance(*total_received, true);
            }
            ProgressEvent::PartDone { .. } => {
                lock(&self.run).accepted = true;
                self.reveal_if(false);
            }
            ProgressEvent::PartSkipped { size, .. } => {
                let resumed = {
                    let mut run = lock(&self.run);
                    run.accepted = true;
                    run.resumed += size;
                    run.resumed
                };
                if let Kind::Bar(bar) = &self.kind {
                    bar.set_message(format!(" (resumed {})", human(resumed)));
                    bar.inc(*size);
                }
                self.reveal_if(false);
            }
            ProgressEvent::CheckpointDiscarded { reason } => {
                self.message(&format!("checkpoint not used ({reason}); starting afresh"));
            }
            ProgressEvent::CompletedEarlier { upload_id } => {
                self.message(&format!(
                    "an earlier run completed upload {upload_id}; nothing is sent again"
                ));
            }
            ProgressEvent::Retried { operation, attempt } => {
                self.message(&format!("retrying {operation} (attempt {attempt})"));
            }
            _ => {}
        }
    }

    /// Moves to `position` (bytes of the object accounted for, resumed ones included).
    fn advance(&self, position: u64, streaming: bool) {
        match &self.kind {
            Kind::Bar(bar) => {
                self.reveal_if(streaming);
                bar.set_position(position);
            }
            Kind::Lines(state) => {
                let s = lock(state);
                if s.total == 0 {
                    return;
                }
                let step = position.saturating_mul(10) / s.total;
                if step <= s.last_step {
                    return;
                }
                let total = s.total;
                drop(s);
                if !self.reveal_if(streaming) {
                    return;
                }
                lock(state).last_step = step;
                let (resumed, rate) = {
                    let run = lock(&self.run);
                    (run.resumed, run.rate(position))
                };
                let line = progress_line(position, total, resumed, rate);
                let _ = writeln!(std::io::stderr(), "{line}");
            }
            Kind::Quiet => {}
        }
    }

    /// Prints a message above the bar (or as a line); nothing with `-q`.
    pub(crate) fn message(&self, text: &str) {
        let visible = lock(&self.run).visible;
        match &self.kind {
            Kind::Bar(bar) if visible => bar.println(text),
            Kind::Bar(_) | Kind::Lines(_) => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
            Kind::Quiet => {}
        }
    }

    /// Removes the bar, so the summary starts on a line of its own.
    pub(crate) fn finish(&self) {
        if let Kind::Bar(bar) = &self.kind {
            bar.finish_and_clear();
        }
    }

    /// On an error or an interruption: leaves the bar where it stopped when OSS had accepted
    /// bytes, and ends its line so the error that follows starts on a line of its own; clears
    /// it without a final frame when nothing was accepted (a request refused while its body
    /// streamed); draws nothing when nothing was drawn.
    pub(crate) fn abandon(&self) {
        let Kind::Bar(bar) = &self.kind else { return };
        let (visible, accepted) = {
            let run = lock(&self.run);
            (run.visible, run.accepted)
        };
        if !visible {
            return;
        }
        if accepted {
            bar.abandon();
            let _ = writeln!(std::io::stderr());
        } else {
            bar.finish_and_clear();
        }
    }
}

/// A bar that draws nothing until revealed, with this run's rate and ETA.
fn new_bar(total: u64, run: &Arc<Mutex<RunState>>) -> ProgressBar {
    let rate_run = Arc::clone(run);
    let eta_run = Arc::clone(run);
    let style = ProgressStyle::with_template(BAR_TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "run_rate",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let rate = lock(&rate_run).rate(state.pos());
                let _ = write!(w, "{}/s", human(rate as u64));
            },
        )
        .with_key(
            "run_eta",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let rate = lock(&eta_run).rate(state.pos());
                let left = state.len().unwrap_or(0).saturating_sub(state.pos());
                let _ = w.write_str(&eta(left, rate));
            },
        )
        .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()).with_style(style)
}

fn eta(left: u64, rate: f64) -> String {
    if rate > 0.0 {
        format!("{:.0} s", left as f64 / rate)
    } else {
        "?".into()
    }
}

/// `progress: 40.0 MiB / 200.0 MiB (20%), 95.3 MiB/s, ETA 2 s`, with `resumed 41.0 MiB, `
/// before the rate after a resume; `rate` counts only the bytes sent by this run.
fn progress_line(position: u64, total: u64, resumed: u64, rate: f64) -> String {
    let percent = position.saturating_mul(100) / total.max(1);
    let mut line = format!(
        "progress: {} / {} ({percent}%), ",
        human(position),
        human(total)
    );
    if resumed > 0 {
        let _ = write!(line, "resumed {}, ", human(resumed));
    }
    let _ = write!(
        line,
        "{}/s, ETA {}",
        human(rate as u64),
        eta(total.saturating_sub(position), rate)
    );
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(total: u64) -> ProgressView {
        ProgressView {
            kind: Kind::Lines(Arc::new(Mutex::new(LineState {
                total,
                last_step: 0,
            }))),
            run: Arc::new(Mutex::new(RunState::new())),
        }
    }

    fn sent(total_sent: u64, total: u64) -> ProgressEvent {
        ProgressEvent::BytesSent {
            bytes: 1,
            total_sent,
            total: Some(total),
        }
    }

    #[test]
    fn line_format() {
        assert_eq!(
            progress_line(40 << 20, 200 << 20, 0, (20 << 20) as f64),
            "progress: 40.0 MiB / 200.0 MiB (20%), 20.0 MiB/s, ETA 8 s"
        );
        assert_eq!(
            progress_line(0, 10, 0, 0.0),
            "progress: 0 B / 10 B (0%), 0 B/s, ETA ?"
        );
        assert_eq!(
            progress_line(47 << 20, 300 << 20, 41 << 20, (1 << 20) as f64),
            "progress: 47.0 MiB / 300.0 MiB (15%), resumed 41.0 MiB, 1.0 MiB/s, ETA 253 s"
        );
    }

    #[test]
    fn lines_once_per_tenth() {
        let display = lines(100);
        for position in [5u64, 12, 15, 25, 100] {
            display.on_event(&sent(position, 100));
        }
        let Kind::Lines(state) = &display.kind else {
            unreachable!()
        };
        assert_eq!(lock(state).last_step, 10);
    }

    #[test]
    fn the_rate_counts_only_bytes_sent_by_this_run() {
        let display = lines(300);
        for part_number in 1..=4 {
            display.on_event(&ProgressEvent::PartSkipped {
                part_number,
                size: 10,
            });
        }
        let run = lock(&display.run);
        assert_eq!(run.resumed, 40);
        assert!(run.accepted);
        // 40 resumed bytes and none sent: no rate at all, however little time has passed.
        assert_eq!(run.rate(40), 0.0);
        assert!(run.rate(50) > 0.0 && run.rate(50) < run.rate(90));
    }

    #[test]
    fn a_whole_body_handed_over_is_not_shown_until_accepted() {
        // A 10 B PutObject hands its whole body over at once, before OSS answers (a 403, say).
        let display = lines(10);
        display.on_event(&sent(10, 10));
        assert!(!lock(&display.run).visible);
        // A body still streaming is shown; so is anything once a part is done.
        let display = lines(100);
        display.on_event(&sent(30, 100));
        assert!(lock(&display.run).visible);
        let display = lines(10);
        display.on_event(&ProgressEvent::PartDone {
            part_number: 1,
            size: 10,
        });
        assert!(lock(&display.run).visible);
    }
}
