//! Rules that require no provider or action literal, dispatched on texts they require in the
//! raw record (see the module documentation of [`crate::prefilter`]).
use memchr::memmem::Finder;

use super::Raw;

/// ECS paths whose string values are JSON strings of the CloudTrail record, or substrings of one,
/// unchanged (`CloudTrailView::any_value`, src/ecs/view.rs: `visit_src` of the source key, or a
/// choice among such keys). Left out on purpose: constants (`data_stream.dataset`), computed
/// values (`event.outcome`, `event.category`, `event.type`, `@timestamp`, `tls.version*`, the
/// `toString()` blobs `aws.cloudtrail.request_parameters` etc., `related.entity`), and keys read
/// through renames not checked here (`aws.cloudtrail.resources.*`).
pub const VERBATIM_PATHS: &[&str] = &[
    "event.provider",         // eventSource
    "event.action",           // eventName
    "event.id",               // eventID
    "cloud.region",           // awsRegion
    "cloud.account.id",       // userIdentity.accountId, recipientAccountId or awsAccountId
    "source.address",         // sourceIPAddress
    "source.ip",              // sourceIPAddress when it is an IP address
    "user_agent.original",    // userAgent
    "user.id",                // userIdentity.principalId or .onBehalfOf.userId
    "user.name",              // userIdentity.userName, the session issuer's, or UserName
    "user.email",             // user.name when it holds an `@`
    "user.changes.name",      // requestParameters.newUserName, or the tail of userIdentity.arn
    "user.target.id",         // responseElements.user.userId
    "user.target.name",       // requestParameters.userName
    "group.id",               // responseElements.group.groupId
    "group.name",             // requestParameters.groupName
    "related.user",           // strings of the six fields above
    "tls.cipher",             // tlsDetails.cipherSuite
    "tls.client.server_name", // tlsDetails.clientProvidedHostHeader
    "aws.cloudtrail.event_version",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.api_version",
    "aws.cloudtrail.request_id",
    "aws.cloudtrail.recipient_account_id",
    "aws.cloudtrail.shared_event_id",
    "aws.cloudtrail.vpc_endpoint_id",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.error_message",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.invoked_by",
    "aws.cloudtrail.user_identity.session_context.session_issuer.type",
    "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    "aws.cloudtrail.console_login.additional_eventdata.login_to",
];

/// Every path below it is a leaf of `requestParameters`, `responseElements`,
/// `additionalEventData` or `serviceEventDetails` as it is (`visit_flattened`).
pub const VERBATIM_PREFIX: &str = "aws.cloudtrail.flattened.";

/// Whether the CloudTrail view's string values at `path` are (substrings of) JSON strings of the
/// raw record, unchanged. Numbers and booleans there are left to [`crate::engine::required_texts`].
pub fn is_verbatim(path: &str) -> bool {
    VERBATIM_PATHS.contains(&path) || path.starts_with(VERBATIM_PREFIX)
}

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
        self.rules.push((rule, ids));
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
    use super::super::{Dispatch, Field, Head, PROVIDER};
    use super::*;
    use crate::engine::{self, Expr};

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
