//! End-to-end tests with the real AWS SDK against moto server (S3, SNS, SQS, DynamoDB) started
//! on 127.0.0.1 by the tests: the Lambda handler on every trigger shape, faults and retries,
//! the DynamoDB state store. One test crate, so the SDK is linked once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

#[path = "../common/mod.rs"]
mod common;
#[path = "../robust/mod.rs"]
mod robust;

mod cli_parity;
mod e2e_account_names;
mod e2e_lambda;
mod e2e_triggers;
mod faults_moto;
mod state_dynamo;
mod state_learn;
mod stateful_timeline;
