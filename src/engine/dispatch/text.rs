//! Rules that require no provider or action literal, dispatched on texts they require in the
//! raw record (see the module documentation of [`super`]).
use memchr::memmem::Finder;

use super::Raw;

/// Rules with no provider or action constraint that need one of some texts in the raw record.
#[derive(Debug, Clone, Default)]
pub(super) struct TextRules {
    /// (rule, indices into `finders`), in catalogue order. No index: the rule can never match.
    pub(super) rules: Vec<(usize, Vec<usize>)>,
    /// One searcher per distinct text, built once (memchr's SIMD substring search: the catalogue
    /// has a handful of texts, and most records are searched once per text and contain none).
    finders: Vec<Finder<'static>>,
    pub(super) texts: Vec<String>,
}

impl TextRules {
    pub(super) fn add(&mut self, rule: usize, texts: Vec<String>) {
        let ids = self.register(texts);
        self.rules.push((rule, ids));
    }

    /// The ids of `texts`, each searcher built once.
    pub(super) fn register(&mut self, texts: Vec<String>) -> Vec<usize> {
        let mut ids = Vec::with_capacity(texts.len());
        for t in texts {
            let id = match self.texts.iter().position(|x| *x == t) {
                Some(id) => id,
                None => {
                    self.finders.push(Finder::new(t.as_bytes()).into_owned());
                    self.texts.push(t);
                    self.texts.len() - 1
                }
            };
            ids.push(id);
        }
        ids
    }

    /// Whether the raw record may hold one of the texts `ids`: it does, or it holds an escape
    /// (which could spell any of them), or its bytes are not at hand.
    pub(super) fn may_hold(&self, ids: &[usize], raw: Option<Raw<'_>>) -> bool {
        match raw {
            Some(raw) if raw.escape_free || memchr::memchr(b'\\', raw.bytes).is_none() => ids
                .iter()
                .any(|&t| self.finders[t].find(raw.bytes).is_some()),
            _ => true,
        }
    }

    /// Appends the rules that `raw` (None: bytes not at hand) may make true.
    pub(super) fn candidates(&self, raw: Option<Raw<'_>>, out: &mut Vec<usize>) {
        match raw {
            Some(raw) if raw.escape_free || memchr::memchr(b'\\', raw.bytes).is_none() => {
                out.extend(self.rules.iter().filter_map(|(rule, ids)| {
                    ids.iter()
                        .any(|&t| self.finders[t].find(raw.bytes).is_some())
                        .then_some(*rule)
                }));
            }
            _ => out.extend(self.rules.iter().map(|(rule, _)| *rule)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Dispatch;
    use super::*;
    use crate::ecs::schema::{is_verbatim, PROVIDER};
    use crate::engine::{self, Expr};
    use crate::reader::{Field, Head};

    fn eq(path: &str, s: &str) -> Expr {
        Expr::Field {
            path: path.into(),
            matcher: engine::Matcher::Equals(engine::Literal::Str(s.into())),
        }
    }

    fn user_agent_contains(text: &str) -> Expr {
        Expr::Field {
            path: "user_agent.original".into(),
            matcher: engine::Matcher::Wildcard(engine::Wildcard {
                tokens: vec![
                    engine::WildcardToken::Any,
                    engine::WildcardToken::Text(text.into()),
                    engine::WildcardToken::Any,
                ],
                case_insensitive: false,
            }),
        }
    }

    #[test]
    fn text_rules_need_their_text_or_an_escape() {
        let rules = [
            Expr::And(vec![
                eq("event.outcome", "success"), // derived: no text
                Expr::Or(vec![
                    user_agent_contains("kali"),
                    user_agent_contains("Truffle"),
                ]),
            ]), // 0
            eq(PROVIDER, "rds"),                                    // 1
            eq("event.outcome", "failure"),                         // 2: always
            eq("user.name", "kali"),                                // 3: shares the text
            Expr::And(vec![user_agent_contains("x"), Expr::False]), // 4: never (no provider can do)
        ];
        let d = Dispatch::new(rules.iter());
        assert_eq!((d.unconstrained(), d.text_constrained()), (1, 2));
        assert_eq!(d.texts(), ["Truffle", "kali"]);
        let cands = |raw: Option<&str>| {
            let mut out = Vec::new();
            d.candidates(
                Head {
                    provider: Field::Str(b"rds"),
                    action: Field::Missing,
                },
                raw.map(|r| Raw::new(r.as_bytes())),
                &mut out,
            );
            out
        };
        assert_eq!(cands(Some(r#"{"userAgent":"curl"}"#)), [1, 2]);
        assert_eq!(cands(Some(r#"{"userAgent":"curl kali"}"#)), [0, 1, 2, 3]);
        assert_eq!(cands(Some(r#"{"userAgent":"Truffle"}"#)), [0, 1, 2]);
        // Found anywhere: the evaluator decides where it counts.
        assert_eq!(cands(Some(r#"{"x":{"y":["kali"]}}"#)), [0, 1, 2, 3]);
        // Case-sensitive search: `Kali` is not `kali` (the rules are case-sensitive too).
        assert_eq!(cands(Some(r#"{"userAgent":"Kali TRUFFLE"}"#)), [1, 2]);
        // Any escape could spell a text.
        assert_eq!(cands(Some(r#"{"userAgent":"\u006bali"}"#)), [0, 1, 2, 3]);
        assert_eq!(cands(Some(r#"{"a":"\n"}"#)), [0, 1, 2, 3]);
        assert_eq!(cands(None), [0, 1, 2, 3]);
    }

    #[test]
    fn no_text_rules_no_search() {
        let d = Dispatch::new([eq(PROVIDER, "rds"), Expr::True].iter());
        assert_eq!((d.unconstrained(), d.text_constrained()), (1, 0));
        let mut out = Vec::new();
        d.candidates(Head::UNKNOWN, Some(Raw::new(br#"{"a":"\\"}"#)), &mut out);
        assert_eq!(out, [0, 1]);
    }

    #[test]
    fn verbatim_paths() {
        assert!(is_verbatim("user_agent.original"));
        assert!(is_verbatim(
            "aws.cloudtrail.flattened.request_parameters.bucketName"
        ));
        for derived in [
            "event.outcome",
            "data_stream.dataset",
            "event.category",
            "@timestamp",
        ] {
            assert!(!is_verbatim(derived), "{derived}");
        }
    }
}
