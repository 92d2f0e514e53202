//! The alert: a flat, ordered list of Elastic alert fields (`kibana.alert.*`) and the event's ECS
//! fields, as in an Elastic Security alert document.
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as Json;

use super::fields;
use super::redact;
use crate::ecs::schema;
use crate::engine::Document;
use crate::rules::Rule;

/// Elastic's alert field names (Kibana `technical_rule_data_field_names` / `alerts-as-data`).
pub mod key {
    pub const UUID: &str = "kibana.alert.uuid";
    pub const ORIGINAL_TIME: &str = "kibana.alert.original_time";
    pub const SEVERITY: &str = "kibana.alert.severity";
    pub const RISK_SCORE: &str = "kibana.alert.risk_score";
    pub const REASON: &str = "kibana.alert.reason";
    pub const RULE_ID: &str = "kibana.alert.rule.rule_id";
    pub const RULE_NAME: &str = "kibana.alert.rule.name";
    pub const RULE_TYPE: &str = "kibana.alert.rule.type";
    pub const DESCRIPTION: &str = "kibana.alert.rule.description";
    pub const BUILDING_BLOCK: &str = "kibana.alert.rule.building_block_type";
    pub const REFERENCES: &str = "kibana.alert.rule.references";
    pub const THREAT: &str = "kibana.alert.rule.threat";
    pub const NOTE: &str = "kibana.alert.rule.note";
    pub const INVESTIGATION_FIELDS: &str = "kibana.alert.rule.investigation_fields.field_names";
    /// Elastic's alert-suppression fields, used for flood-control summaries.
    pub const SUPPRESSION_COUNT: &str = "kibana.alert.suppression.docs_count";
    pub const SUPPRESSION_START: &str = "kibana.alert.suppression.start";
    pub const SUPPRESSION_END: &str = "kibana.alert.suppression.end";
    /// trailwatch's own: the distinct actors of the suppressed alerts.
    pub const SUPPRESSED_ACTORS: &str = "trailwatch.suppressed.actors";
    pub const SUPPRESSED_ACTIONS: &str = "trailwatch.suppressed.actions";

    pub const TIMESTAMP: &str = "@timestamp";
    pub const ACTION: &str = "event.action";
    pub const PROVIDER: &str = "event.provider";
    pub const EVENT_ID: &str = "event.id";
    pub const OUTCOME: &str = "event.outcome";
    pub const ACCOUNT: &str = "cloud.account.id";
    /// The account's name ([`crate::accounts`]): Organizations or a static mapping.
    pub const ACCOUNT_NAME: &str = "cloud.account.name";
    pub const REGION: &str = "cloud.region";
    pub const SOURCE_ADDRESS: &str = "source.address";
    pub const SOURCE_IP: &str = "source.ip";
    pub const USER_AGENT: &str = "user_agent.original";
    /// Enrichment (the user_agent and geoip processors of Elastic's pipeline).
    pub const UA_NAME: &str = "user_agent.name";
    pub const UA_VERSION: &str = "user_agent.version";
    pub const UA_OS_FULL: &str = "user_agent.os.full";
    pub const AS_NUMBER: &str = "source.as.number";
    pub const AS_ORGANIZATION: &str = "source.as.organization.name";
    pub const GEO_COUNTRY_ISO: &str = "source.geo.country_iso_code";
    pub const GEO_COUNTRY_NAME: &str = "source.geo.country_name";
    pub const GEO_CITY: &str = "source.geo.city_name";
    pub const USER_NAME: &str = "user.name";
    pub const IDENTITY_ARN: &str = "aws.cloudtrail.user_identity.arn";
    pub const IDENTITY_TYPE: &str = "aws.cloudtrail.user_identity.type";
    pub const INVOKED_BY: &str = "aws.cloudtrail.user_identity.invoked_by";
    pub const REQUEST_PARAMETERS: &str = "aws.cloudtrail.request_parameters";
    pub const FLAT_REQUEST_PARAMETERS: &str = "aws.cloudtrail.flattened.request_parameters";
    pub const RESOURCE_ARNS: &str = "aws.cloudtrail.resources.arn";
    pub const ERROR_CODE: &str = "aws.cloudtrail.error_code";
    pub const ERROR_MESSAGE: &str = "aws.cloudtrail.error_message";
}

