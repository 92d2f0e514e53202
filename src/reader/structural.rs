//! Finding where one record ends, and its top-level `eventSource` / `eventName`, 64 bytes at a
//! time.
//!
//! This is stage 1 of simdjson (Langdale & Lemire, "Parsing Gigabytes of JSON per Second",
//! 2019): each 64-byte block becomes bit masks (bit i = byte i) of quotes, backslashes and
//! brackets; escaped characters and the inside of strings are computed with integer
//! arithmetic on those masks, so only the few brackets outside strings are visited one by one
//! (to track depth). On x86_64 the masks come from SSE2 compares (part of the x86_64 baseline,
//! no run-time detection needed), or AVX2 with a carry-less multiply for the inside of strings
//! where detected; on aarch64 (the Lambda's Graviton) from NEON compares (baseline there), with
//! PMULL for the inside of strings where detected; elsewhere from a portable SWAR routine that
//! computes the same masks (all tested against each other and against a byte-at-a-time
//! reference).
//!
//! The same walk notes the strings that open at depth 1 of the record and start with `e`, and
//! reads the value of an `eventSource` / `eventName` key among them, so the prefilter does not
//! walk the record a second time. Those values are only trusted for records without a single
//! backslash (no escape can then spell a key or change a value); the caller falls back to
//! [`crate::reader::scan_head`] otherwise.

/// Where a top-level string field's value lies in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// The key was not seen.
    Missing,
    /// A JSON string without escapes: its contents are `record[start..end]`.
    Str(usize, usize),
    /// Present but not a plain string.
    Unknown,
}

/// What one walk over a record found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// Length of the record: one past its closing brace.
    pub len: usize,
    /// The record holds a backslash (then `provider` and `action` must not be trusted).
    pub backslash: bool,
    /// The last top-level `eventSource`.
    pub provider: Span,
    /// The last top-level `eventName`.
    pub action: Span,
}

/// Bit masks of one 64-byte block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
    /// `e`: the first letter of both keys looked for.
    e: u64,
}

const BLOCK: usize = 64;

/// The result of [`scan_record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The record ends within the buffer.
    Found(Scanned),
    /// The record does not end within the buffer: read more and call again.
    NeedMore,
    /// Not for this walk (the buffer does not start with `{`, or a backslash stands outside a
    /// string, where it escapes nothing): use the byte-at-a-time splitter.
    Irregular,
}

/// Walks the JSON object starting at `buf[0]` (which must be `{`) to its closing brace.
///
/// The walk does not validate JSON: it finds the end exactly as the byte-at-a-time splitter
/// does (brackets outside strings, strings ended by an unescaped quote; a record where the two
/// could disagree is [`Outcome::Irregular`]); parsing the record later reports any damage
/// inside it. For malformed JSON the head may differ from [`crate::reader::scan_head`]'s
/// (e.g. a trailing comma); such a record cannot parse, so it can raise no alert either way.
pub(crate) fn scan_record(buf: &[u8]) -> Outcome {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("pclmulqdq")
        && std::is_x86_feature_detected!("bmi1")
    {
        // SAFETY: the three features `scan_record_avx2` is compiled with were detected on this
        // CPU just now (bmi1 is separate from AVX2: a CPU or hypervisor may expose one alone).
        return unsafe { scan_record_avx2(buf) };
    }
    // Every Graviton (Neoverse N1, V1, V2) has PMULL; Rust's `aes` feature stands for AES and
    // PMULL together (the intrinsic `vmull_p64` is gated on it). The result is cached by std.
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("aes") {
        // SAFETY: the feature was detected on this CPU just now (NEON is aarch64 baseline).
        return unsafe { scan_record_pmull(buf) };
    }
    walk::<Baseline>(buf)
}

/// [`scan_record`] compiled for NEON and PMULL, so that [`walk`] and everything it inlines
/// use them.
#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon,aes")]
fn scan_record_pmull(buf: &[u8]) -> Outcome {
    walk::<NeonPmull>(buf)
}

