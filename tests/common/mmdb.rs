//! A minimal MaxMind DB (MMDB) writer for tests: IPv4 ASN and City databases with the networks a
//! test needs. MaxMind's own test database (`scripts/test-geoip.sh`) holds no VPN or hosting ASN of the
//! VPN-ASN rule's list, so the rule's tests write their own, in MaxMind's documented format
//! (<https://maxmind.github.io/MaxMind-DB/>): a binary search tree of 24-bit records, 16 zero
//! bytes, the data section, then `\xAB\xCD\xEFMaxMind.com` and the metadata map.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

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

/// One value in MaxMind's data encoding (maps, strings, unsigned integers, doubles, arrays).
fn value(out: &mut Vec<u8>, v: &serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            map_header(out, m.len());
            for (k, v) in m {
                string(out, k);
                value(out, v);
            }
        }
        J::String(s) => string(out, s),
        J::Number(n) => match n.as_u64() {
            Some(u) if u <= u64::from(u32::MAX) => uint(out, 6, u),
            Some(u) => uint(out, 9, u),
            None => {
                let f = n.as_f64().expect("a number");
                control(out, 3, 8);
                out.extend_from_slice(&f.to_be_bytes());
            }
        },
        J::Array(items) => {
            control(out, 11, items.len());
            items.iter().for_each(|i| value(out, i));
        }
        J::Bool(b) => control(out, 14, usize::from(*b)),
        J::Null => panic!("MMDB has no null"),
    }
}

/// An IPv4 database of `database_type` (e.g. `GeoLite2-ASN`, `GeoLite2-City`): each network
/// `a.b.c.d/prefix` maps to its record.
pub fn database(database_type: &str, networks: &[([u8; 4], u8, serde_json::Value)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for (network, prefix, record) in networks {
        let prefix = *prefix;
        assert!((1..=32).contains(&prefix));
        let offset = data.len();
        value(&mut data, record);
        let addr = u32::from_be_bytes(*network);
        let mut node = 0;
        for i in 0..prefix {
            let bit = ((addr >> (31 - i)) & 1) as usize;
            if i + 1 == prefix {
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
    let meta = serde_json::json!({
        "binary_format_major_version": 2,
        "binary_format_minor_version": 0,
        "build_epoch": 1_767_225_600u64,
        "database_type": database_type,
        "description": {"en": "trailwatch test database"},
        "ip_version": 4,
        "languages": ["en"],
        "node_count": count,
        "record_size": 24,
    });
    // The metadata's small integers are uint16 where the format says so.
    let mut m = Vec::new();
    let obj = meta.as_object().expect("object");
    map_header(&mut m, obj.len());
    for (k, v) in obj {
        string(&mut m, k);
        match k.as_str() {
            "binary_format_major_version"
            | "binary_format_minor_version"
            | "record_size"
            | "ip_version" => uint(&mut m, 5, v.as_u64().expect("int")),
            "build_epoch" => uint(&mut m, 9, v.as_u64().expect("int")),
            _ => value(&mut m, v),
        }
    }
    out.extend(m);
    out
}

/// An ASN database (`GeoLite2-ASN` records) with `networks`.
pub fn asn_database(networks: &[AsNetwork<'_>]) -> Vec<u8> {
    let entries: Vec<([u8; 4], u8, serde_json::Value)> = networks
        .iter()
        .map(|n| {
            (
                n.network,
                n.prefix,
                serde_json::json!({
                    "autonomous_system_number": n.number,
                    "autonomous_system_organization": n.organization,
                }),
            )
        })
        .collect();
    database("GeoLite2-ASN", &entries)
}

/// A City database (`GeoLite2-City` records) placing 203.0.113.0/24 in Amsterdam.
pub fn city_database() -> Vec<u8> {
    let amsterdam = serde_json::json!({
        "city": {"names": {"en": "Amsterdam"}},
        "continent": {"code": "EU", "names": {"en": "Europe"}},
        "country": {"iso_code": "NL", "names": {"en": "Netherlands"}},
        "location": {"latitude": 52.3759, "longitude": 4.8975},
        "subdivisions": [{"iso_code": "NH", "names": {"en": "North Holland"}}],
    });
    database("GeoLite2-City", &[([203, 0, 113, 0], 24, amsterdam)])
}

/// The test City database, written once per test binary under the target directory.
pub fn test_city_database() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("trailwatch-test-city-{}.mmdb", std::process::id()));
        std::fs::write(&path, city_database()).expect("write the test City database");
        path
    })
    .clone()
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
