//! Micro-benchmarks: KQL match, ECS lookup, the `request_parameters` string, the raw-byte
//! prefilter, splitting an object into records, and record parsing. `make bench` runs them (and `scripts/bench.sh`).
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use trailwatch::ecs::CloudTrailView;
use trailwatch::engine::{self, Document};
use trailwatch::rules::RuleSet;

const RECORD: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLEMALLORY001","arn":"arn:aws:iam::123456789012:user/mallory","accountId":"123456789012","accessKeyId":"ASIAEXAMPLEKEY000001","userName":"mallory"},"eventTime":"2026-11-22T14:03:12Z","eventSource":"rds.amazonaws.com","eventName":"StartExportTask","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/rds.start-export-task","requestParameters":{"exportTaskIdentifier":"orders-exfil","sourceArn":"arn:aws:rds:us-east-1:123456789012:cluster-snapshot:orders-prod-2026-11-22","s3BucketName":"mallory-drop-bucket","iamRoleArn":"arn:aws:iam::123456789012:role/rds-s3-export","kmsKeyId":"arn:aws:kms:us-east-1:123456789012:key/0b5c4f1e-0000-4000-8000-000000000001"},"responseElements":{"exportTaskIdentifier":"orders-exfil","status":"STARTING","percentProgress":0},"requestID":"5f1e2d3c-0000-4000-8000-000000000001","eventID":"5f1e2d3c-0000-4000-8000-000000000002","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"rds.us-east-1.amazonaws.com"}}"#;

fn benches(c: &mut Criterion) {
    let record: serde_json::Value = serde_json::from_str(RECORD).unwrap_or_default();
    let query = r#"event.dataset:aws.cloudtrail and event.provider:rds.amazonaws.com
        and event.action:(StartExportTask or CreateDBCluster) and event.outcome:success"#;
    let expr = match trailwatch::kql::parse(query) {
        Ok(e) => e,
        Err(e) => return eprintln!("bad query: {e}"),
    };
    c.bench_function("kql_match", |b| {
        b.iter(|| engine::matches(black_box(&expr), &CloudTrailView::new(&record)))
    });
    c.bench_function("ecs_lookup_user_name", |b| {
        b.iter(|| CloudTrailView::new(&record).any_value(black_box("user.name"), &mut |_| true))
    });
    c.bench_function("request_parameters_string", |b| {
        b.iter(|| {
            CloudTrailView::new(&record)
                .any_value("aws.cloudtrail.request_parameters", &mut |_| true)
        })
    });
    c.bench_function("parse_record", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(RECORD.as_bytes())))
    });
    let set = RuleSet::embedded();
    let mut candidates = Vec::new();
    c.bench_function("prefilter_record", |b| {
        b.iter(|| {
            set.candidates(black_box(RECORD.as_bytes()), &mut candidates);
            candidates.len()
        })
    });
    // 1,000 records in one plain-JSON object: split (64-byte block walk, head read on the way)
    // and dispatched, as `trailwatch scan` does before parsing anything.
    let object = format!("{{\"Records\":[{}]}}", vec![RECORD; 1000].join(","));
    let mut group = c.benchmark_group("split");
    group.throughput(criterion::Throughput::Bytes(object.len() as u64));
    group.bench_function("split_and_dispatch_1000_records", |b| {
        b.iter(|| {
            let mut records = trailwatch::reader::open(black_box(object.as_bytes()));
            let mut n = 0;
            while let Some(Ok(record)) = records.next_record() {
                set.candidates_for_record(&record, &mut candidates);
                n += candidates.len();
            }
            n
        })
    });
    group.finish();
    c.bench_function("all_rules_one_record", |b| {
        b.iter(|| set.matches(black_box(&record)).len())
    });
    c.bench_function("ruleset_compile", |b| b.iter(RuleSet::embedded));
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
