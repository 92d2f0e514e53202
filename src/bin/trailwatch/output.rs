//! `trailwatch scan`'s output: alerts printed as they are found, objects in input order.
//!
//! Objects are scanned one per core. Each object's alerts go to an [`ObjectPrinter`] (a sink):
//! the object at the head of the input order writes straight to stdout; an object further on
//! buffers its rendered alerts until it becomes the head, and past [`BUFFER_LIMIT`] waits for
//! that. The head object's worker never waits, so the output stays in input order with memory
//! bounded by workers × [`BUFFER_LIMIT`], whatever the number of alerts.
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Condvar, Mutex, MutexGuard};

use trailwatch::alert::Alert;
use trailwatch::sink::{AlertSink, SinkError};
use trailwatch::ObjectReport;

use crate::progress::Progress;
use crate::Format;

/// Rendered alerts an object further on in the input order may hold before it waits.
const BUFFER_LIMIT: usize = 1 << 20;

/// Totals over all objects.
#[derive(Default)]
pub struct Totals {
    pub objects: usize,
    pub failed: usize,
    pub records: usize,
    pub bad_records: usize,
    pub alerts: usize,
    pub bytes: u64,
}

struct State<W> {
    out: W,
    /// The index of the object whose output comes next.
    head: usize,
    /// Finished objects waiting for their turn: their rendered alerts.
    finished: BTreeMap<usize, Vec<u8>>,
    /// The JSON array is open (its first element written).
    json_open: bool,
    totals: Totals,
    progress: Progress,
    /// Results are written with the bar cleared (stdout is the terminal that shows it).
    stdout_is_tty: bool,
}

/// The ordered output of one scan.
pub struct Output<W> {
    state: Mutex<State<W>>,
    turn: Condvar,
    format: Format,
}

impl<W: Write + Send> Output<W> {
    pub fn new(out: W, format: Format, progress: Progress, stdout_is_tty: bool) -> Self {
        Output {
            state: Mutex::new(State {
                out,
                head: 0,
                finished: BTreeMap::new(),
                json_open: false,
                totals: Totals::default(),
                progress,
                stdout_is_tty,
            }),
            turn: Condvar::new(),
            format,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<W>> {
        // A worker that panicked while writing leaves the output as it was: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the progress bar.
    pub fn progress<T>(&self, f: impl FnOnce(&mut Progress) -> T) -> T {
        f(&mut self.lock().progress)
    }

    /// The sink for object `index` (indices count from 0 in input order, each used once).
    pub fn printer(&self, index: usize) -> ObjectPrinter<'_, W> {
        ObjectPrinter {
            output: self,
            index,
            buffer: Vec::new(),
        }
    }

    /// Accounts for a finished object's report (stderr messages, totals, progress).
    pub fn report(&self, report: &ObjectReport) {
        let mut state = self.lock();
        let state = &mut *state;
        let t = &mut state.totals;
        t.objects += 1;
        t.records += report.records;
        t.bad_records += report.bad_records;
        t.bytes += report.bytes;
        t.alerts += report.alerts;
        for msg in &report.bad_record_messages {
            state
                .progress
                .eprintln(format_args!("trailwatch: {}: skipped {msg}", report.object));
        }
        if let Some(failure) = report.failure() {
            t.failed += 1;
            state
                .progress
                .eprintln(format_args!("trailwatch: {failure}"));
        }
        state.progress.set_done(t.objects, t.failed);
    }

    /// A path that failed before it could be scanned.
    pub fn failed_path(&self, message: std::fmt::Arguments<'_>) {
        let mut state = self.lock();
        state.totals.objects += 1;
        state.totals.failed += 1;
        let (objects, failed) = (state.totals.objects, state.totals.failed);
        state
            .progress
            .eprintln(format_args!("trailwatch: {message}"));
        state.progress.set_done(objects, failed);
    }

    /// Closes the JSON array, flushes, and hands back the totals and the bar.
    pub fn finish(self) -> std::io::Result<(Totals, Progress)> {
        let mut state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        // Objects that never came to their turn (a worker stopped early) are written in order.
        for (_, bytes) in std::mem::take(&mut state.finished) {
            write(&mut state, self.format, &bytes)?;
        }
        if self.format == Format::Json {
            let close: &[u8] = if state.json_open { b"\n]\n" } else { b"[]\n" };
            state.out.write_all(close)?;
        }
        state.out.flush()?;
        Ok((state.totals, state.progress))
    }
}

/// Writes rendered alerts. JSON elements are rendered with a leading `,\n`: the first element of
/// the whole output opens the array instead.
fn write<W: Write>(state: &mut State<W>, format: Format, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let bytes = if format == Format::Json && !state.json_open {
        state.json_open = true;
        state.out.write_all(b"[\n")?;
        bytes.get(2..).unwrap_or_default()
    } else {
        bytes
    };
    if state.stdout_is_tty {
        // The bar is redrawn from the start of its line: never let it land inside results.
        let out = &mut state.out;
        state.progress.bar().suspend(|| {
            out.write_all(bytes)?;
            out.flush()
        })
    } else {
        state.out.write_all(bytes)
    }
}

/// The sink of one object's alerts (see the module documentation).
pub struct ObjectPrinter<'a, W> {
    output: &'a Output<W>,
    index: usize,
    buffer: Vec<u8>,
}

impl<W: Write + Send> ObjectPrinter<'_, W> {
    fn render(&mut self, alert: &Alert) {
        let text = match self.output.format {
            Format::Text => format!(
                "Subject: {}\n\n{}\n{}\n",
                trailwatch::alert::subject(alert),
                trailwatch::alert::body(alert).trim_end(),
                "=".repeat(78)
            ),
            Format::Ndjson => format!("{}\n", trailwatch::alert::json(alert)),
            Format::Json => format!(",\n{}", trailwatch::alert::json(alert)),
        };
        self.buffer.extend_from_slice(text.as_bytes());
    }
}