/// [`scan_record`] compiled for AVX2 and carry-less multiplication, so that [`walk`] and
/// everything it inlines use them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,bmi1")]
fn scan_record_avx2(buf: &[u8]) -> Outcome {
    walk::<Avx2>(buf)
}

/// How the masks of a block are computed on this CPU.
trait Simd {
    /// # Safety
    /// The CPU must have the features the implementation uses.
    unsafe fn classify(block: &[u8; BLOCK]) -> Masks;
    /// # Safety
    /// As for `classify`.
    unsafe fn prefix_xor(x: u64) -> u64;
}

/// SSE2 on x86_64 and NEON on aarch64 (always there), SWAR elsewhere; `prefix_xor` by shifts.
struct Baseline;

impl Simd for Baseline {
    #[inline(always)]
    unsafe fn classify(block: &[u8; BLOCK]) -> Masks {
        classify(block)
    }
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        prefix_xor(x)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    #[inline(always)]
    unsafe fn classify(block: &[u8; BLOCK]) -> Masks {
        // SAFETY: the caller ensures AVX2 (the contract of `Simd::classify`).
        unsafe { classify_avx2(block) }
    }
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: the caller ensures PCLMULQDQ.
        unsafe { prefix_xor_clmul(x) }
    }
}

/// NEON masks (as [`Baseline`]) and `prefix_xor` by one polynomial multiplication (PMULL).
#[cfg(target_arch = "aarch64")]
struct NeonPmull;

#[cfg(target_arch = "aarch64")]
impl Simd for NeonPmull {
    #[inline(always)]
    unsafe fn classify(block: &[u8; BLOCK]) -> Masks {
        // SAFETY: NEON is part of the aarch64 baseline.
        unsafe { classify_neon(block) }
    }
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: the caller ensures PMULL (the contract of `Simd::prefix_xor`).
        unsafe { prefix_xor_pmull(x) }
    }
}

/// The walk itself, for the mask routines `S`. Only called where `S`'s features are known to
/// be present ([`scan_record`] checks them).
#[inline(always)]
fn walk<S: Simd>(buf: &[u8]) -> Outcome {
    if buf.first() != Some(&b'{') {
        return Outcome::Irregular;
    }
    let mut walk = Walk {
        buf,
        depth: 0,
        prev_escaped: 0,
        prev_in_string: 0,
        backslash: false,
        provider: Span::Missing,
        action: Span::Missing,
    };
    let mut base = 0;
    let mut padded = [b' '; BLOCK];
    while base < buf.len() {
        let block = match buf.get(base..).and_then(|rest| rest.first_chunk::<BLOCK>()) {
            Some(block) => block,
            None => {
                // The last, partial block: padded with spaces, which change nothing.
                let tail = &buf[base..];
                padded[..tail.len()].copy_from_slice(tail);
                &padded
            }
        };
        // SAFETY: `walk` is only instantiated with `S` whose features were checked.
        let masks = unsafe { S::classify(block) };
        let escaped = find_escaped(masks.backslash, &mut walk.prev_escaped);
        let quote = masks.quote & !escaped;
        // SAFETY: as above.
        let in_string = unsafe { S::prefix_xor(quote) } ^ walk.prev_in_string;
        match walk.block(base, Masks { quote, ..masks }, in_string) {
            Step::End(end) => {
                return Outcome::Found(Scanned {
                    len: base + end + 1,
                    backslash: walk.backslash,
                    provider: walk.provider,
                    action: walk.action,
                })
            }
            Step::Irregular => return Outcome::Irregular,
            Step::Next => base += BLOCK,
        }
    }
    Outcome::NeedMore
}

enum Step {
    /// The record's closing brace is at this bit of the block.
    End(usize),
    Next,
    Irregular,
}

struct Walk<'a> {
    buf: &'a [u8],
    depth: usize,
    /// 1 when the previous block ended in an odd run of backslashes.
    prev_escaped: u64,
    /// All ones when the previous block ended inside a string.
    prev_in_string: u64,
    backslash: bool,
    provider: Span,
    action: Span,
}

