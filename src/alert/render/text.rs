//! Email: a one-line subject and a plain-text body a person can act on without opening anything
//! else — what happened, who/when/where/from, the request, console links, the triage guide.
use serde_json::Value as Json;

use super::markdown;
use crate::alert::context;
use crate::alert::fields::flatten_for_display;
use crate::alert::links;
use crate::alert::model::{key, Alert};
use crate::alert::self_target;
use crate::alert::text::{ascii_line, single_line, truncate_ascii, truncate_chars};
use crate::rules::Threat;

/// SNS `Publish` `Subject`: "no line breaks or control characters, and less than 100
/// characters long" (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>).
pub const SUBJECT_MAX_CHARS: usize = 99;

/// `[HIGH] AWS RDS Snapshot Export by <actor> in <account>/<region>`, at most 99 characters of
/// printable ASCII (a longer subject ends in `...`), never empty. ASCII because Publish's
/// documented subject constraint has been ASCII and a rejected publish loses the alert after its
/// retries: actor names are transliterated (`é` → `e`) or replaced by `?`.
pub fn subject(alert: &Alert) -> String {
    // An attack on the detector itself must stand out in an inbox full of the same rule's alerts.
    let itself = match self_target::notice(alert) {
        Some(_) => "Targets trailwatch itself: ",
        None => "",
    };
    let mut s = format!(
        "[{}] {itself}{}",
        alert.severity().to_uppercase(),
        alert.rule_name()
    );
    match suppressed(alert) {
        Some(n) => s.push_str(&format!(": {n} more alerts")),
        None => s.push_str(&format!(" by {}", truncate_chars(alert.actor(), 40))),
    }
    if let (Some(account), Some(region)) = (alert.get_str(key::ACCOUNT), alert.get_str(key::REGION))
    {
        // The account's name, when known, says more at a glance than its id (which the body has).
        let account = match context::account_name(alert) {
            Some(name) => truncate_chars(name, 32),
            None => account.to_owned(),
        };
        s.push_str(&format!(" in {account}/{region}"));
    }
    // Line breaks and other hazards become spaces here: a subject has no room for escapes.
    let s = truncate_ascii(ascii_line(&s).trim(), SUBJECT_MAX_CHARS);
    if s.is_empty() {
        return "trailwatch alert".to_string();
    }
    s
}

/// The flood-control count of a summary alert.
fn suppressed(alert: &Alert) -> Option<u64> {
    alert.get(key::SUPPRESSION_COUNT).and_then(Json::as_u64)
}

