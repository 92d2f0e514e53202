//! Slack (and Teams) through AWS Chatbot / Amazon Q Developer in chat applications: a "custom
//! notification" JSON (<https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>).
//! Chatbot silently drops plain-text SNS messages, so the `https` protocol gets this.
//!
//! Every value from the event goes through [`slack_code`] or [`slack_plain`]: Slack gives `<`,
//! `>`, `&` and `<!channel>`-style tokens special meaning, so unescaped attacker text could ping a
//! whole channel or plant a disguised link.
use serde_json::{json, Map, Value as Json};

use crate::alert::context;
use crate::alert::fields::{flatten_for_display, scalar_text};
use crate::alert::links;
use crate::alert::model::{key, uuid_v5, Alert};
use crate::alert::self_target;
use crate::alert::text::{slack_code, slack_escape, slack_plain, truncate_chars};

/// At most this many request parameters are shown in the description (the email has them all).
const MAX_PARAMS: usize = 12;
/// Each step of the guide shown as a next step is cut to this many characters.
const MAX_STEP_CHARS: usize = 400;
const MAX_STEPS: usize = 6;
/// Long attacker values (user agents, parameters) are cut to this many characters.
const MAX_VALUE_CHARS: usize = 200;
/// A flood summary names at most this many actors here (the email names them all).
const MAX_ACTORS: usize = 20;

/// The custom-notification JSON for Chatbot.
pub fn chatbot(alert: &Alert) -> Json {
    let severity = alert.severity().to_uppercase();
    let title = format!(
        "{} [{}] {}",
        emoji(alert.severity()),
        severity,
        slack_plain(alert.rule_name())
    );
    let code = |k: &str| {
        alert
            .get_str(k)
            .map(|s| slack_code(&truncate_chars(s, MAX_VALUE_CHARS)))
    };

    let mut d: Vec<String> = Vec::new();
    if let Some(notice) = self_target::notice(alert) {
        d.push(format!("*{}*", slack_plain(&notice)));
    }
    match alert.get(key::SUPPRESSION_COUNT).and_then(Json::as_u64) {
        Some(n) => {
            let all = alert.get_strs(key::SUPPRESSED_ACTORS);
            let mut actors: Vec<String> = all
                .iter()
                .take(MAX_ACTORS)
                .map(|a| slack_code(&truncate_chars(a, MAX_VALUE_CHARS)))
                .collect();
            if all.len() > MAX_ACTORS {
                actors.push(format!(
                    "… and {} more (see the email)",
                    all.len() - MAX_ACTORS
                ));
            }
            d.push(format!(
                "*{n} more alerts* of this rule in the same CloudTrail object."
            ));
            d.push(format!("*Actors* {}", actors.join(", ")));
        }
        None => {
            let mut what = format!(
                "{} called {}",
                slack_code(&truncate_chars(alert.actor(), MAX_VALUE_CHARS)),
                code(key::ACTION).unwrap_or_default()
            );
            if let Some(p) = code(key::PROVIDER) {
                what.push_str(&format!(" on {p}"));
            }
            d.push(what);
            if let Some(arn) = code(key::IDENTITY_ARN) {
                d.push(format!("*Identity* {arn}"));
            }
            if let Some(t) = code(key::TIMESTAMP) {
                d.push(format!("*When* {t}"));
            }
        }
    }
    let account = code(key::ACCOUNT).map(|id| match context::account_name(alert) {
        Some(name) => format!(
            "{id} ({})",
            slack_code(&truncate_chars(name, MAX_VALUE_CHARS))
        ),
        None => id,
    });
    let place: Vec<String> = [account, code(key::REGION)].into_iter().flatten().collect();
    if !place.is_empty() {
        d.push(format!("*Where* {}", place.join(" / ")));
    }
    if let Some(from) = code(key::SOURCE_ADDRESS).or_else(|| code(key::SOURCE_IP)) {
        d.push(format!("*From* {from}"));
    }
    // What the enrichment knows of the source and the client (absent without it).
    let enriched = [
        ("Network", context::network(alert)),
        ("Location", context::location(alert)),
        ("Client", context::client(alert)),
    ];
    for (label, value) in enriched {
        if let Some(v) = value {
            d.push(format!(
                "*{label}* {}",
                slack_code(&truncate_chars(&v, MAX_VALUE_CHARS))
            ));
        }
    }
    if let Some(ua) = code(key::USER_AGENT) {
        d.push(format!("*User agent* {ua}"));
    }
    if let Some(err) = code(key::ERROR_CODE) {
        d.push(format!("*Error* {err}"));
    }
    if let Some(params) = alert.request_parameters().filter(|p| !p.is_empty()) {
        let flat = flatten_for_display(params);
        let mut shown: Vec<String> = flat
            .iter()
            .take(MAX_PARAMS)
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    slack_code(k),
                    slack_code(&truncate_chars(v, MAX_VALUE_CHARS))
                )
            })
            .collect();
        if flat.len() > MAX_PARAMS {
            shown.push(format!(
                "… and {} more (see the email)",
                flat.len() - MAX_PARAMS
            ));
        }
        d.push(format!("*Request* {}", shown.join(", ")));
    }
    let mut link_line = Vec::new();
    if let Some(url) = links::cloudtrail_event(alert) {
        link_line.push(format!("<{url}|CloudTrail event>"));
    }
    if let Some(url) = links::rds_console(alert) {
        link_line.push(format!("<{url}|RDS console>"));
    }
    if !link_line.is_empty() {
        d.push(link_line.join(" · "));
    }
    d.push(format!(
        "Rule `{}` · alert `{}`",
        slack_escape(alert.rule_id()),
        slack_escape(alert.uuid())
    ));

    let keywords: Vec<String> = [
        Some(alert.severity().to_string()),
        alert.get_str(key::ACTION).map(str::to_string),
        alert.get_str(key::ACCOUNT).map(str::to_string),
        alert.get_str(key::REGION).map(str::to_string),
    ]
    .into_iter()
    .flatten()
    .filter(|k| !k.is_empty())
    .map(|k| slack_plain(&truncate_chars(&k, 60)))
    .collect();

    json!({
        "version": "1.0",
        "source": "custom",
        "id": alert.uuid(),
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": d.join("\n"),
            "nextSteps": next_steps(alert),
            "keywords": keywords,
        },
        "metadata": {
            "threadId": thread_id(alert),
            "summary": slack_plain(&truncate_chars(&summary(alert), 300)),
            "eventType": slack_plain(alert.rule_name()),
            "relatedResources": related_resources(alert),
            "additionalContext": additional_context(alert),
        }
    })
}

