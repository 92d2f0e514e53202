//! A catalogue of bad inputs, each with its defined outcome (docs/robustness.md has the table):
//! never a panic, abort or stack overflow; a failed object names itself and the reason; records
//! read before the damage, and good records beside bad ones, are still evaluated and alerted;
//! memory stays bounded by the largest record, not the object.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::robust;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;

use robust::{
    alerted_ids, event_id, export_record, gzip, object, quiet_record, random_bytes, TempDir,
    DETECTOR, EXPORT_RULE,
};
use serde_json::json;
use trailwatch::detect::Collected;
use trailwatch::reader::{ReadError, MAX_RECORD_BYTES};
use trailwatch::scan_collect;

fn scan(name: &str, bytes: &[u8]) -> Collected {
    scan_collect(name, bytes, &DETECTOR)
}

fn error_text(report: &Collected) -> String {
    report
        .error
        .as_ref()
        .map(|e| format!("{}: {e}", report.object))
        .unwrap_or_default()
}

/// `n` StartExportTask records, each alerted.
fn exports(n: usize) -> Vec<serde_json::Value> {
    (0..n).map(export_record).collect()
}

#[test]
fn truncated_gzip_keeps_the_alerts_read_before_the_damage() {
    let gz = gzip(&object(&exports(400)));
    let cut = &gz[..gz.len() * 6 / 10];
    let report = scan("cut.json.gz", cut);
    assert!(report.failed(), "a truncated object must be retried");
    let err = error_text(&report);
    assert!(
        err.starts_with("cut.json.gz: ")
            && (err.contains("truncated") || err.contains("read failed")),
        "{err}"
    );
    let ids = alerted_ids(&report.alerts, EXPORT_RULE);
    assert!(ids.len() > 100 && ids.len() < 400, "{} alerts", ids.len());
    // Exactly the records before the damage, in order.
    let want: Vec<String> = (0..ids.len()).map(event_id).collect();
    assert_eq!(ids, want);
    assert_eq!(report.records, ids.len());
}

#[test]
fn corrupt_gzip_fails_the_object_and_invents_nothing() {
    let gz = gzip(&object(&exports(400)));
    let mut bad = gz.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let report = scan("corrupt.json.gz", &bad);
    assert!(report.failed(), "{report:?}");
    let ids = alerted_ids(&report.alerts, EXPORT_RULE);
    assert!(ids.len() < 400);
    let want: Vec<String> = (0..400).map(event_id).collect();
    assert!(ids.iter().all(|id| want.contains(id)), "{ids:?}");
}

#[test]
fn gzip_checksum_mismatch_alerts_everything_and_still_fails_the_object() {
    let mut gz = gzip(&object(&exports(5)));
    let crc = gz.len() - 8; // trailer: CRC32, then ISIZE
    gz[crc] ^= 0xff;
    let report = scan("crc.json.gz", &gz);
    assert_eq!(alerted_ids(&report.alerts, EXPORT_RULE).len(), 5);
    assert!(report.failed(), "the stream is damaged: retry it");
    assert!(error_text(&report).contains("read failed"), "{report:?}");
}

#[test]
fn random_bytes_are_not_cloudtrail() {
    for seed in 1..=20u64 {
        let mut bytes = random_bytes(seed, 4096);
        if seed % 2 == 0 {
            bytes[0] = 0x1f; // gzip magic: the decoder sees the garbage
            bytes[1] = 0x8b;
        }
        let report = scan("random", &bytes);
        assert!(report.failed(), "seed {seed}: {report:?}");
        assert!(report.alerts.is_empty());
        let err = report.error.as_ref().map(ToString::to_string);
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("not CloudTrail JSON")
                    || e.starts_with("read failed")
                    || e.starts_with("truncated")),
            "seed {seed}: {err:?}"
        );
    }
}

