#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The RDS attack techniques that Elastic, Panther, SigmaHQ and TrailAlerts detect between them
//! (the table in docs/rules.md), each tried on the default build: the compiled-in rules and
//! exceptions, through the detector and the publishing policy, exactly as the Lambda function
//! would. Every attack record must raise a published (non-building-block) alert from the rule
//! named for its technique, and every benign twin (the failed call, the harmless variant) must
//! raise none from that rule.
//!
//! The records are the project's own fixtures under `tests/fixtures/rules/<rule file stem>/`,
//! whose README says why each verdict is right.
use std::collections::BTreeSet;
use std::path::Path;

use trailwatch::alert::Alert;
use trailwatch::detect::{FloodControl, Policy};
use trailwatch::ecs::user_agent_available;
use trailwatch::rules::RuleOrigin;
use trailwatch::sink::{AlertSink, Collector};
use trailwatch::{Config, Detector, RuleSet};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rules");

/// One technique: the rule (file stem in `rules/`) that must report it, its attack records and
/// its benign twins (fixture file names in that rule's directory).
struct Technique {
    name: &'static str,
    rule: &'static str,
    attacks: &'static [&'static str],
    twins: &'static [&'static str],
}

const fn t(
    name: &'static str,
    rule: &'static str,
    attacks: &'static [&'static str],
    twins: &'static [&'static str],
) -> Technique {
    Technique {
        name,
        rule,
        attacks,
        twins,
    }
}

const RESTORED: &str = "defense_evasion_rds_instance_restored";
const EXPORT: &str = "exfiltration_rds_snapshot_export";
const SHARED: &str = "exfiltration_rds_snapshot_shared_with_another_account";
const DELETED: &str = "impact_rds_instance_cluster_deletion";
const PROTECTION: &str = "impact_rds_instance_cluster_deletion_protection_disabled";
const SNAPSHOT_DELETED: &str = "impact_rds_snapshot_deleted";
const CREATED: &str = "persistence_rds_cluster_creation";
const PASSWORD: &str = "persistence_rds_db_instance_password_modified";
const INSTANCE_PUBLIC: &str = "persistence_rds_instance_made_public";
const CLUSTER_PUBLIC: &str = "persistence_rds_cluster_restore_or_replica_made_public";
const ACTIVITY_STREAM: &str = "defense_evasion_rds_activity_stream_stopped";
const AUTOMATED_BACKUP: &str = "impact_rds_automated_backup_deleted";
const ROLE_ADDED: &str = "persistence_rds_iam_role_added";
const LOG_DOWNLOAD: &str = "credential_access_rds_log_file_downloaded";
const CROSS_REGION: &str = "exfiltration_rds_snapshot_copied_to_another_region";
const DB_SG_OPEN: &str = "defense_evasion_rds_db_security_group_opened_to_internet";
const FAILOVER: &str = "impact_rds_cluster_failover";

