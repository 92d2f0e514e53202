//! The "who/where" context the enrichment adds, as plain text for every renderer to escape in its
//! own way: the client a user agent names, the source's network (AS) and place (GeoIP), and the
//! account's name. Every value is untrusted (a user agent is attacker-chosen; AS and place names
//! come from a database file), so none is returned escaped: each renderer escapes it.
use super::fields::scalar_text;
use super::model::{key, Alert};

/// `aws-cli 2.15.30 on Linux 6.1`: the parsed user agent (`user_agent.name`, `.version`,
/// `.os.full`); `None` when it was not parsed or is uap-core's `Other` (the raw agent says all).
pub fn client(alert: &Alert) -> Option<String> {
    let name = alert
        .get_str(key::UA_NAME)
        .filter(|n| !n.is_empty() && *n != "Other")?;
    let mut s = name.to_owned();
    if let Some(v) = alert.get_str(key::UA_VERSION).filter(|v| !v.is_empty()) {
        s.push(' ');
        s.push_str(v);
    }
    if let Some(os) = alert.get_str(key::UA_OS_FULL).filter(|o| !o.is_empty()) {
        s.push_str(" on ");
        s.push_str(os);
    }
    Some(s)
}

/// `AS9009 M247 Europe SRL`: the source's autonomous system (`source.as.*`).
pub fn network(alert: &Alert) -> Option<String> {
    let number = alert
        .get(key::AS_NUMBER)
        .filter(|v| !v.is_array() && !v.is_object() && !v.is_null())
        .map(|v| format!("AS{}", scalar_text(v)));
    let org = alert
        .get_str(key::AS_ORGANIZATION)
        .filter(|o| !o.is_empty());
    match (number, org) {
        (Some(n), Some(o)) => Some(format!("{n} {o}")),
        (Some(n), None) => Some(n),
        (None, Some(o)) => Some(o.to_owned()),
        (None, None) => None,
    }
}

/// `Amsterdam, Netherlands (NL)`: the source's place (`source.geo.city_name`, country name and
/// ISO code), what the GeoIP City database knows of it.
pub fn location(alert: &Alert) -> Option<String> {
    let nonempty = |k: &str| alert.get_str(k).filter(|s| !s.is_empty());
    let country = match (
        nonempty(key::GEO_COUNTRY_NAME),
        nonempty(key::GEO_COUNTRY_ISO),
    ) {
        (Some(name), Some(iso)) => Some(format!("{name} ({iso})")),
        (Some(name), None) => Some(name.to_owned()),
        (None, Some(iso)) => Some(iso.to_owned()),
        (None, None) => None,
    };
    let parts: Vec<String> = [nonempty(key::GEO_CITY).map(str::to_owned), country]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The account's name (`cloud.account.name`), when the function knows it.
pub fn account_name(alert: &Alert) -> Option<&str> {
    alert.get_str(key::ACCOUNT_NAME).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn alert(fields: &[(&str, Json)]) -> Alert {
        Alert::from_fields(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn client_network_and_location_from_the_enrichment_fields() {
        let a = alert(&[
            ("user_agent.name", "aws-cli".into()),
            ("user_agent.version", "2.15.30".into()),
            ("user_agent.os.full", "Linux 6.1".into()),
            ("source.as.number", 9009.into()),
            ("source.as.organization.name", "M247 Europe SRL".into()),
            ("source.geo.city_name", "Amsterdam".into()),
            ("source.geo.country_name", "Netherlands".into()),
            ("source.geo.country_iso_code", "NL".into()),
        ]);
        assert_eq!(client(&a).as_deref(), Some("aws-cli 2.15.30 on Linux 6.1"));
        assert_eq!(network(&a).as_deref(), Some("AS9009 M247 Europe SRL"));
        assert_eq!(location(&a).as_deref(), Some("Amsterdam, Netherlands (NL)"));
    }

    #[test]
    fn absent_or_unknown_fields_give_nothing() {
        let a = alert(&[("user_agent.name", "Other".into())]);
        assert_eq!(client(&a), None);
        assert_eq!(network(&a), None);
        assert_eq!(location(&a), None);
        let only_iso = alert(&[("source.geo.country_iso_code", "FR".into())]);
        assert_eq!(location(&only_iso).as_deref(), Some("FR"));
    }
}
