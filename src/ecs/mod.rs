//! The CloudTrail record seen as the ECS document Elastic's ingest pipeline would make of it.
