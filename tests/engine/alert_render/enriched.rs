//! The enrichment and the account's name in every rendering: an alert built through the view
//! with test ASN and City databases (`tests/common/mmdb.rs`) and a static account name, as the
//! function builds it with `GEOIP_ASN_DB`, `GEOIP_CITY_DB` and `ACCOUNT_NAMES_JSON`.
use serde_json::{json, Value as Json};
use trailwatch::accounts::AccountNames;
use trailwatch::alert::{self, Alert};
use trailwatch::ecs::{CloudTrailView, Enrichment, ViewOptions};

use super::{golden_all, mmdb, project_rule, synthetic};

fn enrichment() -> Enrichment {
    Enrichment::open(
        Some(&mmdb::test_asn_database()),
        Some(&mmdb::test_city_database()),
    )
    .expect("test databases open")
}

/// The snapshot export from 203.0.113.7 (AS9009, Amsterdam) by an AWS CLI on Linux, in an
/// account named by the static mapping; `org` replaces the AS organisation when given.
fn enriched_alert(names_json: &str, record_edit: impl FnOnce(&mut Json)) -> Alert {
    let mut record = synthetic(0);
    record["sourceIPAddress"] = json!("203.0.113.7");
    record["userAgent"] = json!("aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off command/rds.start-export-task");
    record_edit(&mut record);
    let enrichment = enrichment();
    let view = CloudTrailView::with_enrichment(&record, ViewOptions::default(), &enrichment);
    let rule = project_rule("exfiltration_rds_snapshot_export.toml");
    let mut alert = Alert::new(&rule, &view, &record);
    AccountNames::from_json("ACCOUNT_NAMES_JSON", names_json)
        .expect("mapping")
        .apply(&mut alert);
    alert
}

#[test]
fn golden_enriched_alert_with_account_name() {
    let alert = enriched_alert(r#"{"111122223333": "prod-data"}"#, |_| {});
    assert_eq!(alert.get("source.as.number"), Some(&json!(9009)));
    assert_eq!(alert.get_str("source.geo.city_name"), Some("Amsterdam"));
    assert_eq!(alert.get_str("user_agent.name"), Some("aws-cli"));
    assert_eq!(alert.get_str("cloud.account.name"), Some("prod-data"));
    let body = alert::body(&alert);
    for line in [
        "Where:      account 111122223333 (prod-data), region us-east-1",
        "Network:    AS9009 M247 Europe SRL",
        "Location:   Amsterdam, Netherlands (NL)",
        "Client:     aws-cli 2.15.30",
    ] {
        assert!(body.contains(line), "{line:?} in\n{body}");
    }
    assert!(alert::subject(&alert).ends_with(" in prod-data/us-east-1"));
    golden_all("enriched", &alert);
}

#[test]
fn an_alert_without_enrichment_or_name_shows_no_such_lines() {
    let alert = super::alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &synthetic(0),
    );
    let body = alert::body(&alert);
    for label in ["Network:", "Location:", "(prod-data)"] {
        assert!(!body.contains(label), "{label} in\n{body}");
    }
    let slack = alert::chatbot(&alert).to_string();
    assert!(!slack.contains("*Network*") && !slack.contains("account_name"));
}

#[test]
fn enrichment_and_account_names_are_escaped_like_any_untrusted_value() {
    // An account name is set by whoever administers the organisation, an AS organisation by a
    // database file, a client by the attacker's user agent: none may inject into Slack or email.
    let hostile = "<!channel> *x*\r\nBcc: victim@example.com";
    let names = serde_json::to_string(&json!({ "111122223333": hostile })).expect("json");
    let alert = enriched_alert(&names, |r| {
        r["userAgent"] = json!("<!here>/1.0 (Windows NT 10.0)\r\nX-Injected: 1");
    });
    let body = alert::body(&alert);
    assert!(
        !body.contains("\r\nBcc:") && !body.contains("\nBcc:"),
        "{body}"
    );
    assert!(body.contains("\\r\\nBcc:"), "{body}");
    let subject = alert::subject(&alert);
    assert!(
        !subject.contains('\r') && !subject.contains('\n'),
        "{subject}"
    );
    let slack = alert::chatbot(&alert).to_string();
    assert!(
        !slack.contains("<!channel>") && !slack.contains("<!here>"),
        "{slack}"
    );
    assert!(slack.contains("&lt;!channel&gt;"), "{slack}");
    let sns = alert::sns_message(&alert);
    let name_attr = sns
        .attributes
        .iter()
        .find(|(k, _)| k == "account_name")
        .map(|(_, v)| v.as_str());
    assert!(
        name_attr.is_some_and(|v| !v.contains('\n')),
        "{name_attr:?}"
    );
}