#[test]
fn zero_byte_object_and_gzip_of_nothing_are_empty() {
    for (name, bytes) in [("zero", Vec::new()), ("gz-nothing", gzip(b""))] {
        let report = scan(name, &bytes);
        assert!(
            matches!(report.error, Some(ReadError::Empty)),
            "{name}: {report:?}"
        );
        assert_eq!(error_text(&report), format!("{name}: empty object"));
    }
}

#[test]
fn digest_object_is_skipped_quietly() {
    let digest = json!({"awsAccountId": "111122223333", "digestStartTime": "2026-11-22T13:00:00Z",
        "digestEndTime": "2026-11-22T14:00:00Z", "digestS3Bucket": "b", "logFiles": []});
    let report = scan("digest.json.gz", &gzip(digest.to_string().as_bytes()));
    assert!(report.digest);
    assert!(!report.failed(), "{report:?}");
    assert!(report.alerts.is_empty());
}

#[test]
fn json_that_is_not_cloudtrail_names_the_reason() {
    let cases: [(&str, &str); 8] = [
        (r#"{"Records":null}"#, "\"Records\" is null, not a list"),
        (r#"{"Records":"x"}"#, "\"Records\" is \"x\", not a list"),
        (r#"{"Records":{"a":1}}"#, "not a list"),
        (r#"{"Records":42}"#, "\"Records\" is 42, not a list"),
        (r#"{"other":[1,2]}"#, "no \"Records\" array"),
        ("[1,2]", "expected a JSON object"),
        ("\"Records\"", "expected a JSON object"),
        ("{\"Records\" 1}", "expected ':' after a key"),
    ];
    for (input, reason) in cases {
        let report = scan("odd.json", input.as_bytes());
        let err = error_text(&report);
        assert!(
            err.starts_with("odd.json: not CloudTrail JSON") && err.contains(reason),
            "{input}: {err}"
        );
    }
}

#[test]
fn bad_elements_inside_records_do_not_hide_the_good_ones() {
    let good = export_record(1).to_string();
    let good2 = export_record(2).to_string();
    // Invalid JSON that carries a rule's literals must be parsed, so it is a counted bad record;
    // invalid JSON that no rule could match is skipped on the raw bytes like any such record
    // (nothing could alert on it), and counted as prefiltered. (An `eventName` that is not a
    // plain string is unknown to the prefilter, so a rule that requires only an action, such as
    // Elastic's lifecycle-expiration rule, would make such a record a candidate: the irrelevant
    // record names an action no rule covers.)
    let relevant = r#"{"eventSource":"rds.amazonaws.com","eventName":"StartExportTask","x": tru}"#;
    let text = format!(
        r#"{{"Records":[42,"s",null,true,[],{good},{{"eventName":"DescribeInstances","x": tru}},{{"a":[1,]}},{relevant},{good2},{{}}]}}"#
    );
    for bytes in [text.clone().into_bytes(), gzip(text.as_bytes())] {
        let report = scan("mixed", &bytes);
        assert!(!report.failed(), "{report:?}");
        assert_eq!(
            alerted_ids(&report.alerts, EXPORT_RULE),
            [event_id(1), event_id(2)]
        );
        assert_eq!(report.bad_records, 6, "{:?}", report.bad_record_messages);
        assert!(report.bad_record_messages[0].starts_with("record 0: not an object"));
        assert!(
            report.bad_record_messages[5].starts_with("record 8: invalid JSON"),
            "{:?}",
            report.bad_record_messages
        );
        assert_eq!(report.prefiltered, 3, "{report:?}"); // the two irrelevant ones and `{}`
        assert_eq!(report.records, 5); // two exports and the three prefiltered
    }
}

#[test]
fn pathological_nesting_is_not_a_stack_overflow() {
    let depth = 1_000_000;
    // Deep inside a record: past serde_json's recursion limit the record is still parsed
    // (without recursion) and alerts like its neighbours.
    let deep = format!(
        r#"{{"Records":[{},{{"eventSource":"rds.amazonaws.com","eventName":"StartExportTask","x":{}{}}},{}]}}"#,
        export_record(1),
        "[".repeat(depth),
        "]".repeat(depth),
        export_record(2)
    );
    let report = scan("deep", deep.as_bytes());
    assert!(!report.failed(), "{}", error_text(&report));
    assert_eq!(report.bad_records, 0, "{:?}", report.bad_record_messages);
    assert_eq!(report.alerts.len(), 3);
    assert_eq!(alerted_ids(&report.alerts, EXPORT_RULE).len(), 2);
    // Deep beside `Records`, and unclosed: the splitter counts depth, it does not recurse.
    let beside = format!(
        r#"{{"x":{}{},"Records":[{}]}}"#,
        "{\"a\":".repeat(depth),
        "}".repeat(depth),
        export_record(3)
    );
    let report = scan("beside", beside.as_bytes());
    assert_eq!(alerted_ids(&report.alerts, EXPORT_RULE), [event_id(3)]);
    let unclosed = format!(r#"{{"Records":[{},{}"#, export_record(4), "[".repeat(depth));
    let report = scan("unclosed", unclosed.as_bytes());
    assert!(error_text(&report).contains("truncated"), "{report:?}");
    assert_eq!(alerted_ids(&report.alerts, EXPORT_RULE), [event_id(4)]);
}

#[test]
fn a_field_of_tens_of_megabytes_is_alerted_or_skipped_by_size() {
    // 20 MB user agent: under the record cap, so the record is evaluated and alerted, and the
    // alert still renders within SNS's limit.
    let mut big = export_record(1);
    big["userAgent"] = json!("A".repeat(20 << 20));
    // 40 MB: over MAX_RECORD_BYTES; skipped and reported, the records beside it still count.
    let mut huge = export_record(2);
    huge["requestParameters"]["s3Prefix"] = json!("B".repeat(40 << 20));
    let text = object(&[big, huge, export_record(3)]);
    let report = scan("big", &text);
    assert!(!report.failed(), "{}", error_text(&report));
    assert_eq!(
        alerted_ids(&report.alerts, EXPORT_RULE),
        [event_id(1), event_id(3)]
    );
    assert_eq!(report.bad_records, 1);
    assert_eq!(
        report.bad_record_messages[0],
        format!("record 1: record larger than {MAX_RECORD_BYTES} bytes")
    );
    for alert in &report.alerts {
        let sns = trailwatch::alert::sns_message(alert);
        assert!(sns.size() <= trailwatch::alert::SNS_MAX_BYTES);
    }
}

#[test]
fn invalid_utf8_inside_a_record_does_not_hide_it() {
    let good = export_record(1).to_string();
    let mut bad_ua = export_record(2).to_string().into_bytes();
    let at = find(&bad_ua, b"aws-cli/2.15.0").expect("user agent");
    bad_ua[at + 3] = 0xff; // "aws\xffcli..."
    let mut bytes = br#"{"Records":["#.to_vec();
    bytes.extend_from_slice(good.as_bytes());
    bytes.push(b',');
    bytes.extend_from_slice(&bad_ua);
    bytes.extend_from_slice(b"]}");
    let report = scan("utf8", &bytes);
    assert!(!report.failed(), "{}", error_text(&report));
    assert_eq!(
        alerted_ids(&report.alerts, EXPORT_RULE),
        [event_id(1), event_id(2)],
        "{:?}",
        report.bad_record_messages
    );
    let ua = report.alerts[1].get_str(trailwatch::alert::key::USER_AGENT);
    assert_eq!(ua, Some("aws\u{fffd}cli/2.15.0"));
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn plain_json_and_multi_member_gzip_are_read_whole() {
    let plain = object(&exports(3));
    assert_eq!(alerted_ids(&scan("p", &plain).alerts, EXPORT_RULE).len(), 3);
    // Two members, each a whole object (as `cat a.gz b.gz` makes).
    let mut two = gzip(&object(&[export_record(1)]));
    two.extend(gzip(&object(&[export_record(2)])));
    let report = scan("two", &two);
    assert!(!report.failed(), "{}", error_text(&report));
    assert_eq!(
        alerted_ids(&report.alerts, EXPORT_RULE),
        [event_id(1), event_id(2)]
    );
    // One object split across members in the middle of a record.
    let split = object(&exports(4));
    let mid = split.len() / 2;
    let mut parts = gzip(&split[..mid]);
    parts.extend(gzip(&split[mid..]));
    assert_eq!(
        alerted_ids(&scan("split", &parts).alerts, EXPORT_RULE),
        (0..4).map(event_id).collect::<Vec<_>>()
    );
}

#[test]
fn trailing_garbage_fails_the_object_after_alerting_what_was_read() {
    let mut bytes = object(&[export_record(1)]);
    bytes.extend_from_slice(b" <html>");
    let report = scan("tail", &bytes);
    assert!(report.failed());
    assert!(error_text(&report).contains("expected a JSON object, found '<'"));
    assert_eq!(alerted_ids(&report.alerts, EXPORT_RULE), [event_id(1)]);
}

// --- Memory: the allocations of the scanning thread are counted, so the peak of one test is not
// confused with another test running in parallel.
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|l| {
            let now = l.get() + layout.size();
            l.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(layout.size())));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LIVE.try_with(|l| {
            let now = l.get().saturating_sub(layout.size()) + new_size;
            l.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Scans an object generated record by record as the reader asks (never held whole): a small
/// export record, then quiet records whose `s3Prefix` has the given sizes, then another export.
/// Returns the scanning thread's peak live allocation and the report.
fn peak_scanning(pads: &[usize]) -> (usize, Collected) {
    // Built before measuring, handed over (and dropped) one by one: the generator's own
    // allocations are not the scanner's.
    let records: Vec<Vec<u8>> = std::iter::once(None)
        .chain(pads.iter().map(|&p| Some(p)))
        .chain(std::iter::once(None))
        .enumerate()
        .map(|(n, pad)| {
            // Only the quiet records are big: an alert keeps its record's fields (SNS
            // rendering shrinks them), so alerted records are held by design.
            let mut r = match pad {
                None => export_record(n),
                Some(pad) => {
                    let mut r = quiet_record(n);
                    r["requestParameters"]["s3Prefix"] = json!("p".repeat(pad));
                    r
                }
            };
            r["n"] = json!(n);
            r.to_string().into_bytes()
        })
        .collect();
    let mut queue = records.into_iter();
    let mut next = move || queue.next();
    let mut total = 0u64;
    let before = PEAK.with(|p| {
        let live = LIVE.with(Cell::get);
        p.set(live);
        live
    });
    let input = OnDemand {
        next: &mut next,
        buf: std::io::Cursor::new(br#"{"Records":["#.to_vec()),
        pending: None,
        first: true,
        done: false,
        total: &mut total,
    };
    let report = scan_collect("generated", input, &DETECTOR);
    let peak = PEAK.with(Cell::get).saturating_sub(before);
    assert_eq!(report.bytes, total);
    (peak, report)
}

#[test]
fn memory_is_bounded_by_the_largest_record_not_the_object() {
    const MB: usize = 1 << 20;
    let (small, a) = peak_scanning(&[2 * MB; 4]);
    let (large, b) = peak_scanning(&[2 * MB; 40]);
    for report in [&a, &b] {
        assert!(!report.failed(), "{}", error_text(report));
        assert_eq!(alerted_ids(&report.alerts, EXPORT_RULE).len(), 2);
    }
    assert!(b.bytes > 80 * MB as u64);
    // Ten times the object, the same peak (within 1 MB of noise).
    assert!(
        large <= small + MB,
        "peak {} MB for {} MB, {} MB for {} MB",
        small / MB,
        a.bytes / MB as u64,
        large / MB,
        b.bytes / MB as u64
    );
    // A record over MAX_RECORD_BYTES is skipped while it streams past: its bytes are not all held.
    let (over, c) = peak_scanning(&[MAX_RECORD_BYTES + 8 * MB]);
    assert_eq!(c.bad_records, 1);
    assert_eq!(alerted_ids(&c.alerts, EXPORT_RULE).len(), 2);
    assert!(
        over < MAX_RECORD_BYTES + 8 * MB,
        "peak {} MB for a record of {} MB",
        over / MB,
        (MAX_RECORD_BYTES + 8 * MB) / MB
    );
}

/// Records produced one at a time by `next`, framed as a CloudTrail object.
struct OnDemand<'a> {
    next: &'a mut (dyn FnMut() -> Option<Vec<u8>> + Send),
    buf: std::io::Cursor<Vec<u8>>,
    pending: Option<Vec<u8>>,
    first: bool,
    done: bool,
    total: &'a mut u64,
}

impl Read for OnDemand<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.buf.read(out)?;
            if n > 0 || out.is_empty() {
                *self.total += n as u64;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if let Some(record) = self.pending.take() {
                self.buf = std::io::Cursor::new(record); // moved, not copied
                continue;
            }
            match (self.next)() {
                Some(r) if self.first => {
                    self.first = false;
                    self.buf = std::io::Cursor::new(r);
                }
                Some(r) => {
                    self.pending = Some(r);
                    self.buf = std::io::Cursor::new(b",".to_vec());
                }
                None => {
                    self.buf = std::io::Cursor::new(b"]}".to_vec());
                    self.done = true;
                }
            }
        }
    }
}

// --- The CLI: `trailwatch scan DIR` with one bad file among good ones.

#[test]
fn cli_scan_of_a_directory_with_bad_files_reports_them_and_alerts_the_rest() {
    let dir = TempDir::new("bad-dir");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.0.join(name), bytes).expect("write input");
    };
    write("a-good.json.gz", &gzip(&object(&[export_record(1)])));
    let truncated = gzip(&object(&exports(50)));
    write("b-truncated.json.gz", &truncated[..truncated.len() / 2]);
    write("c-empty.json.gz", b"");
    write("d-random.json.gz", &random_bytes(7, 1000));
    write("e-good.json", &object(&[quiet_record(9), export_record(2)]));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["scan", "--format", "ndjson"])
        .arg(&dir.0)
        .output()
        .expect("run trailwatch scan");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ids: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("ndjson alert"))
        .filter(|a| a["kibana.alert.rule.rule_id"] == EXPORT_RULE)
        .filter_map(|a| a["event.id"].as_str().map(str::to_owned))
        .collect();
    // Both good files, and the records of the truncated one read before the damage.
    assert!(
        ids.contains(&event_id(1)) && ids.contains(&event_id(2)),
        "{ids:?}"
    );
    assert!(
        ids.len() > 2,
        "records before the truncation are alerted: {ids:?}"
    );
    for (file, reason) in [
        ("b-truncated.json.gz", ""),
        ("c-empty.json.gz", "empty object"),
        ("d-random.json.gz", "not CloudTrail JSON"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no error line for {file}: {stderr}"));
        assert!(
            line.starts_with("trailwatch: ") && line.contains(reason),
            "{line}"
        );
    }
    assert!(stderr.contains("5 objects (3 failed)"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn lone_surrogate_escape_in_a_record_does_not_hide_it() {
    // JSON allows an unpaired `\ud800`; Rust strings cannot hold it: it becomes U+FFFD and the
    // record is still evaluated. A valid pair and an escaped backslash are left alone.
    let lone = export_record(2)
        .to_string()
        .replace("aws-cli/2.15.0", r"aws-cli\ud800/\\ud800\ud83d\ude00");
    let text = format!(r#"{{"Records":[{},{lone}]}}"#, export_record(1));
    let report = scan("surrogate", text.as_bytes());
    assert!(!report.failed(), "{}", error_text(&report));
    let ids = alerted_ids(&report.alerts, EXPORT_RULE);
    assert_eq!(
        ids,
        [event_id(1), event_id(2)],
        "{:?}",
        report.bad_record_messages
    );
    let ua = report.alerts[1].get_str(trailwatch::alert::key::USER_AGENT);
    assert_eq!(ua, Some("aws-cli\u{fffd}/\\ud800\u{1f600}"));
}
