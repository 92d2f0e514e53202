//! Breakdown for docs/performance.md: `records FILE split` only cuts `Records` into raw records;
//! `records FILE prefilter` also runs the raw-byte prefilter of the compiled-in rules.
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
    let mut bytes = Vec::new();
    let mut candidates = Vec::new();
    while let Some(item) = records.next_into(&mut bytes) {
        if item.is_err() {
            continue;
        }
        n += 1;
        if prefilter {
            set.candidates(&bytes, &mut candidates);
            parsed += usize::from(!candidates.is_empty());
        }
    }
    println!(
        "{n} records, {parsed} to parse, {} bytes",
        records.bytes_read()
    );
    Ok(())
}
