use super::*;
use crate::reader::{scan_head, Field};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

fn classify_reference(block: &[u8]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate().take(BLOCK) {
        let bit = 1u64 << i;
        match b {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b'{' | b'[' => m.open |= bit,
            b'}' | b']' => m.close |= bit,
            b'e' => m.e |= bit,
            _ => {}
        }
    }
    m
}

#[test]
fn block_masks_agree_with_a_byte_at_a_time_reference() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet = b"\"\\{}[]e ;:,aZ\x00\x7f\x80\xff\x5b\x7b\x5d\x7d\x3b\x1b";
    for round in 0..20_000 {
        let block: Vec<u8> = (0..BLOCK)
            .map(|_| {
                if round % 2 == 0 {
                    alphabet[rng.below(alphabet.len())]
                } else {
                    rng.next() as u8
                }
            })
            .collect();
        let want = classify_reference(&block);
        assert_eq!(classify(&block), want, "{block:?}");
        assert_eq!(classify_portable(&block), want, "{block:?}");
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            let Some(block) = block.first_chunk::<BLOCK>() else {
                panic!("short block")
            };
            // SAFETY: AVX2 was detected.
            assert_eq!(unsafe { classify_avx2(block) }, want);
        }
        #[cfg(target_arch = "aarch64")]
        {
            let Some(block) = block.first_chunk::<BLOCK>() else {
                panic!("short block")
            };
            // SAFETY: NEON is part of the aarch64 baseline.
            assert_eq!(unsafe { classify_neon(block) }, want);
        }
    }
}

/// Each implementation of every mask, one byte at a time: bit i is byte i (catches a
/// movemask emulation that permutes lanes, whatever the random blocks above happen to hold).
#[test]
fn each_byte_sets_its_own_bit() {
    type Pick = fn(&Masks) -> u64;
    let masks: [(u8, Pick); 7] = [
        (b'"', |m| m.quote),
        (b'\\', |m| m.backslash),
        (b'{', |m| m.open),
        (b'[', |m| m.open),
        (b'}', |m| m.close),
        (b']', |m| m.close),
        (b'e', |m| m.e),
    ];
    for (byte, pick) in masks {
        for i in 0..BLOCK {
            let mut block = [b'a'; BLOCK];
            block[i] = byte;
            let want = 1u64 << i;
            let mut got = vec![("chosen", pick(&classify(&block)))];
            got.push(("portable", pick(&classify_portable(&block))));
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE2 is part of the x86_64 baseline.
                got.push(("sse2", pick(&unsafe { classify_sse2(&block) })));
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 was detected.
                    got.push(("avx2", pick(&unsafe { classify_avx2(&block) })));
                }
            }
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is part of the aarch64 baseline.
            got.push(("neon", pick(&unsafe { classify_neon(&block) })));
            for (name, bits) in got {
                assert_eq!(bits, want, "{name}: {:?} at {i}", byte as char);
            }
        }
    }
}

fn escaped_reference(bytes: &[u8]) -> Vec<bool> {
    let mut out = vec![false; bytes.len()];
    let mut escape = false;
    for (i, &b) in bytes.iter().enumerate() {
        if escape {
            out[i] = true;
            escape = false;
        } else if b == b'\\' {
            escape = true;
        }
    }
    out
}

#[test]
fn escaped_bytes_follow_odd_runs_of_backslashes_across_blocks() {
    let mut rng = Rng(12345);
    for _ in 0..2_000 {
        let bytes: Vec<u8> = (0..BLOCK * 4)
            .map(|_| if rng.below(3) == 0 { b'x' } else { b'\\' })
            .collect();
        let want = escaped_reference(&bytes);
        let mut carry = 0;
        for (n, block) in bytes.chunks(BLOCK).enumerate() {
            let got = find_escaped(classify(block).backslash, &mut carry);
            for (i, &w) in want[n * BLOCK..(n + 1) * BLOCK].iter().enumerate() {
                assert_eq!(got & (1 << i) != 0, w, "block {n} byte {i}");
            }
        }
    }
}

