//! Differential tests against Elastic's data beside the clone (`../shared`):
//! the KQL vectors labelled by Elastic's evaluator, the request_parameters strings, the ingest
//! pipeline's ECS documents, Elastic's rule catalogue, the invictus attack recording, the
//! fast path against full evaluation, and EQL semantics on real data. `make conformance`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod elastic_catalogue;
mod eql_semantics;
mod fast_path_equivalence;
mod invictus_dataset;
mod kql_vectors;
mod pipeline_ecs;
mod request_parameters_vectors;
