//! The CloudTrail record seen as the ECS document Elastic's ingest pipeline would make of it.
//!
//! [`CloudTrailView`] renames at lookup time instead of copying: a [`Document`] lookup of an ECS
//! path is a `match` that reads the CloudTrail field it comes from. Values the pipeline computes
//! (the `toString()` of `requestParameters`, `@timestamp`, ...) are computed on first read and
//! cached inside the view. See elastic-semantics.md §4.
//!
//! Choices a rule author should know (each cites the pipeline; see also `tests/conformance/pipeline_ecs.rs`):
//! - Modelled: `default.yml` of elastic/integrations at 0b97ab02 (drops `"-"`/`"none"`, falls
//!   back to `recipientAccountId` for `cloud.account.id`, names role sessions after the role).
//! - `aws.cloudtrail.request_parameters`/`response_elements` longer than 8,191 UTF-16 units
//!   (`ignore_above`) are not reported by `any_value`/`any_leaf` — Elasticsearch stores but does
//!   not index them, so no query matches them, `f:*` included; [`CloudTrailView::stored_string`]
//!   still returns them for display.
//! - Enrichment: `user_agent.name`/`version`/`os.*`/`device.name` (the `user_agent` processor,
//!   uap-core's regexes built in when the build found them: [`user_agent_available`]) are parsed
//!   on first read; `source.as.*`/`source.geo.*` only from a view given an [`Enrichment`] with
//!   the GeoIP databases ([`CloudTrailView::with_enrichment`]), absent otherwise.
//! - Not produced: `event.original`, `event.created`, `tags`.
//! - `related.entity`, `actor.entity.id`, `target.entity.id` and the typed `*.entity.id` fields
//!   only with [`ViewOptions::actor_target_mapping`] (the integration option of that name).
//! - Documents the pipeline would fail on (e.g. a role session whose ARN is not `arn:aws:sts:`,
//!   which breaks its `grok`, giving `event.kind: pipeline_error`) are read as if it had not.
//! - [`field_type`] gives each path's Elasticsearch type: `keyword` fields holding JSON booleans
//!   (`aws.cloudtrail.management_event`) and `flattened` leaves compare as strings there.
//!
//! ```
//! use trailwatch::ecs::CloudTrailView;
//! use trailwatch::engine::{Document, Value};
//!
//! let record = serde_json::json!({
//!     "eventSource": "rds.amazonaws.com",
//!     "eventName": "CreateDBCluster",
//!     "requestParameters": {"dBClusterIdentifier": "db1", "engine": "aurora-mysql"},
//! });
//! let view = CloudTrailView::new(&record);
//! assert!(view.any_value("event.provider", &mut |v| v == Value::Str("rds.amazonaws.com")));
//! assert!(view.any_value("aws.cloudtrail.request_parameters", &mut |v| {
//!     v == Value::Str("{engine=aurora-mysql, dBClusterIdentifier=db1}")
//! }));
//! ```
//!
//! [`Document`]: crate::engine::Document

pub(crate) mod derived;
mod enriched;
mod entity;
mod entity_services;
mod geoip;
mod java_map;
mod json_walk;
mod paths;
mod prefixed;
mod resources;
pub mod schema;
mod user_agent;
mod view;
#[cfg(test)]
mod view_tests;

pub use geoip::{AsInfo, Enrichment, GeoInfo, GeoIpError};
pub use java_map::java_map_to_string;
pub use schema::{field_type, FieldType};
pub use user_agent::{parse_user_agent, user_agent_available, user_agent_source, UserAgent};
pub use view::{CloudTrailView, ViewOptions};