impl<W: Write + Send> AlertSink for ObjectPrinter<'_, W> {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        self.render(&alert);
        if self.buffer.len() < BUFFER_LIMIT {
            let state = self.output.lock();
            if state.head != self.index {
                return Ok(());
            }
            return self.flush_as_head(state);
        }
        let mut state = self.output.lock();
        while state.head != self.index {
            state = self
                .output
                .turn
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        self.flush_as_head(state)
    }

    fn end_object(&mut self) -> Result<(), SinkError> {
        let mut state = self.output.lock();
        if state.head != self.index {
            // Finished objects waiting for their turn hold at most BUFFER_LIMIT together (many
            // quick objects behind one slow head must not pile up): past that, wait as well.
            let held: usize = state.finished.values().map(Vec::len).sum();
            if held + self.buffer.len() < BUFFER_LIMIT {
                state
                    .finished
                    .insert(self.index, std::mem::take(&mut self.buffer));
                return Ok(());
            }
            while state.head != self.index {
                state = self
                    .output
                    .turn
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
        let format = self.output.format;
        let mut result = write(&mut state, format, &self.buffer);
        self.buffer.clear();
        // Pass the turn on, writing the objects that finished while waiting for it.
        state.head += 1;
        loop {
            let head = state.head;
            let Some(bytes) = state.finished.remove(&head) else {
                break;
            };
            result = result.and(write(&mut state, format, &bytes));
            state.head += 1;
        }
        drop(state);
        self.output.turn.notify_all();
        result.map_err(SinkError::Write)
    }
}

impl<W: Write + Send> ObjectPrinter<'_, W> {
    fn flush_as_head(&mut self, mut state: MutexGuard<'_, State<W>>) -> Result<(), SinkError> {
        let result = write(&mut state, self.output.format, &self.buffer);
        self.buffer.clear();
        result.map_err(SinkError::Write)
    }
}
