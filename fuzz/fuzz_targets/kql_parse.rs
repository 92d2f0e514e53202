//! KQL parser on arbitrary text: Ok or a QueryError, never a panic or a stack overflow; what
//! parses also evaluates.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        if let Ok(expr) = trailwatch::query::kql::parse(query) {
            common::evaluate(&expr);
        }
    }
});
