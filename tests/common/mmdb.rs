//! A minimal MaxMind DB (MMDB) writer for tests: an IPv4 ASN database with the networks a test
//! needs. MaxMind's own test database (`scripts/test-geoip.sh`) holds no VPN or hosting ASN of the
//! VPN-ASN rule's list, so the rule's tests write their own, in MaxMind's documented format
//! (<https://maxmind.github.io/MaxMind-DB/>): a binary search tree of 24-bit records, 16 zero
//! bytes, the data section, then `\xAB\xCD\xEFMaxMind.com` and the metadata map.
#![allow(dead_code)]

use std::path::Path;

/// One network of the database: `a.b.c.d/prefix` → AS `number`, `organization`.
pub struct AsNetwork<'a> {
    pub network: [u8; 4],
    pub prefix: u8,
    pub number: u32,
    pub organization: &'a str,
}

#[derive(Clone, Copy, PartialEq)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// The control byte(s) of a field of `type_` (1..=15) and `size`.
fn control(out: &mut Vec<u8>, type_: u8, size: usize) {
    let (first, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        _ => {
            let s = size - 285;
            assert!(s < 65_536, "field too long for this writer");
            (30, vec![(s >> 8) as u8, s as u8])
        }
    };
    if type_ <= 7 {
        out.push((type_ << 5) | first);
    } else {
        // Extended types: type 0 in the control byte, the type minus 7 in the next one.
        out.push(first);
        out.push(type_ - 7);
    }
    out.extend(extra);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// An unsigned integer of `type_` (5 = uint16, 6 = uint32, 9 = uint64), minimal bytes.
fn uint(out: &mut Vec<u8>, type_: u8, v: u64) {
    let bytes: Vec<u8> = v
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    control(out, type_, bytes.len());
    out.extend(bytes);
}

fn map_header(out: &mut Vec<u8>, pairs: usize) {
    control(out, 7, pairs);
}

/// The database's bytes.
pub fn asn_database(networks: &[AsNetwork<'_>]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for n in networks {
        assert!((1..=32).contains(&n.prefix));
        let offset = data.len();
        map_header(&mut data, 2);
        string(&mut data, "autonomous_system_number");
        uint(&mut data, 6, u64::from(n.number));
        string(&mut data, "autonomous_system_organization");
        string(&mut data, n.organization);

        let addr = u32::from_be_bytes(n.network);
        let mut node = 0;
        for i in 0..n.prefix {
            let bit = ((addr >> (31 - i)) & 1) as usize;
            if i + 1 == n.prefix {
                assert!(nodes[node][bit] == Rec::Empty, "overlapping networks");
                nodes[node][bit] = Rec::Data(offset);
                break;
            }
            node = match nodes[node][bit] {
                Rec::Node(next) => next,
                Rec::Empty => {
                    nodes.push([Rec::Empty, Rec::Empty]);
                    let next = nodes.len() - 1;
                    nodes[node][bit] = Rec::Node(next);
                    next
                }
                Rec::Data(_) => panic!("overlapping networks"),
            };
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for pair in &nodes {
        for rec in pair {
            let v = match *rec {
                Rec::Node(i) => i,
                Rec::Empty => count,
                Rec::Data(off) => count + 16 + off,
            };
            assert!(v < 1 << 24);
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend(data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut meta = Vec::new();
    map_header(&mut meta, 9);
    string(&mut meta, "binary_format_major_version");
    uint(&mut meta, 5, 2);
    string(&mut meta, "binary_format_minor_version");
    uint(&mut meta, 5, 0);
    string(&mut meta, "build_epoch");
    uint(&mut meta, 9, 1_767_225_600);
    string(&mut meta, "database_type");
    string(&mut meta, "GeoLite2-ASN");
    string(&mut meta, "description");
    map_header(&mut meta, 1);
    string(&mut meta, "en");
    string(&mut meta, "trailwatch test ASN database");
    string(&mut meta, "ip_version");
    uint(&mut meta, 5, 4);
    string(&mut meta, "languages");
    control(&mut meta, 11, 1);
    string(&mut meta, "en");
    string(&mut meta, "node_count");
    uint(&mut meta, 6, count as u64);
    string(&mut meta, "record_size");
    uint(&mut meta, 5, 24);
    out.extend(meta);
    out
}

/// Writes the database to `path`.
pub fn write_asn_database(path: &Path, networks: &[AsNetwork<'_>]) {
    std::fs::write(path, asn_database(networks)).expect("write the test ASN database");
}

/// The networks the VPN-ASN rule's tests use: one listed VPN/hosting AS, one ordinary AS.
pub const TEST_NETWORKS: &[AsNetwork<'static>] = &[
    // AS9009 (M247) is on the rule's list.
    AsNetwork {
        network: [203, 0, 113, 0],
        prefix: 24,
        number: 9009,
        organization: "M247 Europe SRL",
    },
    // AS64496 (a documentation ASN) is not.
    AsNetwork {
        network: [198, 51, 100, 0],
        prefix: 24,
        number: 64496,
        organization: "Example Office Network",
    },
];

/// The test database, written once per test binary under the target directory.
pub fn test_asn_database() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("trailwatch-test-asn-{}.mmdb", std::process::id()));
        write_asn_database(&path, TEST_NETWORKS);
        path
    })
    .clone()
}
