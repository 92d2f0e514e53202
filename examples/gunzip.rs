//! Bare streaming gunzip of a file with the decompressor `trailwatch scan` uses (flate2
//! `MultiGzDecoder` on zlib-rs, the same buffer sizes): the floor `scripts/bench.sh` compares the
//! scan against. Prints the decompressed byte count.
use std::io::{BufReader, Read};

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: gunzip FILE.json.gz");
        std::process::exit(2);
    };
    let file = BufReader::with_capacity(64 << 10, std::fs::File::open(path)?);
    let mut decoder = flate2::bufread::MultiGzDecoder::new(file);
    let mut buf = vec![0u8; 256 << 10];
    let mut total: u64 = 0;
    loop {
        let n = decoder.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    println!("{total}");
    Ok(())
}
