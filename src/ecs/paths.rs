//! The four objects the pipeline keeps twice (a `toString()` keyword and a flattened object),
//! and the limits that apply to them. The view's paths are in [`super::schema`].

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
