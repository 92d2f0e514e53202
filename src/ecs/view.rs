//! [`CloudTrailView`]: one CloudTrail record read as the ECS document Elastic's CloudTrail ingest
//! pipeline makes of it (elastic/integrations `packages/aws/data_stream/cloudtrail`,
//! `elasticsearch/ingest_pipeline/default.yml`, the version that drops `"-"`/`"none"` and copies
//! `recipientAccountId` into `cloud.account.id`; elastic-semantics.md §4).
//!
//! Nothing is copied: [`Document::any_value`] is a `match` on the ECS path that reads the
//! CloudTrail field the pipeline renames into it. The few values the pipeline computes are
//! computed on first read and cached in the view so they can be lent out.

use super::derived::{categorization, iso8601_to_es, lowercase_cow, split_tls_version};
use super::enriched;
use super::entity::{entities, ActorKind, Entities};
use super::geoip::{AsInfo, Enrichment, GeoInfo};
use super::java_map::{java_len, java_len_upper_bound, java_map_to_string};
use super::json_walk::{
    get_path, get_str, visit_json, visit_leaves, visit_objects, visit_path, PrunedJson,
};
use super::paths::{Blob, FLATTENED_LIMIT, FLATTENED_ROOTS, IGNORE_ABOVE};
use super::resources::{dedup_resources, ResourceDoc};
use super::schema;
use super::user_agent::{parse_user_agent, UserAgent};

/// The view's answer for each ECS path (`impl Document`).
mod document;
use crate::engine::{Document, Value};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

/// Values computed on first read.
#[derive(Debug, Default)]
struct Cache<'a> {
    timestamp: OnceCell<Option<String>>,
    creation_date: OnceCell<Option<String>>,
    strings: [OnceCell<Option<String>>; 4],
    /// Whether each blob's string form is short enough for the flattened copy.
    flattened_kept: [OnceCell<bool>; 4],
    outcome: OnceCell<Cow<'a, str>>,
    tls_protocol: OnceCell<Option<Cow<'a, str>>>,
    resources: OnceCell<Vec<&'a Json>>,
    related_user: OnceCell<Vec<&'a str>>,
    entities: OnceCell<Option<Entities<'a>>>,
    /// Enrichment, computed only when a `user_agent.*` (other than `original`), `source.as.*` or
    /// `source.geo.*` field is read.
    user_agent: OnceCell<Option<Arc<UserAgent>>>,
    // Boxed: a view that never reads them (most) stays small to create.
    as_info: OnceCell<Option<Box<AsInfo>>>,
    geo: OnceCell<Option<Box<GeoInfo>>>,
}

/// Options of the Elastic integration that change the document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// The integration's `actor_target_mapping` option (its `actor_target_mapping` tag): adds
    /// `related.entity`, `actor.entity.id`, `target.entity.id` and their typed variants.
    pub actor_target_mapping: bool,
}

/// One CloudTrail record (an element of `Records`) seen as the ECS document Elastic's CloudTrail
/// ingest pipeline produces from it. See the module documentation of [`crate::ecs`].
#[derive(Debug)]
pub struct CloudTrailView<'a> {
    rec: &'a Json,
    options: ViewOptions,
    enrichment: &'a Enrichment,
    cache: Cache<'a>,
}

impl<'a> CloudTrailView<'a> {
    /// A view over `record` (anything but an object reads as an empty document).
    pub fn new(record: &'a Json) -> Self {
        Self::with_options(record, ViewOptions::default())
    }

    /// A view over `record` as the integration configured with `options` indexes it.
    /// `user_agent.*` is parsed (when the build has uap-core's regexes); `source.as.*` and
    /// `source.geo.*` are absent: see [`CloudTrailView::with_enrichment`].
    pub fn with_options(record: &'a Json, options: ViewOptions) -> Self {
        Self::with_enrichment(record, options, &Enrichment::NONE)
    }

