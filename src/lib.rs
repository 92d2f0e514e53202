//! trailwatch: Elastic detection rules (KQL and EQL) evaluated on CloudTrail, in AWS Lambda.
//!
//! The data flows one way: trigger → source → reader → ECS view → engine → alert → sink.

pub mod alert;
pub mod ecs;
pub mod engine;
pub mod eql;
pub mod kql;
pub mod reader;
pub mod rules;
pub mod trigger;
