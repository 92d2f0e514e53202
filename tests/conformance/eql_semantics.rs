#![allow(clippy::unwrap_used, clippy::panic)]
//! EQL single-event semantics: every Elastic AWS EQL rule compiles (read in place from
//! `../shared`), and the translation reproduces Elasticsearch's (elastic-semantics.md §3), checked
//! by evaluating through the public engine.
use std::path::{Path, PathBuf};

#[path = "eql_semantics/real_data.rs"]
mod real_data;

use serde_json::{json, Value};
use trailwatch::engine::{matches, JsonDocument};
use trailwatch::query::eql;
use trailwatch::query::{ErrorKind, QueryError};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/elastic/rules");

struct EqlRule {
    path: PathBuf,
    query: String,
    /// `event_category_override`, the field `<category> where` tests.
    category_field: String,
}

impl EqlRule {
    fn compile(&self) -> Result<trailwatch::engine::Expr, QueryError> {
        eql::parse_with_category_field(&self.query, &self.category_field)
    }
}

/// Every rule with `language = "eql"` in `dir`.
fn eql_rules(dir: &str) -> Vec<EqlRule> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(Path::new(RULES).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let rule = doc["rule"].as_table().unwrap();
        if rule.get("language").and_then(|l| l.as_str()) == Some("eql") {
            let query = rule["query"].as_str().unwrap().to_owned();
            let category_field = rule
                .get("event_category_override")
                .and_then(|v| v.as_str())
                .unwrap_or(eql::DEFAULT_EVENT_CATEGORY_FIELD)
                .to_owned();
            out.push(EqlRule {
                path,
                query,
                category_field,
            });
        }
    }
    out
}

fn rule(dir: &str, file: &str) -> EqlRule {
    eql_rules(dir)
        .into_iter()
        .find(|r| r.path.file_name().is_some_and(|n| n == file))
        .unwrap()
}

#[test]
fn every_single_event_aws_eql_rule_compiles_and_the_sequence_is_unsupported() {
    let rules = eql_rules("aws-eql");
    assert_eq!(rules.len(), 27, "elastic-semantics.md §1: 27 AWS EQL rules");
    let (mut compiled, mut sequences) = (0, 0);
    for r in &rules {
        match r.compile() {
            Ok(_) => compiled += 1,
            Err(QueryError {
                kind: ErrorKind::Unsupported,
                message: reason,
                ..
            }) if r.query.trim_start().starts_with("sequence") => {
                assert!(
                    reason.contains("sequence"),
                    "{}: {reason}",
                    r.path.display()
                );
                sequences += 1;
            }
            Err(e) => panic!("{}: {e:?}\n{}", r.path.display(), r.query),
        }
    }
    assert_eq!((compiled, sequences), (26, 1));
}

#[test]
fn every_rds_eql_rule_compiles() {
    let rules = eql_rules("rds");
    assert_eq!(rules.len(), 5, "elastic-semantics.md §1: 5 EQL RDS rules");
    for r in &rules {
        if let Err(e) = r.compile() {
            panic!("{}: {e:?}", r.path.display());
        }
    }
}

/// One semantic check: `query` on `doc` must give `expected`. `spec` names the line of
/// elastic-semantics.md (or the Elasticsearch source) that demands it.
struct Case {
    spec: &'static str,
    query: &'static str,
    doc: Value,
    expected: bool,
}

