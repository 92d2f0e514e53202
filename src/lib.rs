//! trailwatch: Elastic detection rules (KQL and EQL) evaluated on CloudTrail, in AWS Lambda.
//!
//! The data flows one way: trigger → source → reader → ECS view → engine → alert → sink.
//!
//! - [`trigger`] turns a Lambda payload (S3, SQS, SNS, EventBridge) into objects to scan;
//! - [`source`] opens them (S3 as a stream, local files, memory);
//! - [`reader`] streams the `Records` of a gzip or plain JSON object;
//! - [`ecs`] presents each record as the ECS document Elastic's pipeline would make;
//! - [`query`] parses KQL and EQL (one error type, rendered with carets) and lowers them to
//!   the [`engine`]'s predicate IR; the engine picks each record's candidate rules from its raw
//!   head before parsing ([`engine::dispatch`]) and evaluates them;
//! - [`rules`] is the catalogue: rule files (compiled in, or added at run time), each compiled
//!   or skipped with its reason;
//! - [`detect`] runs one record ([`Detector::detect_record`]) and one object
//!   ([`process_object`]) end to end, with exceptions and the stateful rules ([`state`]);
//! - [`alert`] builds alerts, holds back floods ([`alert::FloodControl`]) and renders them;
//!   [`sink`] takes them as they are found (SNS batches, stdout, memory);
//! - [`handler`] is the Lambda handler, [`aws`] builds it from the environment.

pub mod accounts;
pub mod alert;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod detect;
pub mod ecs;
pub mod engine;
#[cfg(feature = "aws")]
pub mod handler;
pub mod query;
pub mod reader;
pub mod rules;
pub mod sink;
pub mod source;
pub mod state;
pub mod trigger;

// The languages' former top-level paths, kept so code written against them still builds.

pub use config::Config;
pub use detect::{process_object, scan_collect, scan_collect_pipelined, Detector, ObjectReport};
pub use rules::{CompiledRule, RuleSet};
