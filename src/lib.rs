//! trailwatch: Elastic detection rules (KQL and EQL) evaluated on CloudTrail, in AWS Lambda.
//!
//! The data flows one way: trigger → source → reader → ECS view → engine → alert → sink.
//!
//! - [`trigger`] turns a Lambda payload (S3, SQS, SNS, EventBridge) into objects to scan;
//! - [`source`] opens them (S3 as a stream, local files, memory);
//! - [`reader`] streams the `Records` of a gzip or plain JSON object;
//! - [`ecs`] presents each record as the ECS document Elastic's pipeline would make;
//! - [`engine`] evaluates the predicate IR that [`kql`] and [`eql`] queries lower to;
//! - [`rules`] compiles the rule files compiled into the binary;
//! - [`detect`] runs one record ([`Detector::detect_record`]) and one object
//!   ([`process_object`]) end to end, with the per-object publishing policy;
//! - [`alert`] builds and renders alerts; [`sink`] takes them as they are found (SNS batches,
//!   stdout, memory); [`handler`] is the Lambda handler.

pub mod accounts;
pub mod alert;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod detect;
pub mod ecs;
pub mod engine;
pub mod eql;
#[cfg(feature = "aws")]
pub mod handler;
pub mod kql;
pub mod prefilter;
pub mod reader;
pub mod rules;
pub mod sink;
pub mod source;
pub mod state;
pub mod trigger;

pub use config::Config;
pub use detect::{process_object, scan_collect, scan_collect_pipelined, Detector, ObjectReport};
pub use rules::{CompiledRule, RuleSet};