/// The 28 techniques of docs/rules.md ("RDS coverage against peers"), in its order.
const TECHNIQUES: &[Technique] = &[
    t(
        "DB instance restored from a snapshot",
        RESTORED,
        &["fire-restore-from-db-snapshot.json"],
        &["nofire-restore-from-db-snapshot-access-denied.json"],
    ),
    t(
        "DB instance restored from S3 backup files",
        RESTORED,
        &["fire-restore-from-s3.json"],
        &["nofire-restore-from-db-snapshot-access-denied.json"],
    ),
    t(
        "Snapshot exported to S3",
        EXPORT,
        &["fire-start-export-task.json"],
        &[
            "nofire-start-export-task-iam-role-not-found.json",
            "nofire-cancel-export-task.json",
        ],
    ),
    t(
        "DB snapshot shared with another account",
        SHARED,
        &["fire-share-db-snapshot-with-account.json"],
        &["nofire-unshare-values-to-remove.json"],
    ),
    t(
        "DB snapshot made public",
        SHARED,
        &["fire-share-db-snapshot-public-all.json"],
        &["nofire-unshare-values-to-remove.json"],
    ),
    t(
        "DB cluster snapshot shared",
        SHARED,
        &["fire-share-db-cluster-snapshot.json"],
        &["nofire-share-encrypted-default-key-failed.json"],
    ),
    t(
        "DB instance deleted",
        DELETED,
        &["fire-delete-db-instance-skip-final-snapshot.json"],
        &[
            "nofire-delete-db-instance-invalid-state.json",
            "nofire-delete-db-instance-deletion-protection.json",
        ],
    ),
    t(
        "DB cluster deleted",
        DELETED,
        &["fire-delete-db-cluster.json"],
        &["nofire-delete-db-subnet-group.json"],
    ),
    t(
        "Global database deleted",
        DELETED,
        &["fire-delete-global-cluster.json"],
        &["nofire-delete-db-instance-automated-backup.json"],
    ),
    t(
        "Deletion protection disabled (instance or cluster)",
        PROTECTION,
        &[
            "fire-modify-db-instance-deletion-protection-false.json",
            "fire-modify-db-cluster-deletion-protection-false.json",
        ],
        &[
            "nofire-modify-db-instance-deletion-protection-true.json",
            "nofire-modify-db-instance-access-denied.json",
        ],
    ),
    t(
        "DB snapshot deleted",
        SNAPSHOT_DELETED,
        &["fire-delete-db-snapshot.json"],
        &[
            "nofire-delete-db-snapshot-not-found.json",
            "nofire-delete-db-snapshot-by-aws-backup.json",
        ],
    ),
    t(
        "DB cluster snapshot deleted",
        SNAPSHOT_DELETED,
        &["fire-delete-db-cluster-snapshot.json"],
        &["nofire-delete-db-snapshot-not-found.json"],
    ),
    t(
        "Automated backups disabled (backup retention set to 0)",
        SNAPSHOT_DELETED,
        &["fire-modify-db-instance-backup-retention-zero.json"],
        &["nofire-modify-db-instance-backup-retention-ten.json"],
    ),
    t(
        "DB cluster created",
        CREATED,
        &["fire-create-db-cluster.json"],
        &["nofire-create-db-cluster-access-denied.json"],
    ),
    t(
        "Global database created",
        CREATED,
        &["fire-create-global-cluster.json"],
        &["nofire-create-db-cluster-snapshot.json"],
    ),
    t(
        "Master user password reset (instance or cluster)",
        PASSWORD,
        &[
            "fire-modify-db-instance-master-password.json",
            "fire-modify-db-cluster-master-password.json",
        ],
        &[
            "nofire-modify-db-instance-password-access-denied.json",
            "nofire-modify-db-instance-manage-master-user-password.json",
        ],
    ),
    t(
        "DB instance made public",
        INSTANCE_PUBLIC,
        &["fire-modify-db-instance-publicly-accessible.json"],
        &[
            "nofire-modify-db-instance-publicly-accessible-false.json",
            "nofire-modify-db-instance-public-access-denied.json",
        ],
    ),
    t(
        "DB instance or cluster created public",
        INSTANCE_PUBLIC,
        &[
            "fire-create-db-instance-publicly-accessible.json",
            "fire-create-db-cluster-publicly-accessible.json",
        ],
        &["nofire-modify-db-instance-public-access-denied.json"],
    ),
    t(
        "DB cluster made public",
        CLUSTER_PUBLIC,
        &["fire-modify-db-cluster-publicly-accessible.json"],
        &[
            "nofire-modify-db-cluster-publicly-accessible-false.json",
            "nofire-modify-db-cluster-public-access-denied.json",
        ],
    ),
    t(
        "Database activity stream stopped",
        ACTIVITY_STREAM,
        &["fire-stop-activity-stream.json"],
        &[
            "nofire-stop-activity-stream-access-denied.json",
            "nofire-start-activity-stream.json",
        ],
    ),
    t(
        "DB instance automated backups deleted",
        AUTOMATED_BACKUP,
        &["fire-delete-db-instance-automated-backup.json"],
        &[
            "nofire-delete-db-instance-automated-backup-invalid-state.json",
            "nofire-describe-db-instance-automated-backups.json",
        ],
    ),
    t(
        "DB cluster automated backups deleted",
        AUTOMATED_BACKUP,
        &["fire-delete-db-cluster-automated-backup.json"],
        &["nofire-delete-db-instance-automated-backup-invalid-state.json"],
    ),
    t(
        "IAM role added to a DB instance",
        ROLE_ADDED,
        &["fire-add-role-to-db-instance.json"],
        &[
            "nofire-remove-role-from-db-instance.json",
            "nofire-add-role-to-db-instance-access-denied.json",
        ],
    ),
    t(
        "IAM role added to a DB cluster",
        ROLE_ADDED,
        &["fire-add-role-to-db-cluster.json"],
        &["nofire-remove-role-from-db-instance.json"],
    ),
    t(
        "Database log files downloaded",
        LOG_DOWNLOAD,
        &[
            "fire-download-db-log-file-portion.json",
            "fire-download-complete-db-log-file.json",
        ],
        &[
            "nofire-describe-db-log-files.json",
            "nofire-download-db-log-file-portion-access-denied.json",
        ],
    ),
    t(
        "Snapshot copied to another region",
        CROSS_REGION,
        &[
            "fire-copy-db-snapshot-from-other-region.json",
            "fire-copy-db-cluster-snapshot-from-other-region.json",
            "fire-copy-db-snapshot-presigned-no-source-region.json",
        ],
        &[
            "nofire-copy-db-snapshot-same-region-arn.json",
            "nofire-copy-db-snapshot-same-region-name.json",
            "nofire-copy-db-snapshot-from-other-region-failed.json",
        ],
    ),
    t(
        "DB security group opened to the internet",
        DB_SG_OPEN,
        &[
            "fire-authorize-db-security-group-ingress-anywhere.json",
            "fire-authorize-db-security-group-ingress-ipv6-anywhere.json",
        ],
        &[
            "nofire-authorize-db-security-group-ingress-private.json",
            "nofire-authorize-db-security-group-ingress-anywhere-failed.json",
            "nofire-revoke-db-security-group-ingress-anywhere.json",
        ],
    ),
    t(
        "DB cluster or global database failover",
        FAILOVER,
        &[
            "fire-failover-db-cluster.json",
            "fire-failover-global-cluster.json",
        ],
        &[
            "nofire-failover-db-cluster-invalid-state.json",
            "nofire-describe-global-clusters.json",
        ],
    ),
];

