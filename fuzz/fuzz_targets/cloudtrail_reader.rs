//! The whole object path on arbitrary bytes (gzip or plain): reader → ECS view → embedded rules
//! → alerts → SNS rendering. Never a panic; an object either reads or names its error.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let report = trailwatch::scan_collect("fuzz", data, &common::DETECTOR);
    for alert in &report.alerts {
        let message = trailwatch::alert::sns_message(alert);
        assert!(message.size() <= trailwatch::alert::SNS_MAX_BYTES);
    }
});
