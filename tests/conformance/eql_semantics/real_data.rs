//! Every single-event AWS EQL rule over the 2,900 real CloudTrail records of the Stratus Red Team
//! detonation (`datasets/invictus-aws`, elastic-semantics.md §6), seen through the ECS view.
use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use trailwatch::ecs::CloudTrailView;
use trailwatch::engine::matches;

use super::{eql_rules, RULES};

fn records() -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::from(RULES).join("../../datasets/invictus-aws/CloudTrail")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let mut text = String::new();
            if path.extension().is_some_and(|e| e == "gz") {
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut text)
                    .unwrap();
            } else {
                text = String::from_utf8(bytes).unwrap();
            }
            let file: serde_json::Value = serde_json::from_str(&text).unwrap();
            out.extend(file["Records"].as_array().unwrap().iter().cloned());
        }
    }
    out
}

#[test]
fn stratus_detonation_fires_exactly_the_techniques_it_performed() {
    let records = records();
    assert_eq!(records.len(), 2900);
    let rules: Vec<_> = eql_rules("aws-eql")
        .into_iter()
        .filter_map(|r| {
            Some((
                r.path.file_stem()?.to_string_lossy().into_owned(),
                r.compile().ok()?,
            ))
        })
        .collect();
    assert_eq!(rules.len(), 26);
    let mut hits = BTreeSet::new();
    for record in &records {
        let view = CloudTrailView::new(record);
        for (name, expr) in &rules {
            if matches(expr, &view) {
                hits.insert(format!(
                    "{name} <- {}",
                    record["eventName"].as_str().unwrap()
                ));
            }
        }
    }
    // Stratus Red Team techniques and their clean-up steps. Seven of these are `info where`
    // rules that test `event.type` (their event_category_override); read as `event.category`
    // they would never fire.
    let expected: BTreeSet<String> = [
        "defense_evasion_s3_bucket_lifecycle_expiration_added <- PutBucketLifecycle",
        "exfiltration_ec2_ebs_snapshot_shared_with_another_account <- ModifySnapshotAttribute",
        "exfiltration_rds_snapshot_shared_with_another_account <- ModifyDBSnapshotAttribute",
        "exfiltration_s3_bucket_policy_added_for_external_account_access <- PutBucketPolicy",
        "impact_ec2_ebs_snapshot_access_removed <- ModifySnapshotAttribute",
        "impact_rds_snapshot_deleted <- DeleteDBSnapshot",
        "persistence_iam_roles_anywhere_trusted_anchor_created_with_external_ca <- CreateTrustAnchor",
        "persistence_lambda_backdoor_invoke_function_for_any_principal <- AddPermission20150331v2",
        "privilege_escalation_iam_administratoraccess_policy_attached_to_role <- AttachRolePolicy",
        "privilege_escalation_iam_administratoraccess_policy_attached_to_user <- AttachUserPolicy",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(hits, expected);
}
