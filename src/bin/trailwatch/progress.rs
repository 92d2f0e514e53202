//! `trailwatch scan`'s progress bar: objects done / total, bytes read, failures. It is drawn on
//! stderr only when stderr is a terminal (never in CI or a pipe), so stdout keeps only results.
//!
//! One [`ProgressBar`] lives for the whole run, hidden until a scan turns it on: the log writer
//! ([`LogWriter`]) clears it around each log line so tracing output never lands inside the bar.
use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Input bytes from which a single object gets a bar too: about a second of scanning gzip.
const LARGE_INPUT: u64 = 16 << 20;

/// Bytes read between two updates of the bar (about 1 MB of JSON when gzipped), so that the
/// counter costs next to nothing per `read`.
const REPORT_EVERY: u64 = 64 << 10;

/// Whether to draw the bar: on a terminal, not turned off, and more than one object or a large
/// input (a small single object is done before a bar would be worth drawing).
pub fn should_show(stderr_is_tty: bool, turned_off: bool, objects: usize, bytes: u64) -> bool {
    stderr_is_tty && !turned_off && (objects > 1 || bytes >= LARGE_INPUT)
}

/// The text beside the bar.
fn message(done: usize, total: usize, failed: usize) -> String {
    format!("{done}/{total} objects, {failed} failed")
}

/// The scan's view of the bar: totals grow as paths are walked and prefixes listed.
pub struct Progress {
    bar: ProgressBar,
    stderr_is_tty: bool,
    turned_off: bool,
    total: usize,
    bytes: u64,
    done: usize,
    failed: usize,
    shown: bool,
}

impl Progress {
    /// `bar` is the run's (hidden) bar, shared with the log writer.
    pub fn new(bar: ProgressBar, stderr_is_tty: bool, turned_off: bool) -> Self {
        // A hidden bar has no length: give it one so that `inc_length` counts.
        bar.set_length(0);
        Progress {
            bar,
            stderr_is_tty,
            turned_off,
            total: 0,
            bytes: 0,
            done: 0,
            failed: 0,
            shown: false,
        }
    }

    /// The bar itself, for the [`Counted`] readers of the scanning threads.
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// More objects to scan (`bytes`: their size as read, compressed or not); shows the bar once
    /// the scan is big enough.
    pub fn add(&mut self, objects: usize, bytes: u64) {
        self.total += objects;
        self.bytes += bytes;
        self.bar.inc_length(bytes);
        // Before the first draw, so that the bar never appears without its counts.
        self.set_done(self.done, self.failed);
        if !self.shown && should_show(self.stderr_is_tty, self.turned_off, self.total, self.bytes) {
            self.shown = true;
            let style = ProgressStyle::with_template(
                "{spinner} {msg}  [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            self.bar.set_style(style);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// Objects reported so far (failed ones included) out of the total.
    pub fn set_done(&mut self, done: usize, failed: usize) {
        self.done = done;
        self.failed = failed;
        self.bar
            .set_message(Cow::Owned(message(done, self.total, failed)));
    }

    /// Writes a line to stderr without tearing the bar.
    pub fn eprintln(&self, line: std::fmt::Arguments<'_>) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Removes the bar before the summary line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A reader that advances the bar by the bytes read through it.
pub struct Counted<R> {
    inner: R,
    bar: ProgressBar,
    pending: u64,
}

impl<R> Counted<R> {
    pub fn new(inner: R, bar: &ProgressBar) -> Self {
        Counted {
            inner,
            bar: bar.clone(),
            pending: 0,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending += n as u64;
        if self.pending >= REPORT_EVERY || n == 0 {
            self.bar.inc(std::mem::take(&mut self.pending));
        }
        Ok(n)
    }
}

impl<R> Drop for Counted<R> {
    // An object abandoned half-read (a bad object) still counts what was read.
    fn drop(&mut self) {
        if self.pending > 0 {
            self.bar.inc(self.pending);
        }
    }
}

/// Stderr for the tracing subscriber: each log line is written with the bar cleared, then the bar
/// is redrawn below it (indicatif's `suspend`). With the bar hidden it is plain stderr.
#[derive(Clone)]
pub struct LogWriter(pub ProgressBar);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // tracing-subscriber's fmt layer writes one formatted event per call: one suspend a line.
        self.0.suspend(|| io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shows_only_on_a_terminal_and_when_not_turned_off() {
        assert!(should_show(true, false, 2, 0));
        assert!(!should_show(false, false, 2, 0));
        assert!(!should_show(true, true, 2, 0));
        assert!(!should_show(false, true, 1000, u64::MAX));
    }

    #[test]
    fn one_object_gets_a_bar_only_when_large() {
        assert!(!should_show(true, false, 1, LARGE_INPUT - 1));
        assert!(should_show(true, false, 1, LARGE_INPUT));
        assert!(!should_show(true, false, 0, 0));
    }

    #[test]
    fn message_names_done_total_and_failed() {
        assert_eq!(message(3, 12, 1), "3/12 objects, 1 failed");
    }

    #[test]
    fn counted_reader_advances_the_bar_by_every_byte_read() {
        let data: Vec<u8> = (0..3 * REPORT_EVERY + 17).map(|i| i as u8).collect();
        let bar = ProgressBar::hidden();
        let mut copy = Vec::new();
        Counted::new(&data[..], &bar)
            .read_to_end(&mut copy)
            .unwrap();
        assert_eq!(copy, data);
        assert_eq!(bar.position(), data.len() as u64);
    }

    #[test]
    fn counted_reader_dropped_half_read_still_counts_what_it_read() {
        let data = vec![7u8; 1000];
        let bar = ProgressBar::hidden();
        {
            let mut reader = Counted::new(&data[..], &bar);
            let mut buf = [0u8; 300];
            reader.read_exact(&mut buf).unwrap();
        }
        assert_eq!(bar.position(), 300);
    }

    #[test]
    fn progress_totals_grow_and_the_bar_stays_hidden_when_not_allowed() {
        let mut progress = Progress::new(ProgressBar::hidden(), false, false);
        progress.add(2, 100);
        assert_eq!(progress.bar().message(), "0/2 objects, 0 failed");
        progress.set_done(1, 1);
        progress.add(3, 50);
        assert_eq!(progress.bar().message(), "1/5 objects, 1 failed");
        progress.set_done(4, 1);
        assert_eq!(progress.bar().length(), Some(150));
        assert_eq!(progress.bar().message(), "4/5 objects, 1 failed");
        assert!(progress.bar().is_hidden());
    }
}
