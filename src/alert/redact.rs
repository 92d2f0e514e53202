//! Secrets never leave in an alert: values of request parameters whose names look like
//! passwords, secrets or tokens are replaced, even when CloudTrail did not hide them (it usually
//! writes `HIDDEN_DUE_TO_SECURITY_REASONS`, but not for every API or every service).
use serde_json::Value;

/// What a redacted value is replaced by.
pub const REDACTED: &str = "[REDACTED]";

/// Whether a parameter name looks like it holds a secret: `masterUserPassword`,
/// `newMasterUserPassword`, `*password*`, `*secret*`, `*token*`, `*privatekey*`, ... Names that
/// only *identify* a secret (`secretArn`, `masterUserSecretKmsKeyId`, `secretName`) are kept:
/// they are what an investigator needs and reveal nothing.
pub fn is_secret_name(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    const SECRET: [&str; 8] = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "privatekey",
        "credential",
        "apikey",
    ];
    const IDENTIFIES: [&str; 6] = ["arn", "arns", "id", "ids", "name", "names"];
    SECRET.iter().any(|s| key.contains(s)) && !IDENTIFIES.iter().any(|s| key.ends_with(s))
}

/// Redacts, in place, every string or number under a secret-looking key (at any depth, and
/// everything nested below such a key). Returns the original secret strings, so their other
/// appearances (e.g. in the `request_parameters` Java-map string) can be removed too.
pub fn redact_value(value: &mut Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, false, &mut found);
    found
}

fn walk(value: &mut Value, under_secret: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                walk(v, under_secret || is_secret_name(k), found);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, under_secret, found)),
        Value::String(s) if under_secret => {
            if !s.is_empty() && s != REDACTED {
                found.push(std::mem::take(s));
            }
            *s = REDACTED.to_string();
        }
        Value::Number(n) if under_secret => {
            found.push(n.to_string());
            *value = Value::String(REDACTED.to_string());
        }
        _ => {}
    }
}

/// Replaces every occurrence of each secret in `text`, longest first (so a secret containing
/// another is removed whole).
pub fn redact_text(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in sorted {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_names_are_recognised() {
        for name in [
            "masterUserPassword",
            "newMasterUserPassword",
            "Password",
            "client_secret",
            "authToken",
            "privateKey",
            "sshPrivateKey",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "secretArn",
            "masterUserSecretKmsKeyId",
            "dBInstanceIdentifier",
            "kmsKeyId",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn redacts_nested_values_and_reports_them() {
        let mut v = json!({"a": {"masterUserPassword": "hunter22"}, "tokens": ["t1", 7], "ok": "x",
            "manageMasterUserPassword": true});
        let found = redact_value(&mut v);
        assert_eq!(
            v,
            json!({"a": {"masterUserPassword": REDACTED}, "tokens": [REDACTED, REDACTED], "ok": "x",
                "manageMasterUserPassword": true})
        );
        assert_eq!(found, vec!["hunter22", "t1", "7"]);
    }

    #[test]
    fn redact_text_removes_longest_first() {
        let out = redact_text("{p=abcdef, q=abc}", &["abc".into(), "abcdef".into()]);
        assert_eq!(out, "{p=[REDACTED], q=[REDACTED]}");
    }
}
