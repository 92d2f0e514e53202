//! Hostile CloudTrail objects end to end: bytes → `scan_collect` → the SNS publish every
//! subscriber gets. Attacker text (user agent, parameters, identity) cannot make Slack mentions,
//! links or formatting, nor extra email header lines; secret-looking parameters CloudTrail did not
//! redact never leave in any rendering. (Renderer-level cases live with the alert module's tests.)
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::robust;

use robust::{export_record, gzip, object, DETECTOR, EXPORT_RULE};
use serde_json::{json, Value};
use trailwatch::alert::{self, Alert};
use trailwatch::scan_collect;

const SLACK: [&str; 6] = [
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<http://evil.example|click>",
    "*bold*",
    "`tick`",
];
const EMAIL: &str = "ua\r\nBcc: victim@example.com\r\nX-Evil: 1\n\nFAKE BODY";
const SECRETS: [&str; 5] = [
    "Hunter2-master-pw",
    "s3cr3t-client-value",
    "tok-123-abc",
    "priv-key-material",
    "4242424242",
];

/// A StartExportTask record where everything the caller controls is hostile, with secrets in
/// parameters CloudTrail did not hide.
fn hostile_object() -> Vec<u8> {
    let mut r = export_record(1);
    let slack = SLACK.join(" ");
    r["userAgent"] = json!(format!("{slack} {EMAIL}"));
    r["userIdentity"]["arn"] = json!(format!(
        "arn:aws:sts::111122223333:assumed-role/<@U123>/{EMAIL}"
    ));
    r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] = json!(slack);
    let p = &mut r["requestParameters"];
    p["exportTaskIdentifier"] = json!(EMAIL);
    p["s3Prefix"] = json!(slack);
    p["<!channel>"] = json!("<http://evil.example|key>");
    p["masterUserPassword"] = json!(SECRETS[0]);
    p["auth"] = json!({"clientSecret": SECRETS[1], "sessionTokens": [SECRETS[2]]});
    p["sshPrivateKey"] = json!(SECRETS[3]);
    p["apiKey"] = json!(4242424242u64);
    gzip(&object(&[r]))
}

fn hostile_alert() -> Alert {
    let report = scan_collect("hostile.json.gz", &hostile_object()[..], &DETECTOR);
    assert!(!report.failed(), "{report:?}");
    let mut alerts: Vec<Alert> = report
        .alerts
        .into_iter()
        .filter(|a| a.rule_id() == EXPORT_RULE)
        .collect();
    assert_eq!(alerts.len(), 1, "the hostile record must still alert");
    alerts.remove(0)
}

/// The per-protocol messages of the SNS publish (`MessageStructure=json`).
fn protocols(a: &Alert) -> (alert::SnsMessage, Value) {
    let sns = alert::sns_message(a);
    let messages: Value = serde_json::from_str(&sns.message).expect("message structure JSON");
    (sns, messages)
}

#[test]
fn slack_tokens_from_the_event_stay_inert_in_the_chatbot_message() {
    let (_, messages) = protocols(&hostile_alert());
    let chatbot: Value = serde_json::from_str(messages["https"].as_str().expect("https message"))
        .expect("chatbot JSON");
    let mut texts = Vec::new();
    collect_strings(&chatbot, &mut texts);
    assert!(
        texts.iter().any(|t| t.contains("&lt;!channel&gt;")),
        "the value is shown, escaped"
    );
    for text in &texts {
        for token in ["<!", "<@", "<http://evil", "|click>"] {
            assert!(!text.contains(token), "{token:?} in {text:?}");
        }
        // Our own links are the only `<...>` allowed, and they point to the AWS console.
        for link in text.split('<').skip(1) {
            assert!(
                link.starts_with("https://us-east-1.console.aws.amazon.com/"),
                "{link:?}"
            );
        }
    }
    let description = chatbot["content"]["description"]
        .as_str()
        .expect("description");
    for line in description.lines() {
        assert_eq!(
            line.matches('`').count() % 2,
            0,
            "open code span in {line:?}"
        );
        let outside: String = line.split('`').step_by(2).collect();
        assert!(
            !outside.contains("bold") && !outside.contains("Bcc"),
            "{line:?}"
        );
    }
    let title = chatbot["content"]["title"].as_str().expect("title");
    assert!(!title.contains('*') && !title.contains('`'), "{title}");
}

#[test]
fn crlf_in_the_event_cannot_add_email_header_lines() {
    let (sns, messages) = protocols(&hostile_alert());
    assert!(!sns.subject.contains(['\r', '\n']), "{:?}", sns.subject);
    assert_eq!(sns.subject, alert::subject(&hostile_alert()));
    let email = messages["email"].as_str().expect("email message");
    assert!(email.contains("Bcc"), "the value is shown");
    for line in email.lines() {
        assert!(!line.contains('\r'), "{line:?}");
        for header in ["Bcc:", "X-Evil:", "FAKE BODY"] {
            assert!(!line.trim_start().starts_with(header), "{line:?}");
        }
    }
    for (name, value) in &sns.attributes {
        assert!(!value.contains(['\r', '\n']), "{name}={value:?}");
    }
}

#[test]
fn unredacted_secrets_in_the_object_never_leave_in_any_rendering() {
    let a = hostile_alert();
    let (sns, messages) = protocols(&a);
    let mut renderings = vec![
        sns.message.clone(),
        sns.subject.clone(),
        format!("{:?}", sns.attributes),
        alert::json(&a),
        alert::body(&a),
        alert::chatbot(&a).to_string(),
    ];
    for protocol in ["default", "email", "https"] {
        renderings.push(
            messages[protocol]
                .as_str()
                .expect("protocol message")
                .to_owned(),
        );
    }
    for text in &renderings {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    let default: Value = serde_json::from_str(&renderings[6]).expect("alert JSON");
    let params = default["aws.cloudtrail.request_parameters"]
        .as_str()
        .unwrap_or_default();
    assert!(params.contains("masterUserPassword=[REDACTED]"), "{params}");
    assert!(renderings[4].contains("[REDACTED]"));
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            collect_strings(v, out);
        }),
        _ => {}
    }
}
