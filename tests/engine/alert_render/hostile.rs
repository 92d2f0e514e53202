//! Hostile input: injection into Slack and email, secrets, and sizes past the SNS limit.
use serde_json::{json, Value as Json};
use trailwatch::alert::{self, key, Alert, SNS_MAX_BYTES};

use super::{alert_for, project_rule, synthetic};

const SLACK_PAYLOAD: &str =
    "<!channel> <!here> <@U123> <http://evil.example|click me> *bold* _it_ ~strike~ `code` @everyone & done";
const EMAIL_PAYLOAD: &str = "x\r\nBcc: victim@example.com\r\n\r\nFAKE LINE\n\u{2028}Subject: y";

/// A StartExportTask record where everything an attacker controls is hostile.
fn hostile_record() -> Json {
    let mut r = synthetic(0);
    r["userAgent"] = json!(format!("{SLACK_PAYLOAD} {EMAIL_PAYLOAD}"));
    let issuer = &mut r["userIdentity"]["sessionContext"]["sessionIssuer"];
    issuer["userName"] = json!(format!("<!channel>*admin*{EMAIL_PAYLOAD}"));
    r["userIdentity"]["arn"] = json!("arn:aws:sts::111122223333:assumed-role/<@U999>/x|y>");
    r["requestParameters"]["s3BucketName"] = json!(SLACK_PAYLOAD);
    r["requestParameters"]["exportTaskIdentifier"] = json!(EMAIL_PAYLOAD);
    r["requestParameters"]["<!channel>"] = json!("<http://evil.example|key injection>");
    r
}

fn hostile_alert() -> Alert {
    alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &hostile_record(),
    )
}

