//! The CloudTrail record seen as the ECS document Elastic's ingest pipeline would make of it.
//!
//! [`CloudTrailView`] renames at lookup time instead of copying: a [`Document`] lookup of an ECS
//! path is a `match` that reads the CloudTrail field it comes from. Values the pipeline computes
//! (the `toString()` of `requestParameters`, `@timestamp`, ...) are computed on first read and
//! cached inside the view. See elastic-semantics.md §4.
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

mod derived;
mod java_map;
mod json_walk;
mod paths;
mod resources;
mod view;
#[cfg(test)]
mod view_tests;

pub use java_map::java_map_to_string;
pub use paths::{field_type, FieldType};
pub use view::CloudTrailView;
