//! Rule TOML loader on arbitrary text: the file is compiled or skipped with a reason, never a
//! panic; a compiled rule evaluates and renders an alert.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trailwatch::rules::RuleOrigin;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set =
        trailwatch::RuleSet::from_sources([(RuleOrigin::Project, "fuzz.toml".to_owned(), text)]);
    assert_eq!(set.rules().len() + set.skipped().len(), 1);
    for compiled in set.rules() {
        if common::evaluate(&compiled.expr) {
            let view = trailwatch::ecs::CloudTrailView::new(&common::RECORD);
            let alert = trailwatch::alert::Alert::new(&compiled.rule, &view, &common::RECORD);
            let _ = trailwatch::alert::sns_message(&alert);
        }
    }
});