impl Walk<'_> {
    /// One block at `base`: `m.quote` holds the unescaped quotes only, `in_string` the bytes
    /// inside strings (opening quote included).
    #[inline(always)]
    fn block(&mut self, base: usize, m: Masks, in_string: u64) -> Step {
        let quotes = m.quote;
        self.prev_in_string = ((in_string as i64) >> 63) as u64;
        let open = m.open & !in_string;
        let close = m.close & !in_string;

        // Depth between brackets is constant: collect the stretches at depth 1.
        let mut depth1 = 0u64;
        let mut from = 0u32;
        let mut brackets = open | close;
        let mut end = None;
        while brackets != 0 {
            let bit = brackets.trailing_zeros();
            if self.depth == 1 {
                depth1 |= bits_between(from, bit);
            }
            if open & (1 << bit) != 0 {
                self.depth += 1;
            } else {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    end = Some(bit);
                    break;
                }
            }
            from = bit + 1;
            brackets &= brackets - 1;
        }
        let upto = match end {
            Some(bit) => bits_between(0, bit + 1),
            None => {
                if self.depth == 1 {
                    depth1 |= bits_between(from, 64);
                }
                u64::MAX
            }
        };
        if m.backslash & upto != 0 {
            if m.backslash & !in_string & upto != 0 {
                // Outside a string a backslash is just a (stray) byte to the byte-at-a-time
                // splitter, while the masks above took it as an escape.
                return Step::Irregular;
            }
            self.backslash = true;
        }

        // Opening quotes at depth 1 followed by `e` (the next block's first byte is unknown
        // here, so a quote in the last position is always looked at).
        let mut keys = quotes & in_string & depth1 & ((m.e >> 1) | 1 << 63);
        while keys != 0 {
            let at = base + keys.trailing_zeros() as usize;
            // `"eventS…` or `"eventN…`: the other `event…` keys go no further.
            if matches!(self.buf.get(at + 6), Some(b'S' | b'N')) {
                self.key_at(at);
            }
            keys &= keys - 1;
        }
        match end {
            Some(bit) => Step::End(bit as usize),
            None => Step::Next,
        }
    }

    /// A string opens at `at` at depth 1: if it is the key `eventSource` or `eventName`, note
    /// its value. A string followed by anything but `:` is a value, not a key.
    fn key_at(&mut self, at: usize) {
        // Fixed-size compares (no `memcmp` call): this runs for every `"e…` at depth 1.
        let rest = &self.buf[at + 1..];
        let (slot, key_len) = if rest.first_chunk::<12>() == Some(b"eventSource\"") {
            (&mut self.provider, 12)
        } else if rest.first_chunk::<10>() == Some(b"eventName\"") {
            (&mut self.action, 10)
        } else {
            return;
        };
        let mut i = at + 1 + key_len;
        i = skip_ws(self.buf, i);
        if self.buf.get(i) != Some(&b':') {
            return;
        }
        i = skip_ws(self.buf, i + 1);
        *slot = match self.buf.get(i) {
            Some(b'"') => match memchr::memchr2(b'"', b'\\', &self.buf[i + 1..]) {
                Some(n) if self.buf[i + 1 + n] == b'"' => Span::Str(i + 1, i + 1 + n),
                _ => Span::Unknown,
            },
            _ => Span::Unknown,
        };
    }
}

fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    while matches!(buf.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// Bits `from..to` (0 ≤ from ≤ to ≤ 64).
#[inline]
fn bits_between(from: u32, to: u32) -> u64 {
    let below_to = u64::MAX.checked_shr(64 - to).unwrap_or(0);
    let below_from = u64::MAX.checked_shr(64 - from).unwrap_or(0);
    below_to & !below_from
}

/// Bit i set when byte i is escaped (follows an odd run of backslashes), carrying a run that
/// crosses into the next block in `prev_escaped`. simdjson's `find_escaped_branchless`.
#[inline]
fn find_escaped(backslash: u64, prev_escaped: &mut u64) -> u64 {
    const EVEN_BITS: u64 = 0x5555_5555_5555_5555;
    let backslash = backslash & !*prev_escaped;
    let follows_escape = (backslash << 1) | *prev_escaped;
    let odd_sequence_starts = backslash & !EVEN_BITS & !follows_escape;
    let (sequences_starting_on_even_bits, overflow) =
        odd_sequence_starts.overflowing_add(backslash);
    *prev_escaped = u64::from(overflow);
    let invert_mask = sequences_starting_on_even_bits << 1;
    (EVEN_BITS ^ invert_mask) & follows_escape
}

/// Bit i = XOR of bits 0..=i: set from an opening quote up to (not including) its closing one.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn classify(block: &[u8]) -> Masks {
    match block.first_chunk::<BLOCK>() {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        Some(block) => unsafe { classify_sse2(block) },
        None => classify_portable(block),
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "sse2")]
fn classify_sse2(block: &[u8; BLOCK]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let quote = _mm_set1_epi8(b'"' as i8);
    let backslash = _mm_set1_epi8(b'\\' as i8);
    let lower = _mm_set1_epi8(0x20);
    let open = _mm_set1_epi8(b'{' as i8); // `[` | 0x20 == `{`
    let close = _mm_set1_epi8(b'}' as i8); // `]` | 0x20 == `}`
    let e = _mm_set1_epi8(b'e' as i8);
    let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16);
    let mut m = Masks::default();
    for (lane, bytes) in block.chunks_exact(16).enumerate() {
        // SAFETY: `bytes` is 16 bytes long; `_mm_loadu_si128` reads 16 bytes with no
        // alignment requirement.
        let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>()) };
        let folded = _mm_or_si128(v, lower);
        let shift = lane * 16;
        m.quote |= bits(_mm_cmpeq_epi8(v, quote)) << shift;
        m.backslash |= bits(_mm_cmpeq_epi8(v, backslash)) << shift;
        m.open |= bits(_mm_cmpeq_epi8(folded, open)) << shift;
        m.close |= bits(_mm_cmpeq_epi8(folded, close)) << shift;
        m.e |= bits(_mm_cmpeq_epi8(v, e)) << shift;
    }
    m
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
fn classify_avx2(block: &[u8; BLOCK]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let lower = _mm256_set1_epi8(0x20);
    let open = _mm256_set1_epi8(b'{' as i8);
    let close = _mm256_set1_epi8(b'}' as i8);
    let e = _mm256_set1_epi8(b'e' as i8);
    let bits = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
    let mut m = Masks::default();
    for (lane, bytes) in block.chunks_exact(32).enumerate() {
        // SAFETY: `bytes` is 32 bytes long; `_mm256_loadu_si256` reads 32 bytes with no
        // alignment requirement.
        let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().cast::<__m256i>()) };
        let folded = _mm256_or_si256(v, lower);
        let shift = lane * 32;
        m.quote |= bits(_mm256_cmpeq_epi8(v, quote)) << shift;
        m.backslash |= bits(_mm256_cmpeq_epi8(v, backslash)) << shift;
        m.open |= bits(_mm256_cmpeq_epi8(folded, open)) << shift;
        m.close |= bits(_mm256_cmpeq_epi8(folded, close)) << shift;
        m.e |= bits(_mm256_cmpeq_epi8(v, e)) << shift;
    }
    m
}

/// [`prefix_xor`] as one carry-less multiplication by all ones.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "pclmulqdq")]
fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set1_epi8, _mm_set_epi64x,
    };
    let product = _mm_clmulepi64_si128::<0>(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1));
    _mm_cvtsi128_si64(product) as u64
}

#[cfg(target_arch = "aarch64")]
#[inline]
fn classify(block: &[u8]) -> Masks {
    match block.first_chunk::<BLOCK>() {
        // SAFETY: NEON (Advanced SIMD) is part of the aarch64 baseline: every aarch64 CPU
        // Rust targets has it, and the `aarch64-unknown-linux-gnu` target enables it.
        Some(block) => unsafe { classify_neon(block) },
        None => classify_portable(block),
    }
}