#[test]
fn prefix_xor_marks_the_inside_of_strings() {
    let mut rng = Rng(99);
    for _ in 0..10_000 {
        let x = rng.next() & rng.next();
        let want = (0..64).fold((0u64, false), |(m, inside), i| {
            let inside = inside ^ (x >> i & 1 == 1);
            (m | u64::from(inside) << i, inside)
        });
        assert_eq!(prefix_xor(x), want.0);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("pclmulqdq") {
            // SAFETY: PCLMULQDQ was detected.
            assert_eq!(unsafe { prefix_xor_clmul(x) }, want.0);
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("aes") {
            // SAFETY: PMULL (Rust's `aes`) was detected.
            assert_eq!(unsafe { prefix_xor_pmull(x) }, want.0);
        }
    }
}

/// Both walks (the one `scan_record` picks on this CPU, and the baseline) give one outcome.
fn scan_both(buf: &[u8]) -> Outcome {
    let baseline = walk::<Baseline>(buf);
    assert_eq!(
        scan_record(buf),
        baseline,
        "{:?}",
        String::from_utf8_lossy(buf)
    );
    baseline
}

#[test]
fn bits_between_covers_every_range() {
    for from in 0..=64u32 {
        for to in from..=64u32 {
            let want = (from..to).fold(0u64, |m, b| m | 1 << b);
            assert_eq!(bits_between(from, to), want, "{from}..{to}");
        }
    }
}

/// The end of the object at `buf[0]`, byte at a time (as `Records::scan_value` finds it).
fn end_reference(buf: &[u8]) -> Option<usize> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in buf.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if in_str {
            match b {
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

fn random_string(rng: &mut Rng, out: &mut String) {
    out.push('"');
    let plain = [
        "a",
        "eventName",
        "eventSource",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        " ",
        "é",
        "e",
    ];
    let pieces = [
        "a",
        "eventName",
        "eventSource",
        "rds.amazonaws.com",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        " ",
        "\\\"",
        "\\\\",
        "\\n",
        "\\u0041",
        "é",
        "e",
        "\\\\\\\"",
    ];
    // Half the strings without escapes, so that many records have none.
    let from: &[&str] = if rng.below(2) == 0 { &plain } else { &pieces };
    for _ in 0..rng.below(6) {
        out.push_str(rng.pick(from));
    }
    out.push('"');
}

fn random_value(rng: &mut Rng, depth: usize, out: &mut String) {
    match if depth > 3 {
        rng.below(3)
    } else {
        rng.below(6)
    } {
        0 => random_string(rng, out),
        1 => out.push_str(rng.pick(&["1", "-2.5e3", "true", "null", "false"])),
        2 => {
            let key = rng.pick(&["\"eventName\"", "\"eventSource\"", "\"x\""]);
            out.push_str(key);
        }
        3 | 4 => random_object(rng, depth + 1, out),
        _ => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                random_value(rng, depth + 1, out);
            }
            out.push(']');
        }
    }
}

fn random_object(rng: &mut Rng, depth: usize, out: &mut String) {
    let keys = [
        "\"eventName\"",
        "\"eventSource\"",
        "\"eventTime\"",
        "\"e\"",
        "\"userAgent\"",
        "\"eventNamex\"",
    ];
    let ws = ["", " ", "\n\t ", "\r\n"];
    out.push('{');
    if rng.below(20) == 0 {
        out.push_str("\"event\\u004eame\":1,");
    }
    for i in 0..rng.below(7) {
        if i > 0 {
            out.push(',');
        }
        out.push_str(rng.pick(&ws));
        out.push_str(rng.pick(&keys));
        out.push_str(rng.pick(&ws));
        out.push(':');
        out.push_str(rng.pick(&ws));
        random_value(rng, depth, out);
        out.push_str(rng.pick(&ws));
    }
    out.push('}');
}

fn field(record: &[u8], span: Span) -> Field<'_> {
    match span {
        Span::Missing => Field::Missing,
        Span::Str(a, b) => Field::Str(&record[a..b]),
        Span::Unknown => Field::Unknown,
    }
}

#[test]
fn finds_the_end_and_the_head_as_the_reference_does() {
    let mut rng = Rng(0xdead_beef);
    let mut checked_heads = 0;
    for round in 0..30_000 {
        let mut text = String::new();
        // Shift the record across block boundaries with a padding field.
        let pad = "p".repeat(rng.below(130));
        text.push_str(&format!("{{\"pad\":\"{pad}\","));
        let mut body = String::new();
        random_object(&mut rng, 0, &mut body);
        text.push_str(&body[1..]);
        let mut buf = text.clone().into_bytes();
        buf.extend_from_slice(b" ,{\"next\":1}");
        let want_end = end_reference(&buf).expect("generated objects are closed");
        let Outcome::Found(got) = scan_both(&buf) else {
            panic!("no end found: {text}");
        };
        assert_eq!(got.len, want_end, "round {round}: {text}");
        let record = &buf[..got.len];
        assert_eq!(got.backslash, record.contains(&b'\\'), "{text}");
        // The head only has to agree on JSON that parses (see `scan_record`).
        if !got.backslash && serde_json::from_slice::<serde_json::Value>(record).is_ok() {
            checked_heads += 1;
            let head = scan_head(record);
            assert_eq!(field(record, got.provider), head.provider, "{text}");
            assert_eq!(field(record, got.action), head.action, "{text}");
        }
        // Cut short: no end.
        assert_eq!(
            scan_record(&buf[..got.len - 1]),
            Outcome::NeedMore,
            "{text}"
        );
    }
    assert!(checked_heads > 3_000, "{checked_heads}");
}

