//! The one table of the ECS fields trailwatch knows: every path the CloudTrail view answers
//! (`src/ecs/view.rs` implements each), with its Elasticsearch type, where its value comes from,
//! and whether alerts carry it. Everything else is derived from it: the view's leaf paths
//! ([`leaf_paths`]), the paths whose strings are verbatim record text for the fast path
//! ([`is_verbatim`], `src/engine/dispatch.rs`), the alert's ECS field list ([`alert_fields`],
//! in table order) and [`field_type`].

/// How Elasticsearch maps a field of the CloudTrail data stream (ECS plus the integration's
/// `fields.yml`), which decides how a query term compares with the stored value: a `keyword`
/// field holding the JSON `true` is indexed as the term `"true"`, so both KQL `f: true` and
/// `f: "true"` match it, while a `boolean` field also accepts `"true"`/`"false"`; `flattened`
/// leaves are keywords whatever their JSON type; an `ip` field takes CIDR queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Keyword,
    /// `constant_keyword` (the data stream's `event.dataset`, `data_stream.*`, `event.module`).
    ConstantKeyword,
    Boolean,
    Date,
    Ip,
    /// A leaf of an `aws.cloudtrail.flattened.*` object (or the object itself).
    Flattened,
    /// Not a field the view produces, or one whose mapping is not modelled here
    /// (`source.as.number` is a long and `source.geo.location` a geo_point).
    Unmapped,
}

/// Where the view takes a field's value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The same for every CloudTrail event (`event.module: aws`).
    Constant,
    /// A JSON string of the record (or a substring of one) unchanged, so a text the value holds
    /// is a text of the raw record's bytes (the fast path's text dispatch relies on this).
    Verbatim,
    /// Computed by the pipeline's logic (`event.outcome`, `@timestamp`, the `toString()` blobs,
    /// keys read through renames).
    Computed,
    /// The root of an `aws.cloudtrail.flattened.*` object: its leaves are the record's object,
    /// unchanged.
    FlattenedRoot,
    /// Enrichment: the user agent parsed, the GeoIP/ASN databases (`src/ecs/enriched.rs`).
    Enriched,
}

/// One row of [`SCHEMA`].
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub path: &'static str,
    pub ty: FieldType,
    pub origin: Origin,
    /// Copied into every alert (in table order, after the rule's investigation fields).
    pub alert: bool,
}

const fn row(path: &'static str, ty: FieldType, origin: Origin, alert: bool) -> Field {
    Field {
        path,
        ty,
        origin,
        alert,
    }
}

use FieldType::*;
use Origin::*;

