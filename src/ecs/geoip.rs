//! `source.as.*` and `source.geo.*` from MaxMind-format databases, as the CloudTrail pipeline's two
//! `geoip` processors on `source.ip` make them (the ASN one renamed to `source.as.number` and
//! `source.as.organization.name`; the City one with Elasticsearch's default properties).
//!
//! The databases are opened once (cold start) into an [`Enrichment`] that every view of the
//! process shares read-only. Without one, its fields are absent, never guessed.

use maxminddb::{geoip2, Reader};
use serde_json::Number;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("GeoIP database {path}: {source}")]
pub struct GeoIpError {
    pub path: PathBuf,
    #[source]
    pub source: maxminddb::MaxMindDbError,
}

/// What the enrichment can produce beyond the record itself: the GeoIP databases, opened once
/// and shared by every view. `user_agent.*` needs no run-time data (the regexes are built in).
#[derive(Default)]
pub struct Enrichment {
    asn: Option<Reader<Vec<u8>>>,
    city: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Enrichment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrichment")
            .field(
                "asn",
                &self.asn.as_ref().map(|r| &r.metadata().database_type),
            )
            .field(
                "city",
                &self.city.as_ref().map(|r| &r.metadata().database_type),
            )
            .finish()
    }
}

fn open(path: &Path) -> Result<Reader<Vec<u8>>, GeoIpError> {
    Reader::open_readfile(path).map_err(|source| GeoIpError {
        path: path.to_path_buf(),
        source,
    })
}

/// `source.as.*`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AsInfo {
    pub number: Option<Number>,
    pub organization_name: Option<String>,
}

/// `source.geo.*`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoInfo {
    pub continent_name: Option<String>,
    pub country_iso_code: Option<String>,
    pub country_name: Option<String>,
    pub region_iso_code: Option<String>,
    pub region_name: Option<String>,
    pub city_name: Option<String>,
    /// (lat, lon)
    pub location: Option<(Number, Number)>,
}

impl Enrichment {
    /// No databases: `source.as.*`/`source.geo.*` absent.
    pub const NONE: Enrichment = Enrichment {
        asn: None,
        city: None,
    };

    /// Opens the databases given (a `None` path: that half stays absent).
    pub fn open(asn: Option<&Path>, city: Option<&Path>) -> Result<Self, GeoIpError> {
        Ok(Enrichment {
            asn: asn.map(open).transpose()?,
            city: city.map(open).transpose()?,
        })
    }

    pub fn has_asn(&self) -> bool {
        self.asn.is_some()
    }

    pub fn has_city(&self) -> bool {
        self.city.is_some()
    }

    /// The ASN processor's output for `ip` (`None`: no database, or no data for the address).
    pub fn asn(&self, ip: IpAddr) -> Option<AsInfo> {
        let reader = self.asn.as_ref()?;
        let rec: geoip2::Asn = reader.lookup(ip).ok()?.decode().ok()??;
        let info = AsInfo {
            number: rec.autonomous_system_number.map(Number::from),
            organization_name: rec.autonomous_system_organization.map(str::to_string),
        };
        (info != AsInfo::default()).then_some(info)
    }

    /// The City processor's output for `ip` with Elasticsearch's default properties; the region
    /// is the most specific subdivision, its ISO code prefixed with the country's.
    pub fn geo(&self, ip: IpAddr) -> Option<GeoInfo> {
        let reader = self.city.as_ref()?;
        let rec: geoip2::City = reader.lookup(ip).ok()?.decode().ok()??;
        let s = |o: Option<&str>| o.map(str::to_string);
        let sub = rec.subdivisions.last();
        let country_iso = rec.country.iso_code;
        let info = GeoInfo {
            continent_name: s(rec.continent.names.english),
            country_iso_code: s(country_iso),
            country_name: s(rec.country.names.english),
            region_iso_code: country_iso
                .zip(sub.and_then(|d| d.iso_code))
                .map(|(c, d)| format!("{c}-{d}")),
            region_name: s(sub.and_then(|d| d.names.english)),
            city_name: s(rec.city.names.english),
            location: rec
                .location
                .latitude
                .and_then(Number::from_f64)
                .zip(rec.location.longitude.and_then(Number::from_f64)),
        };
        (info != GeoInfo::default()).then_some(info)
    }
}