#[test]
fn arbitrary_bytes_end_where_the_reference_ends() {
    let mut rng = Rng(77);
    let alphabet = b"{}[]\"\\ae :,";
    let (mut regular, mut irregular) = (0, 0);
    for _ in 0..20_000 {
        let mut buf: Vec<u8> = vec![b'{'];
        buf.extend((0..rng.below(300)).map(|_| alphabet[rng.below(alphabet.len())]));
        let got = match scan_both(&buf) {
            Outcome::Found(s) => Some(s.len),
            Outcome::NeedMore => None,
            Outcome::Irregular => {
                irregular += 1;
                continue;
            }
        };
        assert_eq!(
            got,
            end_reference(&buf),
            "{:?}",
            String::from_utf8_lossy(&buf)
        );
        regular += 1;
    }
    assert!(
        regular > 5_000 && irregular > 1_000,
        "{regular} {irregular}"
    );
}

#[test]
fn reads_a_cloudtrail_head() {
    let rec = br#"{"eventVersion":"1.08","userIdentity":{"eventName":"no","type":"IAMUser"},
        "eventTime":"2024-01-01T00:00:00Z","eventSource" : "rds.amazonaws.com",
        "eventName":"DeleteDBInstance","requestParameters":{"eventSource":"x"},"e":"eventName"}"#;
    let Outcome::Found(got) = scan_record(rec) else {
        panic!("not found")
    };
    assert_eq!(got.len, rec.len());
    assert!(!got.backslash);
    assert_eq!(field(rec, got.provider), Field::Str(b"rds.amazonaws.com"));
    assert_eq!(field(rec, got.action), Field::Str(b"DeleteDBInstance"));
    let Outcome::Found(got) = scan_record(br#"{"eventName":null,"eventSource":"a\"b"}"#) else {
        panic!("not found")
    };
    assert!(got.backslash);
    assert_eq!(got.action, Span::Unknown);
    assert_eq!(scan_record(b"[1]"), Outcome::Irregular);
    assert_eq!(scan_record(b""), Outcome::Irregular);
    assert_eq!(scan_record(br#"{"a":1,\"b":2}"#), Outcome::Irregular);
    assert!(matches!(scan_record(br#"{"a":"\\"}"#), Outcome::Found(_)));
}

#[test]
fn deep_nesting_is_walked_to_its_end() {
    for depth in [1usize, 63, 64, 65, 1000, 100_000] {
        let text = format!("{{\"x\":{}{}}} ,", "[".repeat(depth), "]".repeat(depth));
        let Outcome::Found(got) = scan_record(text.as_bytes()) else {
            panic!("depth {depth}: not found");
        };
        assert_eq!(got.len, text.len() - 2, "depth {depth}");
    }
}

/// The AVX2 walk is compiled with `target_feature(enable = ...)`: running it on a CPU without
/// one of those features is undefined behaviour, so `scan_record` must detect every one of them
/// at run time (bmi1 included: a CPU or hypervisor may expose AVX2 without it).
#[test]
fn avx2_path_checks_every_feature_it_is_compiled_with() {
    let source = include_str!("../structural.rs");
    let marker = "#[target_feature(enable = \"";
    let at = source
        .find("fn scan_record_avx2")
        .and_then(|f| source[..f].rfind(marker))
        .expect("scan_record_avx2's target_feature attribute");
    let features = &source[at + marker.len()..];
    let features = &features[..features.find('"').expect("end of the feature list")];
    let body = &source[source
        .find("pub(crate) fn scan_record(")
        .expect("scan_record")..];
    let body = &body[..body.find("scan_record_avx2(buf)").expect("the AVX2 call")];
    let features: Vec<&str> = features.split(',').collect();
    assert!(features.contains(&"bmi1"), "{features:?}");
    for feature in features {
        assert!(
            body.contains(&format!("is_x86_feature_detected!(\"{feature}\")")),
            "{feature} is not detected before the AVX2 walk"
        );
    }
}
