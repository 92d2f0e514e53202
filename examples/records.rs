//! Breakdown for docs/performance.md: `records FILE split` only cuts `Records` into raw records
//! (the block walk, which also reads each record's head); `records FILE prefilter` also looks up
//! the candidate rules of each record among the compiled-in rules.
use trailwatch::rules::RuleSet;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), mode) = (args.next(), args.next()) else {
        eprintln!("usage: records FILE [split|prefilter]");
        std::process::exit(2);
    };
    let prefilter = mode.as_deref() == Some("prefilter");
    let set = RuleSet::embedded();
    let mut records = trailwatch::reader::open(std::fs::File::open(path)?);
    let (mut n, mut parsed) = (0usize, 0usize);
    let mut candidates = Vec::new();
    while let Some(item) = records.next_record() {
        let Ok(record) = item else {
            continue;
        };
        n += 1;
        if prefilter {
            set.candidates_for_record(&record, &mut candidates);
            parsed += usize::from(!candidates.is_empty());
        }
    }
    println!(
        "{n} records, {parsed} to parse, {} bytes",
        records.bytes_read()
    );
    Ok(())
}
