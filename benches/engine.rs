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
    let expr = match trailwatch::query::kql::parse(query) {
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

/// The cost per enriched alert: what reading `user_agent.name` and the `source.as.*` /
/// `source.geo.*` fields adds to a view (nothing is parsed or looked up unless read). GeoIP
/// lookups only when `GEOIP_ASN_DB` / `GEOIP_CITY_DB` are set (scripts/test-geoip.sh).
fn enrichment_benches(c: &mut Criterion) {
    use trailwatch::ecs::{parse_user_agent, Enrichment, ViewOptions};
    let record: serde_json::Value = serde_json::from_str(RECORD).unwrap_or_default();
    let agent = record["userAgent"].as_str().unwrap_or_default().to_string();
    // The first parse compiles each regex it tries: the once-per-process cost.
    let start = std::time::Instant::now();
    let first = parse_user_agent(&agent).map(|ua| ua.name.clone());
    eprintln!(
        "enrichment: first user-agent parse (compiles the regexes it tries) {:?} -> {first:?}",
        start.elapsed()
    );
    let mut n = 0u64;
    c.bench_function("user_agent_parse_uncached", |b| {
        b.iter(|| {
            // A distinct string each time: the per-process cache never answers.
            n += 1;
            parse_user_agent(black_box(&format!("{agent} md/n#{n}"))).map(|u| u.name.len())
        })
    });
    c.bench_function("user_agent_name_cached", |b| {
        b.iter(|| {
            CloudTrailView::new(&record).any_value(black_box("user_agent.name"), &mut |_| true)
        })
    });
    let path = |k: &str| {
        std::env::var_os(k)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    };
    let (Some(asn), Some(city)) = (path("GEOIP_ASN_DB"), path("GEOIP_CITY_DB")) else {
        return eprintln!("enrichment: GEOIP_ASN_DB / GEOIP_CITY_DB unset, geo benches skipped");
    };
    let Ok(enrichment) = Enrichment::open(Some(&asn), Some(&city)) else {
        return eprintln!("enrichment: GeoIP databases do not open, geo benches skipped");
    };
    // An address the MaxMind test databases know (216.160.83.56: AS209, Milton, US).
    let mut geo_record = record.clone();
    geo_record["sourceIPAddress"] = serde_json::json!("216.160.83.56");
    c.bench_function("enriched_alert_fields", |b| {
        b.iter(|| {
            let view =
                CloudTrailView::with_enrichment(&geo_record, ViewOptions::default(), &enrichment);
            let mut hits = 0;
            for p in [
                "user_agent.name",
                "source.as.number",
                "source.as.organization.name",
                "source.geo.country_iso_code",
                "source.geo.city_name",
            ] {
                hits += usize::from(view.any_value(black_box(p), &mut |_| true));
            }
            hits
        })
    });
}

/// Issue 16's two questions. (a) Does configuring the GeoIP databases slow the stateless path
/// when no candidate rule reads an enrichment field? 1,000 failed StartExportTask records (the
/// export rule is a candidate, evaluates, and does not match) through the detector, without and
/// with the databases: enrichment is lazy, so the two must be equal. (b) What does one alert
/// cost with the enrichment (user agent, ASN and City lookups on the alert's fields) against one
/// without the databases?
fn enrichment_cost_benches(c: &mut Criterion) {
    use trailwatch::alert::Alert;
    use trailwatch::ecs::{Enrichment, ViewOptions};
    use trailwatch::sink::Discard;
    use trailwatch::Detector;
    let path = |k: &str| {
        std::env::var_os(k)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    };
    let (Some(asn), Some(city)) = (path("GEOIP_ASN_DB"), path("GEOIP_CITY_DB")) else {
        return eprintln!("enrichment cost: GEOIP_ASN_DB / GEOIP_CITY_DB unset, skipped");
    };
    let Ok(enrichment) = Enrichment::open(Some(&asn), Some(&city)) else {
        return eprintln!("enrichment cost: GeoIP databases do not open, skipped");
    };
    let enrichment = std::sync::Arc::new(enrichment);
    // A known address of the test databases (AS209, Milton, US) and a failed call.
    let mut failed: serde_json::Value = serde_json::from_str(RECORD).unwrap_or_default();
    failed["sourceIPAddress"] = serde_json::json!("216.160.83.56");
    failed["errorCode"] = serde_json::json!("AccessDenied");
    let object = format!(
        "{{\"Records\":[{}]}}",
        vec![failed.to_string(); 1000].join(",")
    );
    let plain = Detector::new(RuleSet::embedded());
    let mut with_db = Detector::new(RuleSet::embedded());
    with_db.enrichment = std::sync::Arc::clone(&enrichment);
    let mut group = c.benchmark_group("stateless_no_enrichment_rule");
    group.throughput(criterion::Throughput::Elements(1000));
    for (name, detector) in [("without_databases", &plain), ("with_databases", &with_db)] {
        group.bench_function(name, |b| {
            let mut candidates = Vec::new();
            b.iter(|| {
                let mut sink = Discard::default();
                let mut records = trailwatch::reader::open(black_box(object.as_bytes()));
                while let Some(Ok(record)) = records.next_record() {
                    let _ = detector.detect_record(&record, &mut candidates, &mut sink);
                }
                sink.alerts
            })
        });
    }
    group.finish();

    let mut hit: serde_json::Value = serde_json::from_str(RECORD).unwrap_or_default();
    hit["sourceIPAddress"] = serde_json::json!("216.160.83.56");
    let Some(rule) = plain.rules.get("119c8877-8613-416d-a98a-96b6664ee73a") else {
        return eprintln!("enrichment cost: the snapshot export rule is not compiled in");
    };
    let mut group = c.benchmark_group("alert");
    group.bench_function("without_databases", |b| {
        b.iter(|| {
            let view = CloudTrailView::new(black_box(&hit));
            Alert::new(&rule.rule, &view, &hit).fields().len()
        })
    });
    group.bench_function("enriched", |b| {
        b.iter(|| {
            let view = CloudTrailView::with_enrichment(
                black_box(&hit),
                ViewOptions::default(),
                &enrichment,
            );
            Alert::new(&rule.rule, &view, &hit).fields().len()
        })
    });
    group.finish();
}

criterion_group!(
    engine_benches,
    benches,
    enrichment_benches,
    enrichment_cost_benches
);
criterion_main!(engine_benches);
