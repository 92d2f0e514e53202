//! Deciding, before parsing, which rules could match a record.
//!
//! Every rule whose query requires `event.provider` and/or `event.action` to equal one of a
//! finite set of strings ([`crate::super::required_equalities`]) is indexed by those strings.
//! The CloudTrail view reads `event.provider` from `eventSource` and `event.action` from
//! `eventName` verbatim (`src/ecs/view.rs`), so the raw record's top-level `eventSource` and
//! `eventName` strings decide which indexed rules are candidates. A record no rule is a
//! candidate for is never parsed.
//!
//! Soundness (the fast path must give exactly the alerts of evaluating every rule):
//! - A field is only taken as known when it is a plain JSON string without a backslash: its raw
//!   bytes are then its value. Anything else (an escape, a number, a list, null, an object) is
//!   [`crate::reader::Field::Unknown`] and makes every rule indexed on that field a candidate.
//! - Duplicate keys: serde_json keeps the last value, so the scan does too.
//! - A key written with an escape could spell `eventName`: the whole record is then unknown.
//! - A `Some(empty)` constraint (the query can never be true) leaves the rule out entirely.
//! - Matching the literal is then left to the evaluator, so a candidate that does not match
//!   (e.g. a value longer than `ignore_above`) costs time, never an alert.
//!
//! Rules that require no provider or action (e.g. Elastic's suspicious user agent rule, a
//! `stringContains(user_agent.original, ...)` on every event) would make every record a
//! candidate. For those, [`engine::required_texts`] gives texts of which one must occur in the
//! value of a [verbatim](crate::ecs::schema::is_verbatim) field: a field the view copies unchanged from a JSON string
//! of the record. Such a rule is a candidate only when the raw record contains one of its texts
//! (case-sensitive byte search) or a backslash. Soundness: without a backslash, every JSON string
//! of the record is its raw bytes between quotes, so a value holding the text means raw bytes
//! holding it; with a backslash, any escape could spell the text (`\u006b` for `k`), so the rule
//! is a candidate. Texts never hold `"` or control characters, which raw JSON always escapes.
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Document, Expr, Value};
use crate::ecs::schema::{is_verbatim, ACTION, PROVIDER};
use crate::reader::{Field, Head};

mod text;

use text::TextRules;

/// The hash of the dispatch maps: looked up once per record with a short key the attacker may
/// choose, but the maps hold only the rules' own literals, so a collision costs one compare
/// more, never a wrong answer. SipHash (the default) was ~2% of a whole scan.
type FastHash = BuildHasherDefault<FoldHasher>;

/// FxHash-style multiply-and-fold over 8-byte words.
#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        let mut word = [0u8; 8];
        let rest = chunks.remainder();
        word[..rest.len()].copy_from_slice(rest);
        self.0 =
            (self.0.rotate_left(26) ^ u64::from_le_bytes(word) ^ rest.len() as u64).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// Rules by the literal they require, with a cheap pre-check: most records' `eventName` is in
/// no rule, and a 4,096-bit signature of (length, first, last byte) turns almost all of them
/// away before any hashing.
#[derive(Debug, Clone)]
struct LiteralMap {
    map: HashMap<Box<[u8]>, Vec<usize>, FastHash>,
    signatures: Box<[u64; 64]>,
}

impl Default for LiteralMap {
    fn default() -> Self {
        LiteralMap {
            map: HashMap::default(),
            signatures: Box::new([0; 64]),
        }
    }
}

impl LiteralMap {
    fn signature(key: &[u8]) -> usize {
        let first = key.first().copied().unwrap_or(0) as usize;
        let last = key.last().copied().unwrap_or(0) as usize;
        (key.len().wrapping_mul(977) ^ first.wrapping_mul(31) ^ (last << 4)) & 4095
    }

    fn push(&mut self, key: Vec<u8>, rule: usize) {
        let sig = Self::signature(&key);
        self.signatures[sig / 64] |= 1 << (sig % 64);
        self.map
            .entry(key.into_boxed_slice())
            .or_default()
            .push(rule);
    }

    #[inline]
    fn get(&self, key: &[u8]) -> Option<&Vec<usize>> {
        let sig = Self::signature(key);
        if self.signatures[sig / 64] & (1 << (sig % 64)) == 0 {
            return None;
        }
        self.map.get(key)
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A raw record as the text dispatch reads it.
#[derive(Debug, Clone, Copy)]
pub struct Raw<'a> {
    pub bytes: &'a [u8],
    /// Known to hold no backslash (the splitter saw none), so no search for one is needed.
    /// False: not known.
    pub escape_free: bool,
}

impl<'a> Raw<'a> {
    /// Bytes nothing is known about yet.
    pub fn new(bytes: &'a [u8]) -> Raw<'a> {
        Raw {
            bytes,
            escape_free: false,
        }
    }
}

/// One rule's constraints, as indices into the catalogue.
#[derive(Debug, Clone, Default)]
struct Constraint {
    providers: Option<Vec<String>>,
    /// Texts (ids in [`Dispatch::texts`]) of which one must occur in the raw record, besides the
    /// provider and action literals the rule is indexed by (the rule's other verbatim clauses,
    /// e.g. `aws.cloudtrail.user_identity.type: "AWSService"`). `None`: no such texts known.
    texts: Option<Vec<usize>>,
}

/// Rules indexed by the literals they require.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    /// How many rules the index was built over (a mismatch means the index is stale).
    rules: usize,
    /// Rules with no usable constraint: candidates for every record.
    always: Vec<usize>,
    /// Rules with no provider/action constraint but required texts.
    texts: TextRules,
    /// Rules constrained on `event.action` (their provider constraint is checked per record).
    by_action: LiteralMap,
    action_rules: Vec<usize>,
    /// Rules constrained on `event.provider` only.
    by_provider: LiteralMap,
    provider_rules: Vec<usize>,
    constraints: Vec<Constraint>,
}

impl Dispatch {
    /// Indexes `exprs` (in catalogue order).
    pub fn new<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> Dispatch {
        Self::with_absent(exprs, &|_| false)
    }