fn case(spec: &'static str, query: &'static str, doc: Value, expected: bool) -> Case {
    Case {
        spec,
        query,
        doc,
        expected,
    }
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let expr = eql::parse(c.query).unwrap_or_else(|e| panic!("{}: {e:?}", c.query));
        let got = matches(&expr, &JsonDocument(&c.doc));
        if got != c.expected {
            failures.push(format!(
                "[{}] {} on {} gave {got}, want {}",
                c.spec, c.query, c.doc, c.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const EQ_CASE: &str = "§3 bullet 1: `==` and `in (...)`: exact, case-sensitive";
const CI_CASE: &str = "§3 bullet 1: `:` and `in~` and `like~`: case-insensitive";
const WILDCARD: &str = "§3 bullet 1: `like` / `:` with `*` or `?`: wildcard (`?` = one char)";
const CONTAINS: &str = "§3 bullet 2: stringContains is a wildcard query `*s*` without escaping `s`";
const MUST_NOT: &str =
    "§3 bullet 3: `not (...)` is a must_not: a document missing the field satisfies it";

#[test]
fn equality_and_in_are_exact_and_case_sensitive() {
    let doc = json!({"event": {"action": "ModifyDBInstance"}});
    run(vec![
        case(
            EQ_CASE,
            r#"any where event.action == "ModifyDBInstance""#,
            doc.clone(),
            true,
        ),
        case(
            EQ_CASE,
            r#"any where event.action == "modifydbinstance""#,
            doc.clone(),
            false,
        ),
        case(
            EQ_CASE,
            r#"any where event.action == "Modify*""#,
            doc.clone(),
            false,
        ),
        case(
            EQ_CASE,
            r#"any where event.action == "Modify*""#,
            json!({"event": {"action": "Modify*"}}),
            true,
        ),
        case(
            EQ_CASE,
            r#"any where event.action in ("CreateDBInstance", "ModifyDBInstance")"#,
            doc.clone(),
            true,
        ),
        case(
            EQ_CASE,
            r#"any where event.action in ("modifydbinstance")"#,
            doc.clone(),
            false,
        ),
        case(
            EQ_CASE,
            r#"any where event.action not in ("CreateDBInstance")"#,
            doc,
            true,
        ),
    ]);
}

#[test]
fn colon_in_tilde_and_like_tilde_ignore_case() {
    let doc = json!({"event": {"action": "ModifyDBInstance"}, "user_agent": {"original": "Terraform/1.5.7"}});
    run(vec![
        case(
            CI_CASE,
            r#"any where event.action : "modifydbinstance""#,
            doc.clone(),
            true,
        ),
        case(
            CI_CASE,
            r#"any where event.action : ("x", "MODIFYDBINSTANCE")"#,
            doc.clone(),
            true,
        ),
        case(
            CI_CASE,
            r#"any where event.action : "modifydb""#,
            doc.clone(),
            false,
        ),
        case(
            CI_CASE,
            r#"any where event.action in~ ("createdbinstance", "modifydbINSTANCE")"#,
            doc.clone(),
            true,
        ),
        case(
            CI_CASE,
            r#"any where user_agent.original like~ "*terraform*""#,
            doc.clone(),
            true,
        ),
        case(
            CI_CASE,
            r#"any where user_agent.original like "*terraform*""#,
            doc.clone(),
            false,
        ),
        case(
            CI_CASE,
            r#"any where user_agent.original : "*terraform*""#,
            doc,
            true,
        ),
    ]);
}

#[test]
fn like_and_colon_wildcards_with_question_mark_as_one_character() {
    let abc = json!({"f": "abc"});
    run(vec![
        case(WILDCARD, r#"any where f like "a?c""#, abc.clone(), true),
        case(
            WILDCARD,
            r#"any where f like "a?c""#,
            json!({"f": "ac"}),
            false,
        ),
        case(
            WILDCARD,
            r#"any where f like "a?c""#,
            json!({"f": "abbc"}),
            false,
        ),
        case(WILDCARD, r#"any where f : "A?C""#, abc.clone(), true),
        case(WILDCARD, r#"any where f like "a*""#, abc.clone(), true),
        case(WILDCARD, r#"any where f like "b*""#, abc.clone(), false),
        case(
            WILDCARD,
            r#"any where f like ("x*", "*c")"#,
            abc.clone(),
            true,
        ),
        case(WILDCARD, r#"any where wildcard(f, "x*", "?b?")"#, abc, true),
    ]);
}

#[test]
fn string_contains_keeps_wildcards_in_the_substring() {
    let shared = json!({"aws": {"cloudtrail": {"request_parameters":
        "{attributeName=restore, dBSnapshotIdentifier=snap-1, valuesToAdd=[193672423079]}"}}});
    let policy = json!({"aws": {"cloudtrail": {"request_parameters": "{Effect=Allow, Principal=*, Action=s3:GetObject}"}}});
    let named = json!({"aws": {"cloudtrail": {"request_parameters": "{Effect=Allow, Principal=123456789012}"}}});
    run(vec![
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "valuesToAdd=[*]")"#,
            shared.clone(),
            true,
        ),
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "valuesToRemove=[*]")"#,
            shared.clone(),
            false,
        ),
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "snap-?,")"#,
            shared.clone(),
            true,
        ),
        // Case-sensitive unless written `stringContains~`.
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "AttributeName=restore")"#,
            shared.clone(),
            false,
        ),
        case(
            CONTAINS,
            r#"any where stringContains~(aws.cloudtrail.request_parameters, "AttributeName=RESTORE")"#,
            shared,
            true,
        ),
        // `"Principal=\\*"` is the value `Principal=\*`: Lucene's `\*` is a literal star.
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "Principal=\\*")"#,
            policy,
            true,
        ),
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "Principal=\\*")"#,
            named.clone(),
            false,
        ),
        case(
            CONTAINS,
            r#"any where stringContains(aws.cloudtrail.request_parameters, "Principal=*")"#,
            named,
            true,
        ),
    ]);
}

