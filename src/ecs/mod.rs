//! The CloudTrail record seen as the ECS document Elastic's ingest pipeline would make of it.
//!
//! [`CloudTrailView`] renames at lookup time instead of copying: a [`Document`] lookup of an ECS
//! path is a `match` that reads the CloudTrail field it comes from. Values the pipeline computes
//! (the `toString()` of `requestParameters`, `@timestamp`, ...) are computed on first read and
//! cached inside the view. See elastic-semantics.md §4.
//!
//! [`Document`]: crate::engine::Document

mod java_map;

pub use java_map::java_map_to_string;
