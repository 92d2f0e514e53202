//! The ECS paths the CloudTrail view answers, and the four objects the pipeline keeps twice.

/// `ignore_above` of `aws.cloudtrail.request_parameters` and `response_elements` in the data
/// stream's mapping (fields.yml): longer strings are stored but not indexed, so no query matches
/// them.
pub(crate) const IGNORE_ABOVE: usize = 8191;

/// The pipeline copies an object into `aws.cloudtrail.flattened.*` only when its string form is
/// shorter than this (Lucene's term length limit).
pub(crate) const FLATTENED_LIMIT: usize = 32766;

/// The four CloudTrail objects the pipeline keeps both as a `toString()` keyword and as a
/// `flattened` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blob {
    RequestParameters = 0,
    ResponseElements = 1,
    AdditionalEventData = 2,
    ServiceEventDetails = 3,
}

impl Blob {
    pub(crate) fn source_key(self) -> &'static str {
        match self {
            Blob::RequestParameters => "requestParameters",
            Blob::ResponseElements => "responseElements",
            Blob::AdditionalEventData => "additionalEventData",
            Blob::ServiceEventDetails => "serviceEventDetails",
        }
    }

    pub(crate) fn has_ignore_above(self) -> bool {
        matches!(self, Blob::RequestParameters | Blob::ResponseElements)
    }

    pub(crate) fn from_string_path(path: &str) -> Option<Blob> {
        Some(match path {
            "aws.cloudtrail.request_parameters" => Blob::RequestParameters,
            "aws.cloudtrail.response_elements" => Blob::ResponseElements,
            "aws.cloudtrail.additional_eventdata" => Blob::AdditionalEventData,
            "aws.cloudtrail.service_event_details" => Blob::ServiceEventDetails,
            _ => return None,
        })
    }
}

/// The roots of `aws.cloudtrail.flattened.*` and where each comes from (`insight_details` has no
/// string form).
pub(crate) const FLATTENED_ROOTS: [(&str, Option<Blob>, &str); 5] = [
    (
        "aws.cloudtrail.flattened.request_parameters",
        Some(Blob::RequestParameters),
        "requestParameters",
    ),
    (
        "aws.cloudtrail.flattened.response_elements",
        Some(Blob::ResponseElements),
        "responseElements",
    ),
    (
        "aws.cloudtrail.flattened.additional_eventdata",
        Some(Blob::AdditionalEventData),
        "additionalEventData",
    ),
    (
        "aws.cloudtrail.flattened.service_event_details",
        Some(Blob::ServiceEventDetails),
        "serviceEventDetails",
    ),
    (
        "aws.cloudtrail.flattened.insight_details",
        None,
        "insightDetails",
    ),
];

/// Every ECS leaf path the view answers, for [`Document::any_leaf`] and for recognising object
/// paths (`aws.cloudtrail.user_identity` exists when one of its leaves does). The flattened roots
/// are listed too; their leaves are walked.
pub(crate) const LEAF_PATHS: &[&str] = &[
    "@timestamp",
    "data_stream.dataset",
    "data_stream.type",
    "ecs.version",
    "event.dataset",
    "event.module",
    "event.kind",
    "event.provider",
    "event.action",
    "event.id",
    "event.outcome",
    "event.category",
    "event.type",
    "cloud.provider",
    "cloud.region",
    "cloud.account.id",
    "source.address",
    "source.ip",
    "user_agent.original",
    "user.id",
    "user.name",
    "user.email",
    "user.changes.name",
    "user.target.id",
    "user.target.name",
    "group.id",
    "group.name",
    "related.user",
    // With the actor_target_mapping option only.
    "related.entity",
    "actor.entity.id",
    "target.entity.id",
    "user.target.entity.id",
    "host.target.entity.id",
    "service.target.entity.id",
    "entity.target.id",
    "user.entity.id",
    "host.entity.id",
    "service.entity.id",
    "entity.id",
    "tls.version_protocol",
    "tls.version",
    "tls.cipher",
    "tls.client.server_name",
    "aws.cloudtrail.event_version",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.api_version",
    "aws.cloudtrail.management_event",
    "aws.cloudtrail.read_only",
    "aws.cloudtrail.request_id",
    "aws.cloudtrail.recipient_account_id",
    "aws.cloudtrail.shared_event_id",
    "aws.cloudtrail.vpc_endpoint_id",
    "aws.cloudtrail.session_credential_from_console",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.error_message",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.invoked_by",
    "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
    "aws.cloudtrail.user_identity.session_context.creation_date",
    "aws.cloudtrail.user_identity.session_context.session_issuer.type",
    "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    "aws.cloudtrail.console_login.additional_eventdata.mobile_version",
    "aws.cloudtrail.console_login.additional_eventdata.login_to",
    "aws.cloudtrail.console_login.additional_eventdata.mfa_used",
    "aws.cloudtrail.request_parameters",
    "aws.cloudtrail.response_elements",
    "aws.cloudtrail.additional_eventdata",
    "aws.cloudtrail.service_event_details",
    "aws.cloudtrail.resources.arn",
    "aws.cloudtrail.resources.account_id",
    "aws.cloudtrail.resources.type",
    "aws.cloudtrail.flattened.request_parameters",
    "aws.cloudtrail.flattened.response_elements",
    "aws.cloudtrail.flattened.additional_eventdata",
    "aws.cloudtrail.flattened.service_event_details",
    "aws.cloudtrail.flattened.insight_details",
];

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
    /// Not a field the view produces.
    Unmapped,
}

/// The Elasticsearch type of an ECS path of [`crate::ecs::CloudTrailView`].
pub fn field_type(path: &str) -> FieldType {
    match path {
        "@timestamp" | "aws.cloudtrail.user_identity.session_context.creation_date" => {
            FieldType::Date
        }
        "aws.cloudtrail.read_only"
        | "aws.cloudtrail.console_login.additional_eventdata.mobile_version"
        | "aws.cloudtrail.console_login.additional_eventdata.mfa_used" => FieldType::Boolean,
        "source.ip" => FieldType::Ip,
        "event.dataset" | "event.module" | "data_stream.dataset" | "data_stream.type" => {
            FieldType::ConstantKeyword
        }
        p if p.starts_with("aws.cloudtrail.flattened.") => FieldType::Flattened,
        p if p.starts_with("aws.cloudtrail.resources.") => FieldType::Keyword,
        p if LEAF_PATHS.contains(&p) => FieldType::Keyword,
        // The enrichment's strings (`source.as.number` is a long and `source.geo.location` a
        // geo_point, neither modelled by this enum: left Unmapped).
        p if super::enriched::ENRICHED_LEAF_PATHS.contains(&p)
            && !matches!(
                p,
                "source.as.number" | "source.geo.location.lat" | "source.geo.location.lon"
            ) =>
        {
            FieldType::Keyword
        }
        _ => FieldType::Unmapped,
    }
}