fn emoji(severity: &str) -> &'static str {
    match severity {
        "critical" => ":red_circle:",
        "high" => ":large_orange_circle:",
        "medium" => ":large_yellow_circle:",
        _ => ":large_blue_circle:",
    }
}

/// The same rule and actor → the same Slack thread (repeat activity groups together).
pub fn thread_id(alert: &Alert) -> String {
    let name = format!("thread\n{}\n{}", alert.rule_id(), alert.actor());
    uuid_v5(name.as_bytes())
}

fn summary(alert: &Alert) -> String {
    format!("{} by {}", alert.rule_name(), alert.actor())
}

/// The "Possible investigation steps" of the guide (the first list items after a heading that
/// mentions investigation), else the first list items of the guide.
fn next_steps(alert: &Alert) -> Vec<String> {
    let Some(note) = alert.note() else {
        return Vec::new();
    };
    let items = |section_filter: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut in_section = false;
        let mut steps = Vec::new();
        for line in note.lines() {
            let t = line.trim();
            if t.starts_with('#') {
                if in_section && !steps.is_empty() {
                    break;
                }
                in_section = section_filter(&t.to_lowercase());
                continue;
            }
            if in_section {
                if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
                    steps.push(slack_escape(&truncate_chars(item, MAX_STEP_CHARS)));
                    if steps.len() == MAX_STEPS {
                        break;
                    }
                }
            }
        }
        steps
    };
    let steps = items(&|h| h.contains("investigation step"));
    if steps.is_empty() {
        items(&|_| true)
    } else {
        steps
    }
}

/// Whether `s` is an ARN made only of characters ARNs use in practice: nothing Slack or a
/// console link could interpret (no `<>&|`, spaces, backticks or `*~`). Anything else is left
/// out rather than altered, since a changed ARN would name another resource.
fn is_plain_arn(s: &str) -> bool {
    s.starts_with("arn:")
        && s.len() <= 2048
        && s.split(':').count() >= 6
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/_+=.,@-".contains(c))
}

/// ARNs: the identity, the RDS resource, `resources[]`, and ARN-valued request parameters.
fn related_resources(alert: &Alert) -> Vec<String> {
    let mut arns: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if is_plain_arn(s) && !arns.iter().any(|a| a == s) && arns.len() < 10 {
            arns.push(s.to_string());
        }
    };
    alert
        .get_strs(key::IDENTITY_ARN)
        .into_iter()
        .for_each(&mut add);
    if let Some(arn) = links::rds_arn(alert) {
        add(&arn);
    }
    alert
        .get_strs(key::RESOURCE_ARNS)
        .into_iter()
        .for_each(&mut add);
    if let Some(params) = alert.request_parameters() {
        for (_, v) in flatten_for_display(params) {
            add(&v);
        }
    }
    arns
}

fn additional_context(alert: &Alert) -> Map<String, Json> {
    let mut m = Map::new();
    if alert.get(key::SUPPRESSION_COUNT).is_none() {
        let actor = slack_plain(&truncate_chars(alert.actor(), MAX_VALUE_CHARS));
        m.insert("actor".into(), Json::String(actor));
    }
    let fields = [
        ("rule_id", key::RULE_ID),
        ("severity", key::SEVERITY),
        ("risk_score", key::RISK_SCORE),
        ("account_id", key::ACCOUNT),
        ("account_name", key::ACCOUNT_NAME),
        ("region", key::REGION),
        ("action", key::ACTION),
        ("actor_arn", key::IDENTITY_ARN),
        ("source", key::SOURCE_ADDRESS),
        ("source_as", key::AS_NUMBER),
        ("source_country", key::GEO_COUNTRY_ISO),
        ("event_id", key::EVENT_ID),
        ("suppressed_count", key::SUPPRESSION_COUNT),
    ];
    for (name, field) in fields {
        if let Some(v) = alert.get(field).filter(|v| !v.is_array() && !v.is_object()) {
            m.insert(
                name.into(),
                Json::String(slack_plain(&truncate_chars(
                    &scalar_text(v),
                    MAX_VALUE_CHARS,
                ))),
            );
        }
    }
    if let Some(client) = context::client(alert) {
        let client = slack_plain(&truncate_chars(&client, MAX_VALUE_CHARS));
        m.insert("client".into(), Json::String(client));
    }
    m
}