    /// Indexes `exprs`, knowing that no record has a value at the paths `absent` accepts (the
    /// fields of an enrichment whose database is not configured): a rule that needs one
    /// ([`super::requires_value`]) can never match and is never a candidate.
    pub fn with_absent<'e>(
        exprs: impl IntoIterator<Item = &'e Expr>,
        absent: &dyn Fn(&str) -> bool,
    ) -> Dispatch {
        let mut d = Dispatch::default();
        // The texts a rule indexed by provider or action must also hold: its other verbatim
        // clauses (the provider and action are already checked by the index).
        let other_verbatim = |p: &str| p != PROVIDER && p != ACTION && is_verbatim(p);
        for (i, expr) in exprs.into_iter().enumerate() {
            d.rules += 1;
            let providers = super::required_equalities(expr, PROVIDER);
            let actions = super::required_equalities(expr, ACTION);
            if providers.as_ref().is_some_and(Vec::is_empty)
                || actions.as_ref().is_some_and(Vec::is_empty)
                || super::requires_value(expr, absent)
            {
                // Can never be true: never a candidate.
                d.constraints.push(Constraint::default());
                continue;
            }
            let mut texts = None;
            if actions.is_some() || providers.is_some() {
                match super::required_texts(expr, &other_verbatim) {
                    Some(t) if t.is_empty() => {
                        d.constraints.push(Constraint::default()); // never true
                        continue;
                    }
                    Some(t) => texts = Some(d.texts.register(t)),
                    None => {}
                }
            }
            match (actions, &providers) {
                (Some(actions), _) => {
                    for a in actions {
                        d.by_action.push(a.into_bytes(), i);
                    }
                    d.action_rules.push(i);
                }
                (None, Some(ps)) => {
                    for p in ps {
                        d.by_provider.push(p.clone().into_bytes(), i);
                    }
                    d.provider_rules.push(i);
                }
                (None, None) => match super::required_texts(expr, &is_verbatim) {
                    Some(texts) => d.texts.add(i, texts),
                    None => d.always.push(i),
                },
            }
            d.constraints.push(Constraint { providers, texts });
        }
        d
    }

    /// Whether the index was built over `n` rules.
    pub fn covers(&self, n: usize) -> bool {
        self.rules == n
    }

    /// Rules that are candidates for every record (no provider, action or text they require).
    pub fn unconstrained(&self) -> usize {
        self.always.len()
    }

    /// Rules that are candidates only for raw records holding one of their texts (or an escape).
    pub fn text_constrained(&self) -> usize {
        self.texts.rules.len()
    }

    /// The texts the text-constrained rules search for, each once.
    pub fn texts(&self) -> &[String] {
        &self.texts.texts
    }

    /// The candidate rules for a record with these dispatch fields and raw bytes `raw`, in
    /// catalogue order, into `out`. `raw` is `None` when the bytes are not at hand (a record
    /// already parsed): every text-constrained rule is then a candidate.
    pub fn candidates(&self, head: Head<'_>, raw: Option<Raw<'_>>, out: &mut Vec<usize>) {
        out.clear();
        out.extend_from_slice(&self.always);
        if !self.texts.rules.is_empty() {
            self.texts.candidates(raw, out);
        }
        let texts_ok = |i: usize| match &self.constraints[i].texts {
            None => true,
            Some(ids) => self.texts.may_hold(ids, raw),
        };
        let provider_ok = |i: usize| {
            let c = &self.constraints[i];
            let provider = match (&c.providers, head.provider) {
                (None, _) | (Some(_), Field::Unknown) => true,
                (Some(_), Field::Missing) => false,
                (Some(ps), Field::Str(p)) => ps.iter().any(|x| x.as_bytes() == p),
            };
            provider && texts_ok(i)
        };
        match head.action {
            Field::Missing => {}
            Field::Str(a) => {
                if let Some(rules) = self.by_action.get(a) {
                    out.extend(rules.iter().copied().filter(|&i| provider_ok(i)));
                }
            }
            Field::Unknown => out.extend(
                self.action_rules
                    .iter()
                    .copied()
                    .filter(|&i| provider_ok(i)),
            ),
        }
        match head.provider {
            Field::Missing => {}
            Field::Str(p) => {
                if let Some(rules) = self.by_provider.get(p) {
                    out.extend(rules.iter().copied().filter(|&i| texts_ok(i)));
                }
            }
            Field::Unknown => {
                out.extend(self.provider_rules.iter().copied().filter(|&i| texts_ok(i)))
            }
        }
        if !self.by_provider.is_empty() || !self.always.is_empty() || !self.texts.rules.is_empty() {
            out.sort_unstable();
        }
    }
}