/// Every ECS path of the CloudTrail view: the alert's fields first, in the order alerts show them.
pub const SCHEMA: &[Field] = &[
    row("@timestamp", Date, Computed, true),
    row("event.kind", Keyword, Constant, true),
    row("event.module", ConstantKeyword, Constant, true),
    row("event.dataset", ConstantKeyword, Constant, true),
    row("event.provider", Keyword, Verbatim, true), // eventSource
    row("event.action", Keyword, Verbatim, true),   // eventName
    row("event.id", Keyword, Verbatim, true),       // eventID
    row("event.outcome", Keyword, Computed, true),
    row("event.category", Keyword, Computed, true),
    row("event.type", Keyword, Computed, true),
    row("cloud.provider", Keyword, Constant, true),
    row("cloud.account.id", Keyword, Verbatim, true), // userIdentity.accountId, recipientAccountId or awsAccountId
    row("cloud.region", Keyword, Verbatim, true),     // awsRegion
    row("source.address", Keyword, Verbatim, true),   // sourceIPAddress
    row("source.ip", Ip, Verbatim, true),             // sourceIPAddress when it is an IP address
    row("user_agent.original", Keyword, Verbatim, true), // userAgent
    row("user_agent.name", Keyword, Enriched, true),
    row("user_agent.version", Keyword, Enriched, true),
    row("user_agent.os.full", Keyword, Enriched, true),
    row("source.as.number", Unmapped, Enriched, true),
    row("source.as.organization.name", Keyword, Enriched, true),
    row("source.geo.country_iso_code", Keyword, Enriched, true),
    row("source.geo.country_name", Keyword, Enriched, true),
    row("source.geo.city_name", Keyword, Enriched, true),
    row("user.name", Keyword, Verbatim, true), // userIdentity.userName, the session issuer's, or UserName
    row("user.id", Keyword, Verbatim, true),   // userIdentity.principalId or .onBehalfOf.userId
    row("aws.cloudtrail.user_identity.type", Keyword, Verbatim, true),
    row("aws.cloudtrail.user_identity.arn", Keyword, Verbatim, true),
    row(
        "aws.cloudtrail.user_identity.access_key_id",
        Keyword,
        Verbatim,
        true,
    ),
    row(
        "aws.cloudtrail.user_identity.invoked_by",
        Keyword,
        Verbatim,
        true,
    ),
    row(
        "aws.cloudtrail.user_identity.session_context.session_issuer.type",
        Keyword,
        Verbatim,
        true,
    ),
    row(
        "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
        Keyword,
        Verbatim,
        true,
    ),
    row(
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
        Keyword,
        Computed,
        true,
    ),
    row(
        "aws.cloudtrail.recipient_account_id",
        Keyword,
        Verbatim,
        true,
    ),
    row("aws.cloudtrail.error_code", Keyword, Verbatim, true),
    row("aws.cloudtrail.error_message", Keyword, Verbatim, true),
    row("aws.cloudtrail.resources.arn", Keyword, Computed, true),
    row("aws.cloudtrail.request_parameters", Keyword, Computed, true),
    row(
        "aws.cloudtrail.flattened.request_parameters",
        Flattened,
        FlattenedRoot,
        true,
    ),
    row("data_stream.dataset", ConstantKeyword, Constant, false),
    row("data_stream.type", ConstantKeyword, Constant, false),
    row("ecs.version", Keyword, Constant, false),
    row("user.email", Keyword, Verbatim, false), // user.name when it holds an `@`
    row("user.changes.name", Keyword, Verbatim, false), // requestParameters.newUserName, or the tail of userIdentity.arn
    row("user.target.id", Keyword, Verbatim, false),    // responseElements.user.userId
    row("user.target.name", Keyword, Verbatim, false),  // requestParameters.userName
    row("group.id", Keyword, Verbatim, false),          // responseElements.group.groupId
    row("group.name", Keyword, Verbatim, false),        // requestParameters.groupName
    row("related.user", Keyword, Verbatim, false),      // strings of the six fields above
    row("related.entity", Keyword, Computed, false),
    row("actor.entity.id", Keyword, Computed, false),
    row("target.entity.id", Keyword, Computed, false),
    row("user.target.entity.id", Keyword, Computed, false),
    row("host.target.entity.id", Keyword, Computed, false),
    row("service.target.entity.id", Keyword, Computed, false),
    row("entity.target.id", Keyword, Computed, false),
    row("user.entity.id", Keyword, Computed, false),
    row("host.entity.id", Keyword, Computed, false),
    row("service.entity.id", Keyword, Computed, false),
    row("entity.id", Keyword, Computed, false),
    row("tls.version_protocol", Keyword, Computed, false),
    row("tls.version", Keyword, Computed, false),
    row("tls.cipher", Keyword, Verbatim, false), // tlsDetails.cipherSuite
    row("tls.client.server_name", Keyword, Verbatim, false), // tlsDetails.clientProvidedHostHeader
    row("aws.cloudtrail.event_version", Keyword, Verbatim, false),
    row("aws.cloudtrail.event_category", Keyword, Verbatim, false),
    row("aws.cloudtrail.event_type", Keyword, Verbatim, false),
    row("aws.cloudtrail.api_version", Keyword, Verbatim, false),
    row("aws.cloudtrail.management_event", Keyword, Computed, false),
    row("aws.cloudtrail.read_only", Boolean, Computed, false),
    row("aws.cloudtrail.request_id", Keyword, Verbatim, false),
    row("aws.cloudtrail.shared_event_id", Keyword, Verbatim, false),
    row("aws.cloudtrail.vpc_endpoint_id", Keyword, Verbatim, false),
    row(
        "aws.cloudtrail.session_credential_from_console",
        Keyword,
        Computed,
        false,
    ),
    row(
        "aws.cloudtrail.user_identity.session_context.creation_date",
        Date,
        Computed,
        false,
    ),
    row(
        "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
        Keyword,
        Verbatim,
        false,
    ),
    row(
        "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
        Keyword,
        Verbatim,
        false,
    ),
    row(
        "aws.cloudtrail.console_login.additional_eventdata.mobile_version",
        Boolean,
        Computed,
        false,
    ),
    row(
        "aws.cloudtrail.console_login.additional_eventdata.login_to",
        Keyword,
        Verbatim,
        false,
    ),
    row(
        "aws.cloudtrail.console_login.additional_eventdata.mfa_used",
        Boolean,
        Computed,
        false,
    ),
    row("aws.cloudtrail.response_elements", Keyword, Computed, false),
    row(
        "aws.cloudtrail.additional_eventdata",
        Keyword,
        Computed,
        false,
    ),
    row(
        "aws.cloudtrail.service_event_details",
        Keyword,
        Computed,
        false,
    ),
    row(
        "aws.cloudtrail.resources.account_id",
        Keyword,
        Computed,
        false,
    ),
    row("aws.cloudtrail.resources.type", Keyword, Computed, false),
    row(
        "aws.cloudtrail.flattened.response_elements",
        Flattened,
        FlattenedRoot,
        false,
    ),
    row(
        "aws.cloudtrail.flattened.additional_eventdata",
        Flattened,
        FlattenedRoot,
        false,
    ),
    row(
        "aws.cloudtrail.flattened.service_event_details",
        Flattened,
        FlattenedRoot,
        false,
    ),
    row(
        "aws.cloudtrail.flattened.insight_details",
        Flattened,
        FlattenedRoot,
        false,
    ),
    row("user_agent.os.name", Keyword, Enriched, false),
    row("user_agent.os.version", Keyword, Enriched, false),
    row("user_agent.device.name", Keyword, Enriched, false),
    row("source.geo.continent_name", Keyword, Enriched, false),
    row("source.geo.region_iso_code", Keyword, Enriched, false),
    row("source.geo.region_name", Keyword, Enriched, false),
    row("source.geo.location.lat", Unmapped, Enriched, false),
    row("source.geo.location.lon", Unmapped, Enriched, false),
];