/// NEON has no `movemask`: simdjson's emulation (`simd8x64::to_bitmask`, arm64) keeps in each
/// byte of a compare result (0x00 or 0xff) only its bit weight within its 8-byte group
/// (1, 2, .., 128), then three rounds of pairwise adds fold the 64 lanes of four registers
/// into 8 bytes, lane i becoming bit i.
#[cfg(target_arch = "aarch64")]
#[inline]
#[target_feature(enable = "neon")]
fn classify_neon(block: &[u8; BLOCK]) -> Masks {
    use std::arch::aarch64::{
        uint8x16_t, vandq_u8, vceqq_u8, vdupq_n_u8, vgetq_lane_u64, vld1q_u8, vorrq_u8, vpaddq_u8,
        vreinterpretq_u64_u8,
    };
    const WEIGHTS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    // SAFETY: `WEIGHTS` is 16 bytes long; `vld1q_u8` reads 16 bytes with no alignment
    // requirement.
    let weights = unsafe { vld1q_u8(WEIGHTS.as_ptr()) };
    let bits = |c: [uint8x16_t; 4]| {
        let low = vpaddq_u8(vandq_u8(c[0], weights), vandq_u8(c[1], weights));
        let high = vpaddq_u8(vandq_u8(c[2], weights), vandq_u8(c[3], weights));
        let quads = vpaddq_u8(low, high);
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(vpaddq_u8(quads, quads)))
    };
    // SAFETY: each offset leaves 16 of the block's 64 bytes to read; `vld1q_u8` reads 16
    // bytes with no alignment requirement.
    let v = [0, 16, 32, 48].map(|at| unsafe { vld1q_u8(block.as_ptr().add(at)) });
    let lower = vdupq_n_u8(0x20);
    let folded = v.map(|v| vorrq_u8(v, lower));
    let eq = |v: [uint8x16_t; 4], c: u8| {
        let c = vdupq_n_u8(c);
        v.map(|v| vceqq_u8(v, c))
    };
    Masks {
        quote: bits(eq(v, b'"')),
        backslash: bits(eq(v, b'\\')),
        open: bits(eq(folded, b'{')),  // `[` | 0x20 == `{`
        close: bits(eq(folded, b'}')), // `]` | 0x20 == `}`
        e: bits(eq(v, b'e')),
    }
}

/// [`prefix_xor`] as one carry-less (polynomial) multiplication by all ones: the low 64 bits
/// of the product hold at bit i the XOR of bits 0..=i.
#[cfg(target_arch = "aarch64")]
#[inline]
#[target_feature(enable = "neon,aes")]
fn prefix_xor_pmull(x: u64) -> u64 {
    std::arch::aarch64::vmull_p64(x, u64::MAX) as u64
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
fn classify(block: &[u8]) -> Masks {
    classify_portable(block)
}

/// The masks of a 64-byte block eight bytes at a time (SWAR), for targets without SSE2 or NEON.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), allow(dead_code))]
fn classify_portable(block: &[u8]) -> Masks {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // 0x80 in each byte of `w` equal to `c` (exact: no borrow between bytes).
    let eq = |w: u64, c: u8| {
        let x = w ^ (ONES * u64::from(c));
        !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH
    };
    // The eight high bits gathered into one byte (byte i → bit i).
    let pack = |m: u64| (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let mut m = Masks::default();
    for (i, chunk) in block.chunks(8).take(8).enumerate() {
        let mut word = [b' '; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let folded = w | (ONES * 0x20);
        let shift = i * 8;
        m.quote |= pack(eq(w, b'"')) << shift;
        m.backslash |= pack(eq(w, b'\\')) << shift;
        m.open |= pack(eq(folded, b'{')) << shift;
        m.close |= pack(eq(folded, b'}')) << shift;
        m.e |= pack(eq(w, b'e')) << shift;
    }
    m
}

#[cfg(test)]
mod tests;