/// The dispatch fields as a [`Document`] shows them (for callers that already have one).
pub fn head_of_document(doc: &dyn Document) -> (OwnedField, OwnedField) {
    (field_of(doc, PROVIDER), field_of(doc, ACTION))
}

/// [`Field`] with its own bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedField {
    Missing,
    Str(Vec<u8>),
    Unknown,
}

impl OwnedField {
    pub fn as_field(&self) -> Field<'_> {
        match self {
            OwnedField::Missing => Field::Missing,
            OwnedField::Str(s) => Field::Str(s),
            OwnedField::Unknown => Field::Unknown,
        }
    }
}

fn field_of(doc: &dyn Document, path: &str) -> OwnedField {
    let mut out = OwnedField::Missing;
    doc.any_value(path, &mut |v| {
        out = match (&out, v) {
            (OwnedField::Missing, Value::Str(s)) => OwnedField::Str(s.as_bytes().to_vec()),
            _ => OwnedField::Unknown,
        };
        matches!(out, OwnedField::Unknown) // stop once nothing more can be learnt
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{Field, Head};

    fn eq(path: &str, s: &str) -> Expr {
        Expr::Field {
            path: path.into(),
            matcher: crate::engine::Matcher::Equals(crate::engine::Literal::Str(s.into())),
        }
    }

    #[test]
    fn candidates_follow_the_constraints() {
        let rules = [
            Expr::And(vec![eq(PROVIDER, "rds"), eq(ACTION, "A")]), // 0
            eq(PROVIDER, "rds"),                                   // 1
            Expr::True,                                            // 2
            Expr::Or(vec![eq(ACTION, "A"), eq(ACTION, "B")]),      // 3
            Expr::And(vec![eq(ACTION, "A"), eq(ACTION, "B")]),     // 4: never
        ];
        let d = Dispatch::new(rules.iter());
        let cands = |provider, action| {
            let mut out = Vec::new();
            d.candidates(Head { provider, action }, Some(Raw::new(b"{}")), &mut out);
            out
        };
        use Field::*;
        assert_eq!(cands(Str(b"rds"), Str(b"A")), [0, 1, 2, 3]);
        assert_eq!(cands(Str(b"ec2"), Str(b"A")), [2, 3]);
        assert_eq!(cands(Missing, Str(b"B")), [2, 3]);
        assert_eq!(cands(Unknown, Missing), [1, 2]);
        assert_eq!(cands(Unknown, Unknown), [0, 1, 2, 3]);
        assert_eq!(cands(Str(b"rds"), Str(b"C")), [1, 2]);
    }

    #[test]
    fn indexed_rules_also_need_their_other_verbatim_texts() {
        let service = Expr::And(vec![
            eq(ACTION, "AssumeRole"),
            eq("aws.cloudtrail.user_identity.type", "AWSService"),
        ]);
        let d = Dispatch::new([service].iter());
        let head = Head {
            provider: Field::Str(b"sts.amazonaws.com"),
            action: Field::Str(b"AssumeRole"),
        };
        let cands = |raw: &'static [u8]| {
            let mut out = Vec::new();
            d.candidates(head, Some(Raw::new(raw)), &mut out);
            out
        };
        assert_eq!(cands(br#"{"userIdentity":{"type":"AWSService"}}"#), [0]);
        assert!(cands(br#"{"userIdentity":{"type":"IAMUser"}}"#).is_empty());
        // An escape could spell the text: still a candidate.
        assert_eq!(cands(br#"{"userIdentity":{"type":"AWSService"}}"#), [0]);
        // Bytes not at hand: a candidate.
        let mut out = Vec::new();
        d.candidates(head, None, &mut out);
        assert_eq!(out, [0]);
    }

    #[test]
    fn rules_needing_an_absent_field_are_never_candidates() {
        let asn = Expr::And(vec![
            eq(ACTION, "ListBuckets"),
            eq("source.as.organization.name", "VPN"),
        ]);
        let not_asn = Expr::And(vec![
            eq(ACTION, "ListBuckets"),
            Expr::Not(Box::new(eq("source.as.organization.name", "VPN"))),
        ]);
        let d = Dispatch::with_absent([asn, not_asn].iter(), &|p: &str| {
            p.starts_with("source.as.")
        });
        let mut out = Vec::new();
        let head = Head {
            provider: Field::Str(b"s3.amazonaws.com"),
            action: Field::Str(b"ListBuckets"),
        };
        d.candidates(head, Some(Raw::new(b"{}")), &mut out);
        assert_eq!(out, [1]);
    }
}