/// One alert: a rule matched one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    fields: Vec<(String, Json)>,
}

/// A fixed namespace for trailwatch alert ids (a random v4 UUID, chosen once; never change it or
/// every alert id changes).
const NAMESPACE: [u8; 16] = [
    0x5b, 0x0e, 0x8f, 0x3c, 0x2a, 0x91, 0x4d, 0x6e, 0x9c, 0x17, 0xd4, 0x40, 0x7e, 0x21, 0xa3, 0x58,
];

/// A UUID in the style of RFC 9562 version 5: SHA-1 over the namespace and `name`, version and
/// variant bits set. Deterministic: the same name always gives the same id.
pub fn uuid_v5(name: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(&NAMESPACE);
    sha.update(name);
    let mut b = [0u8; 16];
    b.copy_from_slice(&sha.digest().bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl Alert {
    /// Builds the alert for `rule` matching `event` (the ECS view of `record`, the raw CloudTrail
    /// record). The id derives from (rule_id, eventID) so a retried object yields the same
    /// alert ids (at-least-once delivery, idempotent consumers).
    pub fn new(rule: &Rule, event: &dyn Document, record: &Json) -> Alert {
        let mut alert = Alert { fields: Vec::new() };
        let event_id = fields::read_string(event, key::EVENT_ID);
        let id_name = match &event_id {
            Some(id) => format!("{}\n{}", rule.rule_id, id),
            None => format!("{}\n{}", rule.rule_id, fields::canonical_json(record)),
        };
        let timestamp = fields::read(event, key::TIMESTAMP);

        alert.set(key::UUID, uuid_v5(id_name.as_bytes()));
        if let Some(t) = &timestamp {
            // Elastic stamps an alert with the detection time; we use the event's time so that a
            // retried object renders byte-identical alerts (idempotent consumers, golden tests).
            alert.set(key::TIMESTAMP, t.clone());
            alert.set(key::ORIGINAL_TIME, t.clone());
        }
        alert.set(key::SEVERITY, rule.severity.as_str());
        alert.set(key::RISK_SCORE, rule.risk_score);
        alert.set(key::RULE_ID, rule.rule_id.as_str());
        alert.set(key::RULE_NAME, rule.name.as_str());
        alert.set(key::RULE_TYPE, rule.rule_type.as_str());
        if let Some(bb) = &rule.building_block_type {
            alert.set(key::BUILDING_BLOCK, bb.as_str());
        }
        alert.set(key::DESCRIPTION, rule.description.as_str());
        alert.set(key::REASON, ""); // placed here for key order; filled once the event is read

        // The rule's chosen investigation fields first, then the standard ECS set.
        let investigation: &[String] = rule
            .investigation_fields
            .as_ref()
            .map(|f| f.field_names.as_slice())
            .unwrap_or_default();
        if !investigation.is_empty() {
            alert.set(key::INVESTIGATION_FIELDS, investigation.to_vec());
        }
        for path in investigation
            .iter()
            .map(String::as_str)
            .chain(schema::alert_fields().map(|p| -> &str { p }))
        {
            if alert.get(path).is_some() || path.starts_with("kibana.") {
                continue;
            }
            let value = match path {
                key::FLAT_REQUEST_PARAMETERS => fields::read(event, path).or_else(|| {
                    record
                        .get("requestParameters")
                        .filter(|v| v.is_object())
                        .cloned()
                }),
                _ => fields::read(event, path),
            };
            if let Some(v) = value {
                alert.set(path, v);
            }
        }
        alert.redact_secrets();

        if !rule.references.is_empty() {
            alert.set(key::REFERENCES, rule.references.clone());
        }
        if !rule.threat.is_empty() {
            if let Ok(threat) = serde_json::to_value(&rule.threat) {
                alert.set(key::THREAT, threat);
            }
        }
        if let Some(note) = &rule.note {
            alert.set(key::NOTE, note.as_str());
        }
        let reason = alert.reason_text();
        alert.set(key::REASON, reason);
        alert
    }

    /// Removes secrets from every event field: values under secret-looking keys in any object
    /// field, and those same values wherever they appear in the `request_parameters` string.
    fn redact_secrets(&mut self) {
        let mut secrets = Vec::new();
        for (name, value) in self.fields.iter_mut() {
            if name.starts_with("kibana.") {
                continue;
            }
            if name.split('.').any(redact::is_secret_name) {
                // An investigation field pointing straight at a secret parameter.
                let mut wrapped = serde_json::json!({ "secret": std::mem::take(value) });
                secrets.extend(redact::redact_value(&mut wrapped));
                *value = wrapped["secret"].take();
            } else {
                secrets.extend(redact::redact_value(value));
            }
        }
        if secrets.is_empty() {
            return;
        }
        for (name, value) in self.fields.iter_mut() {
            if name.starts_with("aws.cloudtrail.") {
                if let Json::String(s) = value {
                    *s = redact::redact_text(s, &secrets);
                }
            }
        }
    }

    /// Elastic's reason sentence ("event with action X by Y on Z created low alert R.").
    fn reason_text(&self) -> String {
        let mut s = String::from("event");
        if let Some(action) = self.get_str(key::ACTION) {
            s.push_str(&format!(" with action {action}"));
        }
        s.push_str(&format!(" by {}", self.actor()));
        if let Some(provider) = self.get_str(key::PROVIDER) {
            s.push_str(&format!(" on {provider}"));
        }
        s.push_str(&format!(
            " created {} alert {}.",
            self.severity(),
            self.rule_name()
        ));
        s
    }

    /// An alert from its fields in order (for alerts built elsewhere, e.g. flood summaries).
    pub fn from_fields(fields: Vec<(String, Json)>) -> Alert {
        Alert { fields }
    }

    /// All fields in their stable order.
    pub fn fields(&self) -> &[(String, Json)] {
        &self.fields
    }

    pub fn get(&self, name: &str) -> Option<&Json> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The field's string value, or the first element of a list of strings (numbers and booleans
    /// are not text: use [`Alert::get`]).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Json::String(s) => Some(s),
            Json::Array(items) => items.first().and_then(Json::as_str),
            _ => None,
        }
    }

    /// All string values of a field (a list, or one).
    pub fn get_strs(&self, name: &str) -> Vec<&str> {
        match self.get(name) {
            Some(Json::String(s)) => vec![s.as_str()],
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Replaces a field's value, or appends the field at the end.
    pub fn set(&mut self, name: &str, value: impl Into<Json>) {
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name.to_string(), value)),
        }
    }

    /// Mutable access to every field value (for size shortening).
    pub(crate) fn fields_mut(&mut self) -> &mut Vec<(String, Json)> {
        &mut self.fields
    }

    pub fn uuid(&self) -> &str {
        self.get_str(key::UUID).unwrap_or_default()
    }

    pub fn rule_id(&self) -> &str {
        self.get_str(key::RULE_ID).unwrap_or_default()
    }

    pub fn rule_name(&self) -> &str {
        self.get_str(key::RULE_NAME).unwrap_or_default()
    }

    pub fn severity(&self) -> &str {
        self.get_str(key::SEVERITY).unwrap_or_default()
    }

    pub fn note(&self) -> Option<&str> {
        self.get_str(key::NOTE)
    }

    /// Who did it: the user name (for roles, the role name, as Elastic's pipeline sets it), else
    /// the identity ARN, else the service that invoked the call.
    pub fn actor(&self) -> &str {
        [
            key::USER_NAME,
            key::IDENTITY_ARN,
            key::INVOKED_BY,
            key::IDENTITY_TYPE,
        ]
        .iter()
        .find_map(|k| self.get_str(k).filter(|s| !s.is_empty()))
        .unwrap_or("unknown")
    }

    /// The flattened request parameters (already redacted), if any.
    pub fn request_parameters(&self) -> Option<&serde_json::Map<String, Json>> {
        self.get(key::FLAT_REQUEST_PARAMETERS)
            .and_then(Json::as_object)
    }

    /// Stable, flat-dotted-key JSON, like an Elastic alert document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Alert {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v5_has_version_and_variant_bits() {
        let id = uuid_v5(b"r\ne");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "5");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(id, uuid_v5(b"r\ne"));
        assert_ne!(id, uuid_v5(b"r\nf"));
    }

    #[test]
    fn set_replaces_in_place_and_keeps_order() {
        let mut a = Alert::from_fields(vec![]);
        a.set("a", 1);
        a.set("b", 2);
        a.set("a", 3);
        assert_eq!(a.to_json(), r#"{"a":3,"b":2}"#);
    }
}