/// Variants beyond the 28 that the project's rules also report (Sigma's and Panther's public
/// restore rules, which the peers count inside "restored" or not at all).
const BEYOND: &[Technique] = &[t(
    "Database restored or replicated with a public endpoint",
    CLUSTER_PUBLIC,
    &[
        "fire-restore-to-point-in-time-public.json",
        "fire-create-read-replica-public.json",
    ],
    &["nofire-modify-db-instance-publicly-accessible.json"],
)];

fn load(rule: &str, file: &str) -> Result<serde_json::Value, String> {
    let path = Path::new(FIXTURES).join(rule).join(file);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The alerts the default build publishes for one record.
fn published(detector: &Detector, record: &serde_json::Value) -> Vec<Alert> {
    let mut sink = FloodControl::new(Policy::publishing(&Config::default()), Collector::default());
    detector.detect_value(record, &mut sink).expect("detect");
    sink.end_object().expect("end");
    sink.into_inner().alerts
}

/// The rule_ids of the alerts the default build publishes for one record.
fn published_rule_ids(detector: &Detector, record: &serde_json::Value) -> BTreeSet<String> {
    published(detector, record)
        .iter()
        .map(|a| a.rule_id().to_owned())
        .collect()
}

/// Runs every technique of `table`; returns how many were detected and the failures.
fn run(table: &[Technique]) -> Result<(usize, Vec<String>), String> {
    let set = RuleSet::embedded();
    let rule_ids: Vec<(String, String)> = set
        .rules()
        .iter()
        .filter(|r| r.origin == RuleOrigin::Project)
        .map(|r| {
            (
                r.file.trim_end_matches(".toml").to_owned(),
                r.rule.rule_id.clone(),
            )
        })
        .collect();
    let detector = Detector::from_config(set, &Config::default()).map_err(|e| e.to_string())?;
    let mut detected = 0;
    let mut failures = Vec::new();
    for technique in table {
        let Some((_, rule_id)) = rule_ids.iter().find(|(stem, _)| stem == technique.rule) else {
            failures.push(format!(
                "{}: rules/{}.toml is not compiled in (or is skipped)",
                technique.name, technique.rule
            ));
            continue;
        };
        let mut ok = !technique.attacks.is_empty() && !technique.twins.is_empty();
        for file in technique.attacks {
            let alerts = published(&detector, &load(technique.rule, file)?);
            let ids: BTreeSet<&str> = alerts.iter().map(Alert::rule_id).collect();
            // The responder's "which tool?": the parsed user agent is on the alert (issue 16).
            let agent_named = alerts
                .iter()
                .filter(|a| a.rule_id() == rule_id)
                .all(|a| a.get_str("user_agent.name").is_some_and(|n| !n.is_empty()));
            if user_agent_available() && !agent_named {
                ok = false;
                failures.push(format!(
                    "{}: attack {}/{file}: alert without user_agent.name",
                    technique.name, technique.rule
                ));
            }
            if !ids.contains(rule_id.as_str()) {
                ok = false;
                failures.push(format!(
                    "{}: attack {}/{file} raised no published alert from its rule (published: {ids:?})",
                    technique.name, technique.rule
                ));
            }
        }
        for file in technique.twins {
            if published_rule_ids(&detector, &load(technique.rule, file)?).contains(rule_id) {
                ok = false;
                failures.push(format!(
                    "{}: benign twin {}/{file} raised an alert from the same rule",
                    technique.name, technique.rule
                ));
            }
        }
        if ok {
            detected += 1;
        }
    }
    Ok((detected, failures))
}

#[test]
fn the_default_build_detects_all_28_rds_techniques_and_no_benign_twin() -> Result<(), String> {
    // CI builds with uap-core's regexes; without them alerts cannot carry user_agent.name.
    assert!(
        user_agent_available() || std::env::var_os("CI").is_none(),
        "CI must build with uap-core's regexes.yaml (UAP_REGEXES)"
    );
    let names: BTreeSet<&str> = TECHNIQUES.iter().map(|t| t.name).collect();
    assert_eq!(names.len(), 28, "the table lists 28 distinct techniques");
    let (detected, failures) = run(TECHNIQUES)?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(detected, 28, "techniques detected by the default build");
    Ok(())
}

#[test]
fn the_default_build_detects_the_variants_beyond_the_28() -> Result<(), String> {
    let (detected, failures) = run(BEYOND)?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(detected, BEYOND.len());
    Ok(())
}

#[test]
fn every_new_rds_rule_is_in_the_technique_table() {
    // A rule added to rules/ for an RDS technique without a row here would escape the check.
    let set = RuleSet::embedded();
    let tabled: BTreeSet<&str> = TECHNIQUES.iter().map(|t| t.rule).collect();
    let missing: Vec<&str> = set
        .rules()
        .iter()
        .filter(|r| r.origin == RuleOrigin::Project && !r.rule.is_building_block())
        // RDS rules only: the self-defence and other services' rules have their own tests.
        .filter(|r| {
            r.rule
                .tags
                .iter()
                .any(|t| t == "Data Source: Amazon RDS" || t == "Data Source: AWS RDS")
        })
        .map(|r| r.file.trim_end_matches(".toml"))
        .filter(|stem| !tabled.contains(stem))
        .collect();
    assert!(
        missing.is_empty(),
        "published project rules without a technique row: {missing:?}"
    );
}