/// The plain-text body.
pub fn body(alert: &Alert) -> String {
    let mut out = String::new();
    let line = |out: &mut String, s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    let heading = |out: &mut String, s: &str| {
        out.push('\n');
        out.push_str(s);
        out.push('\n');
        out.push_str(&"-".repeat(s.chars().count()));
        out.push('\n');
    };
    let v = |k: &str| alert.get_str(k).map(single_line);

    if let Some(notice) = self_target::notice(alert) {
        line(&mut out, &single_line(&notice));
        out.push('\n');
    }
    line(
        &mut out,
        &format!(
            "{} — {} severity (risk score {})",
            alert.rule_name(),
            alert.severity(),
            alert
                .get(key::RISK_SCORE)
                .map(|r| r.to_string())
                .unwrap_or_default()
        ),
    );
    out.push('\n');
    line(&mut out, &what_happened(alert));

    heading(&mut out, "Details");
    let mut details: Vec<(&str, String)> = Vec::new();
    match suppressed(alert) {
        Some(_) => {
            let actors: Vec<String> = alert
                .get_strs(key::SUPPRESSED_ACTORS)
                .into_iter()
                .map(single_line)
                .collect();
            details.push(("Actors", actors.join(", ")));
            let actions: Vec<String> = alert
                .get_strs(key::SUPPRESSED_ACTIONS)
                .into_iter()
                .map(single_line)
                .collect();
            details.push(("Actions", actions.join(", ")));
            if let (Some(a), Some(b)) = (v(key::SUPPRESSION_START), v(key::SUPPRESSION_END)) {
                details.push(("When", format!("{a} to {b}")));
            }
        }
        None => {
            let mut who = single_line(alert.actor());
            if let Some(arn) = v(key::IDENTITY_ARN).filter(|a| *a != who) {
                who.push_str(&format!(" ({arn})"));
            }
            if let Some(t) = v(key::IDENTITY_TYPE) {
                who.push_str(&format!(", {t}"));
            }
            details.push(("Who", who));
            let mut what = [v(key::PROVIDER), v(key::ACTION)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(o) = v(key::OUTCOME) {
                what.push_str(&format!(" ({o})"));
            }
            details.push(("What", what));
            details.extend(v(key::TIMESTAMP).map(|t| ("When", t)));
        }
    }
    let account = v(key::ACCOUNT).map(|id| match context::account_name(alert) {
        Some(name) => format!("{id} ({})", single_line(name)),
        None => id,
    });
    let where_ = match (account, v(key::REGION)) {
        (Some(a), Some(r)) => format!("account {a}, region {r}"),
        (Some(a), None) => format!("account {a}"),
        (None, Some(r)) => format!("region {r}"),
        (None, None) => String::new(),
    };
    details.push(("Where", where_));
    details.extend(
        v(key::SOURCE_ADDRESS)
            .or_else(|| v(key::SOURCE_IP))
            .map(|s| ("From", s)),
    );
    // What the enrichment knows of the source and the client (absent without it).
    details.extend(context::network(alert).map(|s| ("Network", single_line(&s))));
    details.extend(context::location(alert).map(|s| ("Location", single_line(&s))));
    details.extend(context::client(alert).map(|s| ("Client", single_line(&s))));
    details.extend(v(key::USER_AGENT).map(|s| ("User agent", s)));
    if let Some(code) = v(key::ERROR_CODE) {
        let msg = v(key::ERROR_MESSAGE)
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        details.push(("Error", format!("{code}{msg}")));
    }
    details.extend(v(key::EVENT_ID).map(|s| ("Event id", s)));
    for (label, value) in details.into_iter().filter(|(_, v)| !v.is_empty()) {
        line(&mut out, &format!("{:<11} {value}", format!("{label}:")));
    }

    if let Some(params) = alert.request_parameters().filter(|p| !p.is_empty()) {
        heading(&mut out, "Request parameters");
        for (k, val) in flatten_for_display(params) {
            line(
                &mut out,
                &format!("{}: {}", single_line(&k), single_line(&val)),
            );
        }
    }

    let links: Vec<(&str, String)> = [
        ("CloudTrail event", links::cloudtrail_event(alert)),
        ("RDS resource", links::rds_console(alert)),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.map(|u| (label, u)))
    .collect();
    if !links.is_empty() {
        heading(&mut out, "Links");
        for (label, url) in links {
            line(&mut out, &format!("{label}: {url}"));
        }
    }

    if let Some(d) = alert.get_str(key::DESCRIPTION).filter(|d| !d.is_empty()) {
        heading(&mut out, "Rule description");
        line(&mut out, d.trim());
    }
    if let Some(note) = alert.note().filter(|n| !n.trim().is_empty()) {
        heading(&mut out, "Triage guide");
        line(&mut out, &markdown::to_plain_text(note));
    }
    let threats: Vec<Threat> = alert
        .get(key::THREAT)
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    if !threats.is_empty() {
        heading(&mut out, "MITRE ATT&CK");
        for t in &threats {
            line(
                &mut out,
                &mitre_line("Tactic", &t.tactic.name, &t.tactic.id, &t.tactic.reference),
            );
            for tech in &t.technique {
                line(
                    &mut out,
                    &mitre_line("Technique", &tech.name, &tech.id, &tech.reference),
                );
                for sub in &tech.subtechnique {
                    line(
                        &mut out,
                        &mitre_line("Sub-technique", &sub.name, &sub.id, &sub.reference),
                    );
                }
            }
        }
    }

    heading(&mut out, "Rule");
    line(&mut out, &format!("Rule id:    {}", alert.rule_id()));
    line(&mut out, &format!("Alert id:   {}", alert.uuid()));
    let references = alert.get_strs(key::REFERENCES);
    if !references.is_empty() {
        line(&mut out, "References:");
        for r in references {
            line(&mut out, &format!("- {}", single_line(r)));
        }
    }
    out
}

fn mitre_line(kind: &str, name: &str, id: &str, reference: &str) -> String {
    format!("{kind}: {name} ({id}) {reference}")
}

/// One sentence: who did what, where, when, and whether it worked.
pub fn what_happened(alert: &Alert) -> String {
    if suppressed(alert).is_some() {
        return single_line(alert.get_str(key::REASON).unwrap_or_default());
    }
    let v = |k: &str| alert.get_str(k).map(single_line);
    let mut s = format!(
        "{} called {}",
        single_line(alert.actor()),
        v(key::ACTION).unwrap_or_else(|| "an API".into())
    );
    if let Some(p) = v(key::PROVIDER) {
        s.push_str(&format!(" on {p}"));
    }
    if let Some(a) = v(key::ACCOUNT) {
        s.push_str(&format!(" in account {a}"));
    }
    if let Some(r) = v(key::REGION) {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(t) = v(key::TIMESTAMP) {
        s.push_str(&format!(" at {t}"));
    }
    match (v(key::ERROR_CODE), v(key::OUTCOME).as_deref()) {
        (Some(code), _) => s.push_str(&format!("; it failed with {code}.")),
        (None, Some("success")) => s.push_str("; it succeeded."),
        _ => s.push('.'),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(actor: &str) -> Alert {
        Alert::from_fields(vec![
            (key::SEVERITY.into(), json!("high")),
            (key::RULE_NAME.into(), json!("AWS RDS Snapshot Export")),
            (key::USER_NAME.into(), json!(actor)),
            (key::ACCOUNT.into(), json!("111122223333")),
            (key::REGION.into(), json!("us-east-1")),
        ])
    }

    #[test]
    fn subject_names_severity_rule_actor_and_place() {
        assert_eq!(
            subject(&alert("DBAdmin")),
            "[HIGH] AWS RDS Snapshot Export by DBAdmin in 111122223333/us-east-1"
        );
    }

    fn assert_publishable(s: &str) {
        assert!(s.is_ascii(), "{s}");
        assert!(
            !s.is_empty() && s.len() <= SUBJECT_MAX_CHARS,
            "{} bytes: {s}",
            s.len()
        );
        assert!(!s.chars().any(|c| c.is_ascii_control()), "{s}");
    }

    #[test]
    fn subject_is_ascii_for_unicode_actors() {
        let s = subject(&alert("Zoë Müller-Łukasz"));
        assert_publishable(&s);
        assert!(s.contains(" by Zoe Muller-Lukasz in "), "{s}");
        // 40 characters of Greek, CJK, emoji and invisible characters: 218 bytes of UTF-8 in a
        // 99-character subject before; now 99 ASCII bytes at most, cut with `...`.
        for actor in [
            "Ωμέγα管理者🙂".repeat(20),
            "\u{200b}\u{202e}\u{e0041}\u{feff}".repeat(30),
            "é".repeat(300),
        ] {
            let s = subject(&alert(&actor));
            assert_publishable(&s);
            assert!(!s.contains('…'), "{s}");
        }
        let mut long = alert("DBAdmin");
        long.set(key::RULE_NAME, json!("Ünïcödé rule ".repeat(20)));
        let s = subject(&long);
        assert_publishable(&s);
        assert!(
            s.starts_with("[HIGH] Unicode rule Unicode rule") && s.ends_with("..."),
            "{s}"
        );
    }

    #[test]
    fn subject_is_one_line_and_at_most_100_chars() {
        let s = subject(&alert(&format!(
            "evil\r\nBcc: x@y.z\u{2028}{}",
            "é".repeat(300)
        )));
        assert!(s.chars().count() <= SUBJECT_MAX_CHARS, "{s}");
        assert!(!s.chars().any(|c| c.is_control() || c == '\u{2028}'), "{s}");
    }
}
