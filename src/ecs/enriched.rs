//! The enrichment fields of the ECS view: `user_agent.*` (but `original`), `source.as.*`,
//! `source.geo.*`, answered from the parsed agent and the GeoIP records the view caches.

use super::geoip::{AsInfo, GeoInfo};
use super::user_agent::UserAgent;
use crate::engine::Value;

fn str_visit(s: Option<&str>, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
    s.is_some_and(|s| visit(Value::Str(s)))
}

/// `rest` is the path after `user_agent.`.
pub(crate) fn visit_user_agent(
    ua: &UserAgent,
    rest: &str,
    visit: &mut dyn FnMut(Value<'_>) -> bool,
) -> bool {
    match rest {
        "name" => visit(Value::Str(&ua.name)),
        "version" => str_visit(ua.version.as_deref(), visit),
        "os.name" => str_visit(ua.os_name.as_deref(), visit),
        "os.version" => str_visit(ua.os_version.as_deref(), visit),
        "os.full" => str_visit(ua.os_full.as_deref(), visit),
        "device.name" => visit(Value::Str(&ua.device_name)),
        "os" => ua.os_name.is_some() && visit(Value::Object),
        "device" => visit(Value::Object),
        _ => false,
    }
}

/// `rest` is the path after `source.as.`.
pub(crate) fn visit_as(
    info: &AsInfo,
    rest: &str,
    visit: &mut dyn FnMut(Value<'_>) -> bool,
) -> bool {
    match rest {
        "number" => info
            .number
            .as_ref()
            .is_some_and(|n| visit(Value::Number(n))),
        "organization.name" => str_visit(info.organization_name.as_deref(), visit),
        "organization" => info.organization_name.is_some() && visit(Value::Object),
        _ => false,
    }
}

/// `rest` is the path after `source.geo.`.
pub(crate) fn visit_geo(
    info: &GeoInfo,
    rest: &str,
    visit: &mut dyn FnMut(Value<'_>) -> bool,
) -> bool {
    match rest {
        "continent_name" => str_visit(info.continent_name.as_deref(), visit),
        "country_iso_code" => str_visit(info.country_iso_code.as_deref(), visit),
        "country_name" => str_visit(info.country_name.as_deref(), visit),
        "region_iso_code" => str_visit(info.region_iso_code.as_deref(), visit),
        "region_name" => str_visit(info.region_name.as_deref(), visit),
        "city_name" => str_visit(info.city_name.as_deref(), visit),
        "location.lat" => info
            .location
            .as_ref()
            .is_some_and(|(lat, _)| visit(Value::Number(lat))),
        "location.lon" => info
            .location
            .as_ref()
            .is_some_and(|(_, lon)| visit(Value::Number(lon))),
        // A geo_point: an object here (`exists` is what a rule asks of it).
        "location" => info.location.is_some() && visit(Value::Object),
        _ => false,
    }
}
