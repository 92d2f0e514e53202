//! The stateful parameters of a rule, checked and converted once at compile time: what
//! [`crate::state`] needs to evaluate `new_terms` and `threshold` rules and alert suppression.
use super::model::{AlertSuppressionSpec, Rule};

/// What a compiled rule needs beyond matching one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatefulSpec {
    /// New terms or threshold; `None` for a query/EQL rule that only has suppression.
    pub kind: Option<StatefulKind>,
    /// `[rule.alert_suppression]`.
    pub suppression: Option<Suppression>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatefulKind {
    /// Alert on the first event of a term (`fields`' values) in `history_ms`.
    NewTerms {
        fields: Vec<String>,
        history_ms: i64,
    },
    /// Alert when a group (`fields`' values) reaches `value` events (and `cardinality`: at least
    /// that many distinct values of a field) within `window_ms`.
    Threshold {
        fields: Vec<String>,
        value: u64,
        cardinality: Option<(String, u64)>,
        window_ms: i64,
    },
}

/// How events lacking a `group_by` field are suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingFields {
    /// A missing field is one more value: such events are grouped together.
    Suppress,
    /// Events lacking a field are never suppressed.
    DoNotSuppress,
}

/// Alert suppression: after an alert of a group, alerts of the same rule and group within
/// `duration_ms` are counted, not raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub group_by: Vec<String>,
    pub duration_ms: i64,
    pub missing: MissingFields,
}

/// Elastic's default rule interval and look-back (`interval = "5m"`, `from = "now-6m"`).
const DEFAULT_INTERVAL_MS: i64 = 5 * 60_000;
const DEFAULT_FROM_MS: i64 = 6 * 60_000;

/// `"5m"`, `"10d"` → milliseconds (units s, m, h, d).
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms).filter(|&ms| ms > 0)
}

/// `"now-6m"` → 6 minutes in milliseconds.
pub fn parse_date_math(text: &str) -> Option<i64> {
    parse_duration(text.trim().strip_prefix("now-")?)
}

impl Suppression {
    /// From `[rule.alert_suppression]`; `interval` is the rule's `interval` (Elastic's default
    /// duration when the rule gives none: one rule run).
    pub fn from_spec(spec: &AlertSuppressionSpec, interval: Option<&str>) -> Result<Self, String> {
        let duration_ms = match &spec.duration {
            Some(d) => parse_duration(&format!("{}{}", d.value, d.unit))
                .ok_or_else(|| format!("alert_suppression duration {}{}", d.value, d.unit))?,
            None => interval
                .and_then(parse_duration)
                .unwrap_or(DEFAULT_INTERVAL_MS),
        };
        let missing = match spec.missing_fields_strategy.as_deref() {
            None | Some("suppress") => MissingFields::Suppress,
            Some("doNotSuppress") => MissingFields::DoNotSuppress,
            Some(other) => return Err(format!("missing_fields_strategy {other:?}")),
        };
        Ok(Suppression {
            group_by: spec.group_by.clone(),
            duration_ms,
            missing,
        })
    }
}

impl StatefulSpec {
    /// The stateful parameters of `rule`, `Ok(None)` for a plain single-event rule, or what is
    /// wrong with them.
    pub fn of(rule: &Rule) -> Result<Option<StatefulSpec>, String> {
        let kind = match rule.rule_type.as_str() {
            "new_terms" => {
                let spec = rule
                    .new_terms
                    .as_ref()
                    .ok_or("new_terms rule without [rule.new_terms]")?;
                if spec.value.is_empty() || spec.value.len() > 3 {
                    return Err(format!(
                        "new_terms needs 1 to 3 fields, has {}",
                        spec.value.len()
                    ));
                }
                let window = spec
                    .history_window_start
                    .first()
                    .ok_or("new_terms without history_window_start")?;
                let history_ms = parse_date_math(&window.value)
                    .ok_or_else(|| format!("history_window_start {:?}", window.value))?;
                Some(StatefulKind::NewTerms {
                    fields: spec.value.clone(),
                    history_ms,
                })
            }
            "threshold" => {
                let spec = rule
                    .threshold
                    .as_ref()
                    .ok_or("threshold rule without [rule.threshold]")?;
                if spec.cardinality.len() > 1 {
                    return Err("threshold with more than one cardinality field".into());
                }
                let window_ms = match &rule.from {
                    Some(from) => parse_date_math(from).ok_or_else(|| format!("from {from:?}"))?,
                    None => DEFAULT_FROM_MS,
                };
                Some(StatefulKind::Threshold {
                    fields: spec
                        .field
                        .iter()
                        .filter(|f| !f.is_empty())
                        .cloned()
                        .collect(),
                    value: spec.value.max(1),
                    cardinality: spec.cardinality.first().map(|c| (c.field.clone(), c.value)),
                    window_ms,
                })
            }
            _ => None,
        };
        let interval = rule.extra.get("interval").and_then(|v| v.as_str());
        let suppression = rule
            .alert_suppression
            .as_ref()
            .map(|s| Suppression::from_spec(s, interval))
            .transpose()?;
        Ok((kind.is_some() || suppression.is_some()).then_some(StatefulSpec { kind, suppression }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_and_date_math() {
        assert_eq!(parse_date_math("now-6m"), Some(360_000));
        assert_eq!(parse_date_math("now-10d"), Some(864_000_000));
        assert_eq!(parse_duration("1h"), Some(3_600_000));
        assert_eq!(parse_duration("30s"), Some(30_000));
        for bad in ["now-", "6m", "now-6y", "now--6m", "now-0m"] {
            assert_eq!(parse_date_math(bad), None, "{bad}");
        }
    }
}
