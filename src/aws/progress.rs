//! Progress of an audit on standard error: on a terminal, one line redrawn in place
//! (account × region × service units done, calls, retries, time left); elsewhere (CI logs),
//! one line per finished account × region.

use super::call::Counter;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub struct Progress {
    total: usize,
    done: AtomicUsize,
    started: Instant,
    counter: Arc<Counter>,
    /// `None`: silent.
    mode: Option<Mode>,
    /// Serialises writes so lines never interleave.
    out: Mutex<()>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Terminal,
    Lines,
}

impl Progress {
    pub fn new(total: usize, counter: Arc<Counter>, enabled: bool) -> Self {
        let mode = match (enabled, std::io::stderr().is_terminal()) {
            (false, _) => None,
            (true, true) => Some(Mode::Terminal),
            (true, false) => Some(Mode::Lines),
        };
        Progress { total, done: AtomicUsize::new(0), started: Instant::now(), counter, mode, out: Mutex::new(()) }
    }

    /// One service of one account × region is done.
    pub fn service_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.mode == Some(Mode::Terminal) {
            let _guard = self.out.lock();
            let _ = write!(std::io::stderr(), "\r\x1b[2K{}", self.status(done));
        }
    }

    /// A whole account × region unit is done.
    pub fn unit_done(&self, account: &str, region: &str, resources: usize, unseen: usize) {
        let Some(mode) = self.mode else { return };
        let done = self.done.load(Ordering::Relaxed);
        let failed = if unseen == 0 { String::new() } else { format!(", {unseen} parts could not be read") };
        let line = format!("charterguard: aws {account} {region}: {resources} resources{failed} ({})", self.status(done));
        let _guard = self.out.lock();
        let mut err = std::io::stderr();
        let _ = match mode {
            Mode::Terminal => write!(err, "\r\x1b[2K{line}\n{}", self.status(done)),
            Mode::Lines => writeln!(err, "{line}"),
        };
    }

    pub fn finish(&self) {
        if self.mode == Some(Mode::Terminal) {
            let _guard = self.out.lock();
            let _ = writeln!(std::io::stderr(), "\r\x1b[2K{}", self.status(self.done.load(Ordering::Relaxed)));
        }
    }

    fn status(&self, done: usize) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = if done == 0 || done >= self.total { String::new() } else { format!(", ~{} left", duration(elapsed / done as f64 * (self.total - done) as f64)) };
        format!(
            "{done}/{} account×region×service done, {} calls, {} retried, {}{left}",
            self.total,
            self.counter.calls(),
            self.counter.retries(),
            duration(elapsed)
        )
    }
}

/// `75.2` -> `1m15s`.
fn duration(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    match seconds {
        s if s < 60 => format!("{s}s"),
        s => format!("{}m{:02}s", s / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(4.4), "4s");
        assert_eq!(duration(75.2), "1m15s");
    }

    #[test]
    fn status_estimates_the_time_left() {
        let progress = Progress::new(4, Arc::new(Counter::default()), false);
        assert!(progress.status(0).starts_with("0/4 account×region×service done, 0 calls, 0 retried"));
        assert!(progress.status(2).contains("left"));
        assert!(!progress.status(4).contains("left"));
    }
}