/// The text outside inline code spans, after removing the links we put there ourselves.
fn outside_code(line: &str, our_links: &[String]) -> String {
    let mut line = line.to_string();
    for l in our_links {
        line = line.replace(l.as_str(), "");
    }
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

#[test]
fn chatbot_description_confines_attacker_text_to_code_spans() {
    let a = hostile_alert();
    let c = alert::chatbot(&a);
    let description = c["content"]["description"].as_str().expect("description");
    let our_links: Vec<String> = description
        .split('<')
        .skip(1)
        .filter_map(|s| s.split_once('>').map(|(inner, _)| format!("<{inner}>")))
        .filter(|l| l.starts_with("<https://us-east-1.console.aws.amazon.com/"))
        .collect();
    assert_eq!(our_links.len(), 2, "{description}");
    for line in description.lines() {
        // An odd number of backticks would leave a span open and attacker text outside it.
        assert_eq!(line.matches('`').count() % 2, 0, "{line}");
        let outside = outside_code(line, &our_links);
        for bad in [
            "<", ">", "evil", "channel", "U123", "U999", "bold", "click", "Bcc", "FAKE",
        ] {
            assert!(!outside.contains(bad), "{bad:?} outside code in {line:?}");
        }
        for span in line.split('`').skip(1).step_by(2) {
            assert!(!span.contains('<') && !span.contains('>'), "{span:?}");
        }
    }
    assert!(description.contains("&lt;!channel&gt;"));
}

#[test]
fn chatbot_plain_fields_carry_no_slack_syntax() {
    let c = alert::chatbot(&hostile_alert());
    let mut plain: Vec<String> = vec![
        c["content"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        c["metadata"]["summary"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        c["metadata"]["eventType"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        c["metadata"]["threadId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    ];
    for list in [
        &c["content"]["keywords"],
        &c["metadata"]["relatedResources"],
    ] {
        plain.extend(
            list.as_array()
                .expect("list")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
    }
    plain.extend(
        c["metadata"]["additionalContext"]
            .as_object()
            .expect("object")
            .values()
            .filter_map(|v| v.as_str().map(str::to_string)),
    );
    assert!(plain.iter().any(|s| s.contains("&lt;")), "{plain:?}");
    for s in &plain {
        for bad in ['<', '>', '*', '`', '~', '\n', '\r'] {
            assert!(!s.contains(bad), "{bad:?} in {s:?}");
        }
    }
    // The hostile identity ARN is not a plain ARN: it is not offered as a related resource.
    let related = c["metadata"]["relatedResources"].as_array().expect("list");
    assert!(related
        .iter()
        .all(|r| r.as_str().is_some_and(|s| !s.contains("U999"))));
}

#[test]
fn email_subject_is_one_line_and_body_lines_cannot_be_forged() {
    let a = hostile_alert();
    let subject = alert::subject(&a);
    assert!(subject.chars().count() <= alert::SUBJECT_MAX_CHARS);
    assert!(
        !subject.chars().any(|c| c.is_control() || c == '\u{2028}'),
        "{subject:?}"
    );
    let sns = alert::sns_message(&a);
    assert_eq!(sns.subject, subject);
    let body = alert::body(&a);
    for line in body.lines() {
        assert!(
            !line.starts_with("Bcc:") && !line.starts_with("FAKE") && !line.starts_with("Subject:"),
            "{line:?}"
        );
        assert!(
            !line.contains('\r') && !line.contains('\u{2028}'),
            "{line:?}"
        );
    }
    for (name, value) in &sns.attributes {
        assert!(
            !value.is_empty() && !value.chars().any(char::is_control),
            "{name}={value:?}"
        );
    }
}

#[test]
fn secrets_are_redacted_in_every_rendering() {
    let mut r = synthetic(3); // ModifyDBInstance with a hidden masterUserPassword
    let params = &mut r["requestParameters"];
    params["masterUserPassword"] = json!("Sup3r-S3cret-pw!");
    params["newMasterUserPassword"] = json!("An0ther-S3cret!");
    params["authConfig"] =
        json!({"clientSecret": "nested-s3cret-value", "tokens": ["tok-abc-123", "tok-def-456"]});
    params["sshPrivateKey"] = json!("-----BEGIN KEY-----MIIEsecret");
    params["secretArn"] =
        json!("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-pass-AbCdEf");
    let a = alert_for(&project_rule("exfiltration_rds_snapshot_export.toml"), &r);
    let sns = alert::sns_message(&a);
    let renderings = [
        alert::json(&a),
        alert::body(&a),
        alert::chatbot(&a).to_string(),
        sns.message.clone(),
        sns.subject.clone(),
        format!("{:?}", sns.attributes),
    ];
    for text in &renderings {
        for secret in [
            "Sup3r-S3cret-pw!",
            "An0ther-S3cret!",
            "nested-s3cret-value",
            "tok-abc-123",
            "tok-def-456",
            "MIIEsecret",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    // The string form and the email both show that something was there.
    assert!(a
        .get_str(key::REQUEST_PARAMETERS)
        .is_some_and(|s| s.contains("masterUserPassword=[REDACTED]")));
    assert!(
        renderings[1].contains("masterUserPassword: [REDACTED]"),
        "{}",
        renderings[1]
    );
    // Identifiers of secrets are kept: investigators need them.
    assert!(renderings[1].contains("secretArn: arn:aws:secretsmanager:"));
}

fn assert_fits(a: &Alert) -> alert::SnsMessage {
    let sns = alert::sns_message(a);
    assert!(sns.size() <= SNS_MAX_BYTES, "size {}", sns.size());
    let attr_bytes: usize = sns
        .attributes
        .iter()
        .map(|(k, v)| k.len() + v.len() + alert::ATTRIBUTE_TYPE.len())
        .sum();
    assert_eq!(
        sns.size(),
        sns.subject.len() + sns.message.len() + attr_bytes
    );
    assert_eq!(sns.attributes.len(), 6, "{:?}", sns.attributes);
    let m: Json = serde_json::from_str(&sns.message).expect("message is JSON");
    for k in ["default", "email", "https"] {
        assert!(m[k].is_string(), "{k}");
    }
    let default: serde_json::Map<String, Json> =
        serde_json::from_str(m["default"].as_str().unwrap_or_default())
            .expect("default is the alert JSON");
    assert_eq!(
        default.get(key::UUID).and_then(Json::as_str),
        Some(a.uuid())
    );
    let chatbot: Json = serde_json::from_str(m["https"].as_str().unwrap_or_default())
        .expect("https is Chatbot JSON");
    assert_eq!(chatbot["version"], "1.0");
    sns
}

#[test]
fn normal_alert_is_not_shortened() {
    let a = alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &synthetic(0),
    );
    let sns = assert_fits(&a);
    assert!(!sns.message.contains("shortened to fit"));
    let m: Json = serde_json::from_str(&sns.message).expect("json");
    assert!(m["email"]
        .as_str()
        .is_some_and(|e| e.contains("Conduct a post-incident review")));
}

#[test]
fn huge_guide_is_shortened_visibly_in_every_rendering() {
    let mut rule = project_rule("exfiltration_rds_snapshot_export.toml");
    let line = "- Check the snapshot é ü 漢字 🙂 and every related export task in every region.\n";
    rule.note = Some(line.repeat(8_000)); // ~700 KB, multi-byte characters throughout
    let a = alert_for(&rule, &synthetic(0));
    let sns = assert_fits(&a);
    assert!(
        sns.size() > SNS_MAX_BYTES - 4_096,
        "shortened far more than needed: {}",
        sns.size()
    );
    let notice = format!(
        "[guide shortened to fit the SNS size limit — see rule {}]",
        a.rule_id()
    );
    let m: Json = serde_json::from_str(&sns.message).expect("json");
    let default: Json =
        serde_json::from_str(m["default"].as_str().unwrap_or_default()).expect("json");
    let note = default[key::NOTE].as_str().expect("note");
    assert!(
        note.ends_with(&notice),
        "{}",
        &note[note.len().saturating_sub(200)..]
    );
    // Whole lines of the original were kept.
    let kept = note.trim_end_matches(&notice).trim_end();
    assert!(rule.note.as_deref().is_some_and(|n| n.starts_with(kept)) && kept.ends_with("region."));
    assert!(m["email"].as_str().is_some_and(|e| e.contains(&notice)));
    assert!(
        m["email"]
            .as_str()
            .is_some_and(|e| e.contains("Links\n-----")),
        "the rest of the email is kept"
    );
}

#[test]
fn huge_request_parameters_are_shortened_and_never_fail() {
    let mut r = synthetic(0);
    let params = r["requestParameters"].as_object_mut().expect("object");
    for i in 0..6_000 {
        params.insert(
            format!("tag{i:05}"),
            json!(format!("value-{i}-ü漢-{}", "x".repeat(40))),
        );
    }
    params.insert("giant".into(), json!("€".repeat(200_000)));
    let mut rule = project_rule("exfiltration_rds_snapshot_export.toml");
    rule.note = Some(rule.note.unwrap_or_default().repeat(20));
    let a = alert_for(&rule, &r);
    let sns = assert_fits(&a);
    let m: Json = serde_json::from_str(&sns.message).expect("json");
    let default: Json =
        serde_json::from_str(m["default"].as_str().unwrap_or_default()).expect("json");
    assert!(default[key::NOTE]
        .as_str()
        .is_some_and(|n| n.contains("[guide shortened to fit the SNS size limit")));
    assert!(default["trailwatch.truncated"].is_string());
    assert_eq!(default[key::RULE_ID], a.rule_id());
}

#[test]
fn huge_user_agent_alone_still_fits() {
    let mut r = synthetic(0);
    r["userAgent"] = json!("\u{1F600}".repeat(300_000));
    let sns = assert_fits(&alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &r,
    ));
    assert!(sns.subject.chars().count() <= alert::SUBJECT_MAX_CHARS);
}

/// A small deterministic generator (xorshift) of strings made of the fragments that matter to
/// Slack, email and JSON, so the invariants are checked on many combinations, not one payload.
fn hostile_strings(seed: u64, count: usize) -> Vec<String> {
    const FRAGMENTS: [&str; 24] = [
        "<",
        ">",
        "&",
        "`",
        "*",
        "_",
        "~",
        "|",
        "\n",
        "\r",
        "\t",
        "\u{2028}",
        "\u{202e}",
        "<!channel>",
        "<@U1>",
        "<http://x|y>",
        "@here",
        "\"",
        "\\",
        "é",
        "🙂",
        "a",
        " ",
        "arn:aws:iam::1:role/x",
    ];
    let mut state = seed.max(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = (next() % 12) as usize;
            (0..len)
                .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[test]
fn random_hostile_values_keep_every_invariant() {
    let rule = project_rule("exfiltration_rds_snapshot_export.toml");
    let values = hostile_strings(0x5eed, 5 * 60);
    for chunk in values.chunks(5) {
        let mut r = synthetic(0);
        r["userAgent"] = json!(chunk[0]);
        r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] = json!(chunk[1]);
        r["userIdentity"]["arn"] = json!(chunk[2]);
        r["requestParameters"]["s3BucketName"] = json!(chunk[3]);
        r["requestParameters"][chunk[4].as_str()] = json!(chunk[0]);
        let a = alert_for(&rule, &r);

        let subject = alert::subject(&a);
        assert!(
            subject.chars().count() <= alert::SUBJECT_MAX_CHARS,
            "{subject:?}"
        );
        assert!(
            !subject.chars().any(|c| c.is_control() || c == '\u{2028}'),
            "{subject:?}"
        );

        let c = alert::chatbot(&a);
        let description = c["content"]["description"].as_str().unwrap_or_default();
        for line in description.lines() {
            assert_eq!(line.matches('`').count() % 2, 0, "{line:?}");
            for span in line.split('`').skip(1).step_by(2) {
                assert!(!span.contains('<') && !span.contains('>'), "{span:?}");
            }
            // Outside code, the only Slack tokens are our console links.
            let outside: String = line.split('`').step_by(2).collect();
            for token in outside.split('<').skip(1) {
                assert!(
                    token.starts_with("https://us-east-1.console.aws.amazon.com/"),
                    "{line:?}"
                );
            }
        }
        let title = c["content"]["title"].as_str().unwrap_or_default();
        let summary = c["metadata"]["summary"].as_str().unwrap_or_default();
        for s in [title, summary] {
            assert!(!s.contains(['<', '>', '*', '`', '~', '\n']), "{s:?}");
        }

        for line in alert::body(&a).lines() {
            assert!(!line.contains(['\r', '\u{2028}', '\u{202e}']), "{line:?}");
        }
        let sns = alert::sns_message(&a);
        assert!(sns.size() <= SNS_MAX_BYTES);
        let m: Json = serde_json::from_str(&sns.message).expect("message is JSON");
        assert!(m["default"]
            .as_str()
            .is_some_and(|d| serde_json::from_str::<Json>(d).is_ok()));
    }
}
