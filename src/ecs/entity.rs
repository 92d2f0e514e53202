//! The `script_append_related_entity` processor of the CloudTrail pipeline, which runs only when
//! the integration's `actor_target_mapping` option is on: `related.entity`, `actor.entity.id`,
//! `target.entity.id` and their typed variants (`user.`/`host.`/`service.target.entity.id`,
//! `entity.target.id`, `user.`/`host.`/`service.entity.id`, `entity.id`).
//!
//! Painless quirks reproduced: a field that holds anything but a string (a list, a number) where
//! the script expects a string makes the whole script fail, leaving none of these fields;
//! `addValues` stops adding at the first value that is null or already present
//! (`addedAll = addedAll && addValue(..)`); the sets are `TreeSet`s (sorted).

use super::java_map::is_dropped;
use super::json_walk::get_path;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// The script's output; `None` from [`entities`] when the script failed or did not run.
#[derive(Debug, Default)]
pub(crate) struct Entities<'a> {
    pub(crate) related: Vec<Cow<'a, str>>,
    pub(crate) target: Vec<Cow<'a, str>>,
    pub(crate) user_targets: Vec<Cow<'a, str>>,
    pub(crate) host_targets: Vec<Cow<'a, str>>,
    pub(crate) service_targets: Vec<Cow<'a, str>>,
    pub(crate) generic_targets: Vec<Cow<'a, str>>,
    pub(crate) actor: Option<&'a Json>,
    /// Which of `user.entity.id`, `host.entity.id`, `service.entity.id`, `entity.id` holds the
    /// actor.
    pub(crate) actor_kind: ActorKind,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActorKind {
    #[default]
    Generic,
    User,
    Host,
    Service,
}

/// The script failed (a Painless `ClassCastException` or missing-method error).
pub(crate) struct Failed;

pub(crate) type Set<'a> = BTreeSet<Cow<'a, str>>;

pub(crate) struct Acc<'a> {
    pub(crate) rec: &'a Json,
    pub(crate) related: Set<'a>,
    pub(crate) target: Set<'a>,
    pub(crate) actor: Option<&'a Json>,
}

fn path(p: &str) -> Vec<&str> {
    p.split('.').collect()
}

impl<'a> Acc<'a> {
    pub(crate) fn field(&self, p: &str) -> Option<&'a Json> {
        get_path(self.rec, &path(p))
    }

    /// `addValue(set, value)`: false for null/"" or a value already present.
    pub(crate) fn add_value(set: &mut Set<'a>, v: Option<&'a Json>) -> Result<bool, Failed> {
        match v {
            None => Ok(false),
            Some(Json::String(s)) if s.is_empty() => Ok(false),
            Some(Json::String(s)) => Ok(set.insert(Cow::Borrowed(s.as_str()))),
            Some(_) => Err(Failed),
        }
    }

    pub(crate) fn add_field(&self, set: &mut Set<'a>, p: &str) -> Result<(), Failed> {
        Self::add_value(set, self.field(p)).map(|_| ())
    }

    pub(crate) fn add_fields(&self, set: &mut Set<'a>, ps: &[&str]) -> Result<(), Failed> {
        ps.iter().try_for_each(|p| self.add_field(set, p))
    }

    /// `addValues`: every element is cast to `String` by the loop, but adding stops after the
    /// first `false`.
    pub(crate) fn add_values(set: &mut Set<'a>, vs: &[Option<&'a Json>]) -> Result<(), Failed> {
        if vs.iter().flatten().any(|v| !v.is_string()) {
            return Err(Failed);
        }
        let mut all = true;
        for v in vs {
            all = all && Self::add_value(set, *v)?;
        }
        Ok(())
    }

    /// `$(p, []).stream()`: the list at `p` (a non-list fails).
    /// `$(p, []).stream()`: the kept elements of the list at `p` (a non-list fails).
    pub(crate) fn list(&self, p: &str) -> Result<Vec<&'a Json>, Failed> {
        match self.field(p) {
            None => Ok(Vec::new()),
            Some(v) => kept(v),
        }
    }

    pub(crate) fn related(&mut self, ps: &[&str]) -> Result<(), Failed> {
        let mut set = std::mem::take(&mut self.related);
        let r = self.add_fields(&mut set, ps);
        self.related = set;
        r
    }

    pub(crate) fn target(&mut self, ps: &[&str]) -> Result<(), Failed> {
        let mut set = std::mem::take(&mut self.target);
        let r = self.add_fields(&mut set, ps);
        self.target = set;
        r
    }

    /// `$(list, []).stream().forEach(f -> addValue(set, f.key))`.
    pub(crate) fn each_member(
        &mut self,
        to_target: bool,
        list: &str,
        key: &str,
    ) -> Result<(), Failed> {
        for item in self.list(list)? {
            let v = member(item, key)?;
            let set = if to_target {
                &mut self.target
            } else {
                &mut self.related
            };
            Self::add_value(set, v)?;
        }
        Ok(())
    }
}

/// The elements of a list the pipeline keeps (its remove-nulls script ran before); a non-list
/// fails, as `.stream()` on it would.
pub(crate) fn kept(v: &Json) -> Result<Vec<&Json>, Failed> {
    match v {
        Json::Array(a) => Ok(a.iter().filter(|x| !is_dropped(x)).collect()),
        _ => Err(Failed),
    }
}

