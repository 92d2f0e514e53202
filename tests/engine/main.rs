//! Integration tests of everything that runs without AWS: the engine and its rules, the reader
//! on hostile input, the renderers, and the CLI binary. One test crate rather than one per file,
//! so the library and its dependencies are linked once. Reads only the project's own fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

#[path = "../common/mmdb.rs"]
mod mmdb;
#[path = "../robust/mod.rs"]
mod robust;

mod alert_render;
mod bad_inputs;
mod cli;
mod cli_match;
mod embedded_rules;
mod fuzz_regressions;
mod hostile_records;
mod injection;
mod rds_coverage;
mod rule_fixtures;
mod self_defence;
mod vpn_asn_rule;
