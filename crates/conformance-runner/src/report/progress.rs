//! Progress while the suite runs: a one-line bar on a terminal, plain lines
//! otherwise (CI logs), nothing when quiet.
//!
//! Hand-rolled rather than `indicatif`: the bar is one line redrawn with
//! `\r`, and a progress library would add several crates to the build for it.
//! Only scenario ids and outcomes are printed, never request details, so
//! nothing here needs redaction.

use std::io::Write;
use std::sync::Mutex;

use super::Outcome;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A redrawn bar (a terminal).
    Bar,
    /// One line per finished scenario.
    Lines,
    /// No progress output (`--progress quiet`, and runs inside tests).
    Quiet,
}

/// Progress output, shared by concurrent scenarios.
pub struct Progress {
    style: Style,
    state: Mutex<State>,
}

struct State {
    out: Box<dyn Write + Send>,
    total: usize,
    done: usize,
    failed: usize,
}

const WIDTH: usize = 30;

impl State {
    /// Writes `text` in one call: standard error is unbuffered, and a
    /// `write!` with arguments makes a system call per piece (a run of the
    /// single-request scenarios made a thousand of them).
    fn write(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

impl Progress {
    /// Progress of `style` written to `out`.
    pub fn new(style: Style, out: Box<dyn Write + Send>) -> Progress {
        Progress {
            style,
            state: Mutex::new(State {
                out,
                total: 0,
                done: 0,
                failed: 0,
            }),
        }
    }

    /// No output.
    pub fn quiet() -> Progress {
        Progress::new(Style::Quiet, Box::new(std::io::sink()))
    }

    /// The run starts with `total` scenarios.
    pub fn start(&self, total: usize) {
        let mut s = self.lock();
        s.total = total;
        if self.style == Style::Lines {
            s.write(&format!("running {total} scenarios\n"));
        }
    }

    /// A scenario finished.
    pub fn finished(&self, id: &str, outcome: Outcome, duration_ms: u64) {
        let mut s = self.lock();
        s.done += 1;
        if outcome == Outcome::Failed {
            s.failed += 1;
        }
        match self.style {
            Style::Quiet => {}
            Style::Lines => {
                let word = match outcome {
                    Outcome::Passed => "PASS",
                    Outcome::Failed => "FAIL",
                    Outcome::Skipped => "SKIP",
                    Outcome::Waived => "WAIVED",
                };
                let (done, total) = (s.done, s.total);
                s.write(&format!(
                    "[{done}/{total}] {word} {id} ({duration_ms} ms)\n"
                ));
            }
            Style::Bar => {
                let filled = (s.done * WIDTH).checked_div(s.total).unwrap_or(WIDTH);
                let bar = format!(
                    "{}{}",
                    "#".repeat(filled),
                    ".".repeat(WIDTH - filled.min(WIDTH))
                );
                let (done, total, failed) = (s.done, s.total, s.failed);
                s.write(&format!(
                    "\r\x1b[2K[{bar}] {done}/{total}  {failed} failed  {id}"
                ));
            }
        }
    }

    /// The run is over; clears the bar.
    pub fn finish(&self) {
        let mut s = self.lock();
        if self.style == Style::Bar {
            s.write("\r\x1b[2K");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