/// `item.key` in Painless: null-safe on a missing key, an error on a non-map.
pub(crate) fn member<'a>(item: &'a Json, key: &str) -> Result<Option<&'a Json>, Failed> {
    match item {
        Json::Object(m) => Ok(m.get(key).filter(|v| !is_dropped(v))),
        Json::Null => Ok(None),
        _ => Err(Failed),
    }
}

/// Runs the script over `rec` (the pipeline only runs it when `eventName` is set).
pub(crate) fn entities(rec: &Json) -> Option<Entities<'_>> {
    let name = get_path(rec, &["eventName"])?.as_str()?;
    let source = match get_path(rec, &["eventSource"]) {
        None => "",
        Some(v) => v.as_str()?, // `String eventSource = $(..)`: a non-string fails the script
    };
    let mut acc = Acc {
        rec,
        related: Set::new(),
        target: Set::new(),
        actor: None,
    };
    acc.actor = acc
        .field("userIdentity.arn")
        .or_else(|| acc.field("userIdentity.onBehalfOf.userId"));
    super::entity_services::run(&mut acc, source, name).ok()?;
    Some(classify(acc, rec))
}

const USER_RESOURCE_TYPES: &[&str] = &[
    "user",
    "role",
    "assumed-role",
    "federated-user",
    "instance-profile",
    "mfa",
    "serialNumber",
];
const HOST_RESOURCE_TYPES: &[&str] = &["instance", "volume", "snapshot", "image"];
const SERVICE_RESOURCE_TYPES: &[&str] = &[
    "stack",
    "stack-set",
    "trail",
    "configuration-recorder",
    "file-system",
    "mount-target",
    "rule",
    "detector",
    "key",
    "function",
    "log-group",
    "log-stream",
    "alarm",
    "db",
    "cluster",
    "global-cluster",
    "trust-anchor",
    "resolver-query-log-config",
    "secret",
    "parameter",
    "document",
    "session",
    "webacl",
    "rulegroup",
    "ipset",
    "topic",
    "model",
    "loadbalancer",
    "table",
    "group",
    "policy",
    "security-group",
    "network-interface",
    "vpc",
    "subnet",
    "network-acl",
    "dhcp-options",
];
const HOST_ID_PREFIXES: &[&str] = &["i-", "vol-", "snap-", "ami-"];
const SERVICE_ID_PREFIXES: &[&str] = &[
    "sg-", "sgr-", "eni-", "vpc-", "subnet-", "acl-", "rtb-", "igw-", "nat-", "vpce-", "tgw-",
    "pcx-",
];

/// The resource type of an ARN (`arn:p:svc:region:acct:type/id` → `type`), and its service.
fn arn_parts(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return None;
    }
    let resource = parts[5];
    let ty = match resource.find('/') {
        Some(i) if i > 0 => &resource[..i],
        _ => resource,
    };
    Some((parts[2], ty))
}

fn classify<'a>(acc: Acc<'a>, rec: &'a Json) -> Entities<'a> {
    let mut out = Entities {
        actor: acc.actor,
        ..Entities::default()
    };
    for t in &acc.target {
        let s: &str = t;
        let service_role = s.contains("/AWSServiceRoleFor") || s.contains("/aws-service-role/");
        let bucket = if s.starts_with("arn:") {
            match arn_parts(s) {
                Some(_) if service_role => Some(&mut out.service_targets),
                Some((_, ty)) if USER_RESOURCE_TYPES.contains(&ty) => Some(&mut out.user_targets),
                Some((_, ty)) if HOST_RESOURCE_TYPES.contains(&ty) => Some(&mut out.host_targets),
                Some((_, ty)) if SERVICE_RESOURCE_TYPES.contains(&ty) => {
                    Some(&mut out.service_targets)
                }
                Some(("s3", _)) => Some(&mut out.service_targets),
                _ => None,
            }
        } else if s.encode_utf16().count() == 20 && s.starts_with("AKIA") {
            Some(&mut out.user_targets)
        } else if HOST_ID_PREFIXES.iter().any(|p| s.starts_with(p)) {
            Some(&mut out.host_targets)
        } else if SERVICE_ID_PREFIXES.iter().any(|p| s.starts_with(p)) {
            Some(&mut out.service_targets)
        } else {
            None
        };
        bucket.unwrap_or(&mut out.generic_targets).push(t.clone());
    }
    let mut related = acc.related;
    related.extend(acc.target.iter().cloned());
    out.target = acc.target.into_iter().collect();
    out.related = related.into_iter().collect();
    if let Some(actor) = acc.actor {
        let user_type = get_path(rec, &["userIdentity", "type"]).and_then(Json::as_str);
        let text = match actor {
            Json::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(super::java_map_to_string(other).unwrap_or_default()),
        };
        let service_role =
            text.contains("/AWSServiceRoleFor") || text.contains("/aws-service-role/");
        out.actor_kind = if user_type == Some("AWSService") || service_role {
            ActorKind::Service
        } else if matches!(user_type, Some("IAMUser" | "Root" | "AssumedRole")) {
            ActorKind::User
        } else if text.starts_with("arn:") {
            match arn_parts(&text) {
                Some((_, "user" | "role" | "assumed-role" | "federated-user")) => ActorKind::User,
                Some((_, "instance")) => ActorKind::Host,
                _ if text.starts_with("i-") => ActorKind::Host,
                _ => ActorKind::Generic,
            }
        } else if text.starts_with("i-") {
            ActorKind::Host
        } else {
            ActorKind::Generic
        };
    }
    out
}
