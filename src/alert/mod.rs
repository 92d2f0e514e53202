//! Alerts with Elastic's field names, deterministic ids, and their renderings.
