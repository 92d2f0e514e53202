use super::*;
use std::io::Write;

fn read_all(bytes: &[u8]) -> (Vec<serde_json::Value>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    for item in open(bytes) {
        match item.and_then(|r| r.parse()) {
            Ok(v) => ok.push(v),
            Err(e) => errs.push(e.to_string()),
        }
    }
    (ok, errs)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn reads_plain_and_gzip_records() {
    let json = br#"{"Records":[{"eventName":"A","x":"}]\"{"},{"eventName":"B"}]}"#;
    for input in [json.to_vec(), gzip(json)] {
        let (ok, errs) = read_all(&input);
        assert!(errs.is_empty(), "{errs:?}");
        let names: Vec<_> = ok
            .iter()
            .map(|v| v["eventName"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["A", "B"]);
    }
}

#[test]
fn keys_around_records_and_concatenated_objects() {
    let json =
        br#" { "a" : [1, {"b": "]"}], "Records" : [ {"n":1} ] , "z": null } {"Records":[{"n":2}]}"#;
    let (ok, errs) = read_all(json);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[1]["n"], 2);
}

#[test]
fn bad_elements_beside_good_ones_are_reported_and_skipped() {
    let json = br#"{"Records":[{"n":1}, 42, "s", null, {"n": tru}, {"n":2}]}"#;
    let (ok, errs) = read_all(json);
    assert_eq!(ok.len(), 2);
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(errs[0].starts_with("record 1: not an object"));
}

#[test]
fn truncation_keeps_records_read_before_the_damage() {
    let json = br#"{"Records":[{"n":1},{"n":2},{"n":"#;
    let (ok, errs) = read_all(json);
    assert_eq!(ok.len(), 2);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("truncated"), "{errs:?}");
    let gz = gzip(json);
    let (ok, errs) = read_all(&gz[..gz.len() - 12]);
    assert!(ok.len() <= 2);
    assert_eq!(errs.len(), 1, "{errs:?}");
}

#[test]
fn empty_digest_and_non_cloudtrail_objects_are_errors() {
    let cases: [(&[u8], &str); 6] = [
        (b"", "empty object"),
        (b"  \n", "empty object"),
        (
            br#"{"digestStartTime":"x","digestEndTime":"y"}"#,
            "CloudTrail digest object (no events)",
        ),
        (
            br#"{"Records":null}"#,
            "not CloudTrail JSON at byte 11: \"Records\" is null, not a list",
        ),
        (
            br#"[1,2]"#,
            "not CloudTrail JSON at byte 0: expected a JSON object, found '['",
        ),
        (
            br#"{"other":1}"#,
            "not CloudTrail JSON at byte 11: no \"Records\" array",
        ),
    ];
    for (input, want) in cases {
        let (ok, errs) = read_all(input);
        assert!(ok.is_empty());
        assert_eq!(
            errs,
            [want.to_string()],
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
    let (_, errs) = read_all(&gzip(b""));
    assert_eq!(errs, ["empty object"]);
}

#[test]
fn deep_nesting_parses_without_a_crash() {
    // Past serde_json's recursion limit: parsed by the heap-stacked parser, the levels beyond
    // the limit kept as raw text; a deep record with a syntax error stays a bad record.
    let mut json = String::from(r#"{"Records":[{"n":1},{"deep":"#);
    json.push_str(&"[".repeat(100_000));
    json.push_str(&"]".repeat(100_000));
    json.push_str(r#"},{"n":2},{"bad":"#);
    json.push_str(&"[".repeat(100_000));
    json.push_str(&"]".repeat(100_000));
    json.push_str(r#",}]}"#);
    let (ok, errs) = read_all(json.as_bytes());
    assert_eq!(ok.len(), 3, "{errs:?}");
    assert!(ok[1]["deep"].is_array());
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("record 3: invalid JSON"), "{errs:?}");
}

/// Hands out the bytes in reads of 1 to 700 bytes (varying), like a slow network stream.
struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.n = (self.n * 31 + 7) % 701;
        let n = (self.n + 1).min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn records_cut_anywhere_by_reads_come_out_whole_with_their_head() {
    let mut records = Vec::new();
    for i in 0..400 {
        let pad = "x".repeat((i * 37) % 300);
        records.push(match i % 5 {
            0 => format!(r#"{{"eventSource":"s{i}","eventName":"N{i}","pad":"{pad}"}}"#),
            1 => format!(r#"{{"eventName":"N\"{i}","eventSource":"s{i}","p":["{pad}",{{}}]}}"#),
            2 => format!(r#"{{"p":{{"eventName":"inner"}},"eventName":"N{i}"}}"#),
            // A stray backslash outside a string: the byte-at-a-time splitter's case.
            3 => format!(r#"{{"eventName":"N{i}", \ "x":"{pad}"}}"#),
            _ => format!(
                r#"{{"big":"{}","eventSource":"s{i}"}}"#,
                "b".repeat(300_000)
            ),
        });
    }
    let text = format!(" {{\"Records\" : [\n{}\n]}}", records.join(" ,\n"));
    for slow in [false, true] {
        let mut reader = if slow {
            Records::new(Box::new(Trickle {
                data: text.as_bytes(),
                n: 0,
            }) as Box<dyn Read>)
        } else {
            open(text.as_bytes())
        };
        let mut seen = 0;
        while let Some(item) = reader.next_record() {
            let record = item.unwrap();
            assert_eq!(record.index, seen);
            assert_eq!(record.bytes, records[seen].as_bytes(), "record {seen}");
            let want = crate::reader::scan_head(record.bytes);
            let head = record.head();
            if seen % 5 != 3 {
                assert_eq!(head, want, "record {seen}");
            }
            seen += 1;
        }
        assert_eq!(seen, records.len());
        assert_eq!(reader.bytes_read(), text.len() as u64);
    }
}