/// The ECS path dispatched on, read from `eventSource`.
pub const PROVIDER: &str = "event.provider";
/// The ECS path dispatched on, read from `eventName`.
pub const ACTION: &str = "event.action";

/// Every path below it is a leaf of `requestParameters`, `responseElements`,
/// `additionalEventData` or `serviceEventDetails` as it is (`visit_flattened`).
pub const VERBATIM_PREFIX: &str = "aws.cloudtrail.flattened.";

/// The row of `path`, when the view answers it as a leaf (or flattened root).
pub fn lookup(path: &str) -> Option<&'static Field> {
    SCHEMA.iter().find(|f| f.path == path)
}

/// The leaf paths of the view (and the flattened roots, whose leaves are walked), the enriched
/// ones included.
pub fn leaf_paths() -> impl Iterator<Item = &'static str> {
    SCHEMA.iter().map(|f| f.path)
}

/// The paths whose values come from the record itself (the enrichment's left out).
pub fn record_paths() -> impl Iterator<Item = &'static str> {
    SCHEMA
        .iter()
        .filter(|f| f.origin != Enriched)
        .map(|f| f.path)
}

/// The enrichment's paths.
pub fn enriched_paths() -> impl Iterator<Item = &'static str> {
    SCHEMA
        .iter()
        .filter(|f| f.origin == Enriched)
        .map(|f| f.path)
}

/// The verbatim paths ([`Origin::Verbatim`]), for tests and documentation.
pub fn verbatim_paths() -> impl Iterator<Item = &'static str> {
    SCHEMA
        .iter()
        .filter(|f| f.origin == Verbatim)
        .map(|f| f.path)
}

/// The event's ECS fields copied into every alert, in order. Missing ones are skipped.
pub fn alert_fields() -> impl Iterator<Item = &'static str> {
    SCHEMA.iter().filter(|f| f.alert).map(|f| f.path)
}

/// Whether the CloudTrail view's string values at `path` are (substrings of) JSON strings of the
/// raw record, unchanged. Numbers and booleans there are left to
/// [`crate::engine::required_texts`].
pub fn is_verbatim(path: &str) -> bool {
    path.starts_with(VERBATIM_PREFIX) || lookup(path).is_some_and(|f| f.origin == Verbatim)
}

/// The Elasticsearch type of an ECS path of [`crate::ecs::CloudTrailView`].
pub fn field_type(path: &str) -> FieldType {
    if let Some(f) = lookup(path) {
        return f.ty;
    }
    if path.starts_with(VERBATIM_PREFIX) {
        FieldType::Flattened
    } else if path.starts_with("aws.cloudtrail.resources.") {
        FieldType::Keyword
    } else {
        FieldType::Unmapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_alert_fields_lead() {
        let mut seen = std::collections::HashSet::new();
        for f in SCHEMA {
            assert!(seen.insert(f.path), "{} twice", f.path);
        }
        // Alert fields come first so the table order is the alert's order.
        let first_other = SCHEMA.iter().position(|f| !f.alert).unwrap_or(SCHEMA.len());
        assert!(SCHEMA[first_other..].iter().all(|f| !f.alert));
        assert!(alert_fields().count() > 30);
    }

    #[test]
    fn types_and_origins_agree() {
        for f in SCHEMA {
            if f.origin == FlattenedRoot {
                assert_eq!(f.ty, FieldType::Flattened, "{}", f.path);
                assert!(is_verbatim(f.path));
            }
            if f.ty == FieldType::ConstantKeyword {
                assert_eq!(f.origin, Constant, "{}", f.path);
            }
        }
        assert!(is_verbatim(PROVIDER) && is_verbatim(ACTION));
        assert!(!is_verbatim("event.outcome"));
        assert!(is_verbatim(
            "aws.cloudtrail.flattened.request_parameters.dBInstanceIdentifier"
        ));
        assert_eq!(
            field_type("aws.cloudtrail.resources.whatever"),
            FieldType::Keyword
        );
        assert_eq!(field_type("no.such.field"), FieldType::Unmapped);
    }
}