    /// A view that also answers `source.as.*` / `source.geo.*` from `enrichment`'s databases
    /// (opened once per process, shared by every view).
    pub fn with_enrichment(
        record: &'a Json,
        options: ViewOptions,
        enrichment: &'a Enrichment,
    ) -> Self {
        CloudTrailView {
            rec: record,
            options,
            enrichment,
            cache: Cache::default(),
        }
    }

    /// The record the view reads.
    pub fn record(&self) -> &'a Json {
        self.rec
    }

    fn get(&self, keys: &[&str]) -> Option<&'a Json> {
        get_path(self.rec, keys)
    }

    fn str(&self, keys: &[&str]) -> Option<&'a str> {
        get_str(self.rec, keys)
    }

    fn visit_src(&self, keys: &[&str], visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        self.get(keys).is_some_and(|v| visit_json(v, visit))
    }

    /// The stored string of `aws.cloudtrail.request_parameters`, `response_elements`,
    /// `additional_eventdata` or `service_event_details`, including one longer than the mapping's
    /// `ignore_above` (which [`Document::any_value`] does not report, because Elasticsearch does
    /// not index it: no query matches it). For display in alerts.
    pub fn stored_string(&self, path: &str) -> Option<&str> {
        Blob::from_string_path(path).and_then(|b| self.blob_string(b))
    }

    fn blob_string(&self, b: Blob) -> Option<&str> {
        self.cache.strings[b as usize]
            .get_or_init(|| self.get(&[b.source_key()]).and_then(java_map_to_string))
            .as_deref()
    }

    /// The searchable string: absent when longer than `ignore_above`.
    fn indexed_blob_string(&self, b: Blob) -> Option<&str> {
        let s = self.blob_string(b)?;
        let too_long = b.has_ignore_above() && s.len() > IGNORE_ABOVE && java_len(s) > IGNORE_ABOVE;
        (!too_long).then_some(s)
    }

    /// The object under `aws.cloudtrail.flattened.<root>`, if the pipeline copied it (only when
    /// its string form is shorter than 32,766; decided once per view, usually from a bound on
    /// the size without building the string).
    fn flattened_root(&self, source_key: &str, blob: Option<Blob>) -> Option<&'a Json> {
        let v = self.get(&[source_key])?;
        let kept = match blob {
            None => true,
            Some(b) => *self.cache.flattened_kept[b as usize].get_or_init(|| {
                java_len_upper_bound(v) < FLATTENED_LIMIT
                    || self
                        .blob_string(b)
                        .is_some_and(|s| java_len(s) < FLATTENED_LIMIT)
            }),
        };
        kept.then_some(v)
    }

    fn event_action(&self) -> Option<&'a str> {
        self.str(&["eventName"])
    }

    fn identity_type(&self) -> Option<&'a str> {
        self.str(&["userIdentity", "type"])
    }

    fn is_role_session(&self) -> bool {
        matches!(self.identity_type(), Some("AssumedRole" | "FederatedUser"))
    }

    /// `user.name`: `userIdentity.userName`, replaced by the session issuer's `userName` for
    /// `AssumedRole` and `FederatedUser` (the role, not the session); for `UserAuthentication`
    /// without either, `additionalEventData.UserName`.
    fn user_name(&self) -> Option<&'a Json> {
        let issuer = || {
            self.get(&[
                "userIdentity",
                "sessionContext",
                "sessionIssuer",
                "userName",
            ])
        };
        let from_issuer = if self.is_role_session() {
            issuer()
        } else {
            None
        };
        from_issuer
            .or_else(|| self.get(&["userIdentity", "userName"]))
            .or_else(|| {
                (self.event_action() == Some("UserAuthentication"))
                    .then(|| self.get(&["additionalEventData", "UserName"]))
                    .flatten()
            })
    }

    /// `user.id`: `userIdentity.principalId`; for `IdentityCenterUser` without one,
    /// `userIdentity.onBehalfOf.userId`.
    fn user_id(&self) -> Option<&'a Json> {
        self.get(&["userIdentity", "principalId"]).or_else(|| {
            (self.identity_type() == Some("IdentityCenterUser"))
                .then(|| self.get(&["userIdentity", "onBehalfOf", "userId"]))
                .flatten()
        })
    }

    /// `user.changes.name`: `requestParameters.newUserName` (a `set` that runs last), else for
    /// role sessions the grok `arn:aws:sts:.*/%{GREEDYDATA:user.changes.name}$` on the identity
    /// ARN, i.e. the session name.
    fn visit_user_changes_name(&self, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        match self.get(&["requestParameters", "newUserName"]) {
            Some(v) => visit_json(v, visit),
            None => self
                .session_name_from_arn()
                .is_some_and(|s| visit(Value::Str(s))),
        }
    }

    fn session_name_from_arn(&self) -> Option<&'a str> {
        if !self.is_role_session() {
            return None;
        }
        let arn = self.str(&["userIdentity", "arn"])?;
        let after = &arn[arn.find("arn:aws:sts:")? + "arn:aws:sts:".len()..];
        let name = &after[after.rfind('/')? + 1..];
        (!name.is_empty()).then_some(name)
    }

    fn cloud_account_id(&self) -> Option<&'a Json> {
        self.get(&["userIdentity", "accountId"])
            .or_else(|| self.get(&["recipientAccountId"]))
            .or_else(|| self.get(&["awsAccountId"]))
    }

    fn outcome(&self) -> &str {
        self.cache.outcome.get_or_init(|| {
            if self.event_action() == Some("ConsoleLogin") {
                if let Some(s) = self.str(&["responseElements", "ConsoleLogin"]) {
                    return lowercase_cow(s);
                }
            }
            let failed =
                self.get(&["errorCode"]).is_some() || self.get(&["errorMessage"]).is_some();
            Cow::Borrowed(if failed { "failure" } else { "success" })
        })
    }

    /// `tlsDetails`, unless it is the placeholder the pipeline removes (`tlsVersion: "tlsVersion"`).
    fn tls(&self, key: &str) -> Option<&'a Json> {
        if self.str(&["tlsDetails", "tlsVersion"]) == Some("tlsVersion") {
            return None;
        }
        self.get(&["tlsDetails", key])
    }

    fn tls_protocol(&self) -> Option<&str> {
        self.cache
            .tls_protocol
            .get_or_init(|| {
                let v = self.tls("tlsVersion")?.as_str()?;
                split_tls_version(v).0.map(lowercase_cow)
            })
            .as_deref()
    }

    fn visit_tls_version(&self, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        match self.tls("tlsVersion") {
            Some(Json::String(s)) => {
                let version = split_tls_version(s).1;
                !version.is_empty() && visit(Value::Str(version))
            }
            Some(other) => visit_json(other, visit),
            None => false,
        }
    }

    fn resources(&self) -> &[&'a Json] {
        self.cache
            .resources
            .get_or_init(|| dedup_resources(self.get(&["resources"])))
    }

    /// `related.user`: the pipeline's `append`s (duplicates dropped) of
    /// `requestParameters.userName`, `requestParameters.newUserName`,
    /// `responseElements.user.userId`, `user.id`, `user.name`, `user.changes.name`.
    fn related_user(&self) -> &[&'a str] {
        self.cache.related_user.get_or_init(|| {
            let mut out: Vec<&'a str> = Vec::new();
            let changes = match self.get(&["requestParameters", "newUserName"]) {
                Some(v) => v.as_str(),
                None => self.session_name_from_arn(),
            };
            let candidates = [
                self.str(&["requestParameters", "userName"]),
                self.str(&["requestParameters", "newUserName"]),
                self.str(&["responseElements", "user", "userId"]),
                self.user_id().and_then(Json::as_str),
                self.user_name().and_then(Json::as_str),
                changes,
            ];
            for s in candidates.into_iter().flatten() {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        })
    }

    /// `aws.cloudtrail.console_login.additional_eventdata.*`, set for `ConsoleLogin` only.
    fn console_login(&self, key: &str) -> Option<&'a Json> {
        if self.event_action() != Some("ConsoleLogin") {
            return None;
        }
        self.get(&["additionalEventData", key])
    }

    fn entities(&self) -> Option<&Entities<'a>> {
        if !self.options.actor_target_mapping {
            return None;
        }
        self.cache
            .entities
            .get_or_init(|| entities(self.rec))
            .as_ref()
    }

    fn visit_entity(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        let Some(e) = self.entities() else {
            return false;
        };
        let list = match path {
            "related.entity" => &e.related,
            "target.entity.id" => &e.target,
            "user.target.entity.id" => &e.user_targets,
            "host.target.entity.id" => &e.host_targets,
            "service.target.entity.id" => &e.service_targets,
            "entity.target.id" => &e.generic_targets,
            _ => {
                let kind = match path {
                    "actor.entity.id" => None,
                    "user.entity.id" => Some(ActorKind::User),
                    "host.entity.id" => Some(ActorKind::Host),
                    "service.entity.id" => Some(ActorKind::Service),
                    _ => Some(ActorKind::Generic),
                };
                return e
                    .actor
                    .filter(|_| kind.is_none_or(|k| k == e.actor_kind))
                    .is_some_and(|a| visit_json(a, visit));
            }
        };
        list.iter().any(|s| visit(Value::Str(s)))
    }

    /// `user_agent.*` but `original`: the agent parsed on first read (never when only `original`
    /// is read, so rules that do not ask pay nothing).
    fn visit_user_agent(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        let Some(rest) = path.strip_prefix("user_agent.") else {
            return false;
        };
        self.cache
            .user_agent
            .get_or_init(|| self.str(&["userAgent"]).and_then(parse_user_agent))
            .as_ref()
            .is_some_and(|ua| enriched::visit_user_agent(ua, rest, visit))
    }

    /// `source.as.*` / `source.geo.*`: looked up on first read, from `source.ip` (the pipeline's
    /// `geoip` processors read it, so a `sourceIPAddress` that is a host name gives nothing).
    fn visit_geo(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        let ip = || {
            self.str(&["sourceIPAddress"])
                .and_then(|s| s.parse::<std::net::IpAddr>().ok())
        };
        if let Some(rest) = path.strip_prefix("source.as.") {
            return self
                .cache
                .as_info
                .get_or_init(|| ip().and_then(|ip| self.enrichment.asn(ip)).map(Box::new))
                .as_ref()
                .is_some_and(|i| enriched::visit_as(i, rest, visit));
        }
        let Some(rest) = path.strip_prefix("source.geo.") else {
            return false;
        };
        self.cache
            .geo
            .get_or_init(|| ip().and_then(|ip| self.enrichment.geo(ip)).map(Box::new))
            .as_ref()
            .is_some_and(|g| enriched::visit_geo(g, rest, visit))
    }

    fn visit_strs(items: &[&str], visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        items.iter().any(|s| visit(Value::Str(s)))
    }

    fn visit_flattened(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        for (root, blob, key) in FLATTENED_ROOTS {
            let Some(rest) = path.strip_prefix(root) else {
                continue;
            };
            let Some(v) = self.flattened_root(key, blob) else {
                return false;
            };
            return match rest.strip_prefix('.') {
                None if rest.is_empty() => visit_json(v, visit),
                Some(tail) => visit_path(v, tail, visit),
                None => continue,
            };
        }
        false
    }

    /// True when some leaf below `path` has a value: `path` names an object of the document.
    fn is_object_path(&self, path: &str) -> bool {
        let below = |p: &str| {
            p.strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
        };
        schema::leaf_paths()
            .filter(|p| below(p))
            .any(|p| self.any_value(p, &mut |_| true))
            || (path == "aws.cloudtrail.resources" && !self.resources().is_empty())
    }
}