#[test]
fn prefix_suffix_cidr_and_ranges() {
    let doc = json!({"k": "ASIAXYZ", "source": {"ip": "10.1.2.3"}, "n": 7});
    run(vec![
        ("startsWith is a prefix query: nothing in it is a wildcard (ql ExpressionTranslators.Scalars)", r#"any where startsWith(k, "ASIA")"#, true),
        ("startsWith is a prefix query: nothing in it is a wildcard (ql ExpressionTranslators.Scalars)", r#"any where startsWith(k, "AS?A")"#, false),
        ("startsWith~ is case-insensitive", r#"any where startsWith~(k, "asia")"#, true),
        ("endsWith is a wildcard query `*s`, unescaped (eql QueryTranslator)", r#"any where endsWith(k, "X?Z")"#, true),
        ("cidrMatch is a terms query on an ip field (eql QueryTranslator.Scalars)", r#"any where cidrMatch(source.ip, "10.0.0.0/8")"#, true),
        ("cidrMatch is a terms query on an ip field (eql QueryTranslator.Scalars)", r#"any where cidrMatch(source.ip, "192.168.0.0/16", "11.0.0.0/8")"#, false),
        ("comparisons are range queries (ql ExpressionTranslators.BinaryComparisons)", "any where n >= 7 and n < 8", true),
        ("comparisons are range queries (ql ExpressionTranslators.BinaryComparisons)", "any where 7 < n", false),
    ]
    .into_iter()
    .map(|(spec, q, want)| case(spec, q, doc.clone(), want))
    .collect());
}

#[test]
fn not_and_not_equals_are_must_not_so_a_missing_field_satisfies_them() {
    let empty = json!({"event": {"action": "CreateTrustAnchor"}});
    run(vec![
        case(
            MUST_NOT,
            r#"any where not stringContains(aws.cloudtrail.request_parameters, "sourceType=AWS_ACM_PCA")"#,
            empty.clone(),
            true,
        ),
        case(
            MUST_NOT,
            r#"any where not source.address == "backup.amazonaws.com""#,
            empty.clone(),
            true,
        ),
        case(
            MUST_NOT,
            r#"any where not (user_agent.original == "x" and source.address == "y")"#,
            empty.clone(),
            true,
        ),
        case(
            MUST_NOT,
            r#"any where source.address != "backup.amazonaws.com""#,
            empty.clone(),
            true,
        ),
        case(
            MUST_NOT,
            r#"any where event.action != "CreateTrustAnchor""#,
            empty.clone(),
            false,
        ),
        case(
            MUST_NOT,
            r#"any where event.action not in ("x", "y")"#,
            empty.clone(),
            true,
        ),
        case(
            "Optimizer.ReplaceNullChecks: `f == null` is not-exists",
            "any where source.address == null",
            empty.clone(),
            true,
        ),
        case(
            "Optimizer.ReplaceNullChecks: `f != null` is exists",
            "any where event.action != null",
            empty.clone(),
            true,
        ),
        case(
            "Optimizer.ReplaceNullChecks: `f != null` is exists",
            "any where source.address != null",
            empty,
            false,
        ),
    ]);
}

#[test]
fn event_category_is_an_exact_term_on_event_category() {
    let iam = json!({"event": {"category": ["iam", "configuration"]}});
    run(vec![
        case(
            "LogicalPlanBuilder.visitEventFilter: `iam where` = event.category == \"iam\"",
            "iam where true",
            iam.clone(),
            true,
        ),
        case(
            "LogicalPlanBuilder.visitEventFilter: `iam where` = event.category == \"iam\"",
            "IAM where true",
            iam.clone(),
            false,
        ),
        case(
            "LogicalPlanBuilder.visitEventFilter: `iam where` = event.category == \"iam\"",
            "process where true",
            iam,
            false,
        ),
        case(
            "LogicalPlanBuilder.visitEventFilter: `any` adds no constraint",
            "any where true",
            json!({}),
            true,
        ),
    ]);
}

/// Evaluates a whole rule (compiled with its `event_category_override`) on `(doc, expected)` pairs.
fn run_rule(spec: &str, rule: &EqlRule, cases: Vec<(Value, bool)>) {
    let expr = rule.compile().unwrap();
    for (doc, expected) in cases {
        assert_eq!(
            matches(&expr, &JsonDocument(&doc)),
            expected,
            "[{spec}] {} on {doc}",
            rule.path.display()
        );
    }
}

#[test]
fn rds_snapshot_shared_rule_matches_a_shared_snapshot_only() {
    let rule = rule(
        "rds",
        "exfiltration_rds_snapshot_shared_with_another_account.toml",
    );
    assert_eq!(rule.category_field, "event.type");
    let event = |params: &str, event_type: &str| {
        json!({
            "data_stream": {"dataset": "aws.cloudtrail"},
            "event": {"provider": "rds.amazonaws.com", "action": "ModifyDBSnapshotAttribute", "outcome": "success", "type": [event_type]},
            "aws": {"cloudtrail": {"request_parameters": params}}
        })
    };
    let added = "{attributeName=restore, dBSnapshotIdentifier=s1, valuesToAdd=[193672423079]}";
    let removed = "{attributeName=restore, dBSnapshotIdentifier=s1, valuesToRemove=[193672423079]}";
    run_rule(
        CONTAINS,
        &rule,
        vec![
            (event(added, "info"), true),
            (event(removed, "info"), false),
            // `info where` with event_category_override = "event.type" tests event.type.
            (event(added, "change"), false),
        ],
    );
}

#[test]
fn ransom_note_rule_uses_a_case_insensitive_lucene_regexp() {
    let rule = rule(
        "aws-eql",
        "impact_s3_bucket_object_uploaded_with_ransom_keyword.toml",
    );
    let event = |arn: &str, identity: &str| {
        json!({
            "event": {"category": ["file"], "provider": "s3.amazonaws.com", "action": "PutObject", "outcome": "success"},
            "data_stream": {"dataset": "aws.cloudtrail"},
            "aws": {"cloudtrail": {"resources": [{"arn": "arn:aws:s3:::bucket", "type": "AWS::S3::Bucket"}, {"arn": arn, "type": "AWS::S3::Object"}],
                                   "user_identity": {"type": identity}}}
        })
    };
    run_rule(
        "regex~ is a regexp query with case_insensitive (ql ExpressionTranslators.Likes); resources[] is flattened",
        &rule,
        vec![
            (event("arn:aws:s3:::bucket/HOW_TO_DECRYPT.txt", "IAMUser"), true),
            (event("arn:aws:s3:::bucket/HOW_TO_DECRYPT.txt", "AWSService"), false),
            (event("arn:aws:s3:::bucket/AWSLogs/restore.json", "IAMUser"), false),
            (event("arn:aws:s3:::bucket/photo.jpg", "IAMUser"), false),
        ],
    );
}

#[test]
fn string_contains_with_a_field_compares_plain_text() {
    let spec = "stringContains(field, field) is a script: Java String.contains over all value pairs (InternalEqlScriptUtils.multiValueDocValues)";
    let doc = |params: &str| json!({"aws": {"cloudtrail": {"request_parameters": params, "recipient_account_id": "111122223333"}}});
    let q = "any where not stringContains(aws.cloudtrail.request_parameters, aws.cloudtrail.recipient_account_id)";
    run(vec![
        case(
            spec,
            q,
            doc("{Principal={AWS=arn:aws:iam::111122223333:root}}"),
            false,
        ),
        case(
            spec,
            q,
            doc("{Principal={AWS=arn:aws:iam::999988887777:root}}"),
            true,
        ),
    ]);
}

#[test]
fn unsupported_constructs_say_why() {
    for (q, word) in [
        ("any where length(f) > 3", "length"),
        ("any where a == b", "fields"),
        ("any where ?f == 1", "optional"),
        ("any where f + 1 == 2", "arithmetic"),
        ("any where f regex \"a&b\"", "intersection"),
        ("any where true | tail 3", "tail"),
    ] {
        match eql::parse(q) {
            Err(QueryError {
                kind: ErrorKind::Unsupported,
                message: reason,
                ..
            }) => assert!(reason.contains(word), "{q}: {reason}"),
            other => panic!("{q}: {other:?}"),
        }
    }
}

#[test]
fn syntax_errors_point_at_the_offending_bytes() {
    for (q, span) in [
        ("any where f == ", 15..15),
        ("any where f == 'x'", 15..16),
        (r#"any where f == "a\qb""#, 17..19),
        // Unclosed: the caret goes where `)` was expected, `opened_at` to the `(`.
        ("any where stringContains(f, \"x\"", 31..31),
    ] {
        match eql::parse(q) {
            Err(QueryError {
                kind: ErrorKind::Syntax,
                span: got,
                ..
            }) => assert_eq!(got, span, "{q}"),
            other => panic!("{q}: {other:?}"),
        }
    }
}

/// Elastic's own pipeline output for a real ModifyDBInstance record
/// (`elastic/pipeline/test-modify-db-instance-json.log-expected.json`), plus the data-stream
/// constant that the index, not the pipeline, adds (elastic-semantics.md §4 table, first row).
fn pipeline_modify_db_instance() -> Value {
    let path = Path::new(RULES).join("../pipeline/test-modify-db-instance-json.log-expected.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut doc = file["expected"][0].clone();
    doc["data_stream"] = json!({"dataset": "aws.cloudtrail"});
    doc
}

#[test]
fn rds_rules_on_elastics_own_pipeline_output() {
    let doc = pipeline_modify_db_instance();
    // Its request_parameters string is `{..., publiclyAccessible=true}`; deletion protection and
    // the master password are not in the request.
    run_rule(
        CONTAINS,
        &rule("rds", "persistence_rds_instance_made_public.toml"),
        vec![(doc.clone(), true)],
    );
    for file in [
        "impact_rds_instance_cluster_deletion_protection_disabled.toml",
        "persistence_rds_db_instance_password_modified.toml",
        "impact_rds_snapshot_deleted.toml",
        "exfiltration_rds_snapshot_shared_with_another_account.toml",
    ] {
        run_rule(CONTAINS, &rule("rds", file), vec![(doc.clone(), false)]);
    }
}
