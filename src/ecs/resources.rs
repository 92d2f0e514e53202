//! `aws.cloudtrail.resources`: the pipeline's "drops duplicates" script. Each resource map is
//! copied with `ARN` renamed to `arn` and `accountId` to `account_id`, and stored in a `HashMap`
//! keyed by `arn + "_" + account_id + "_" + type`; the list becomes that map's values (a later
//! duplicate replaces the earlier one's value, keeping its place; order is HashMap order).

use super::java_map::{hashmap_order, is_dropped, java_map_to_string};
use super::json_walk::{visit_json, visit_leaves, visit_objects, visit_path, PrunedJson};
use crate::engine::{Document, Value};
use serde_json::Value as Json;

/// The resource objects as the pipeline leaves them (renames are applied at lookup by
/// [`ResourceDoc`]). A `resources` value that is not a list is kept as it is.
pub(crate) fn dedup_resources(resources: Option<&Json>) -> Vec<&Json> {
    let Some(resources) = resources else {
        return Vec::new();
    };
    let Some(list) = resources.as_array() else {
        return vec![resources];
    };
    let mut unique: Vec<(String, &Json)> = Vec::new();
    for r in list.iter().filter(|r| r.is_object() && !is_dropped(r)) {
        let doc = ResourceDoc(r);
        let part = |k: &str| {
            doc.renamed(k)
                .and_then(java_map_to_string)
                .unwrap_or_default()
        };
        let key = format!("{}_{}_{}", part("arn"), part("account_id"), part("type"));
        match unique.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = r,
            None => unique.push((key, r)),
        }
    }
    let keys: Vec<&str> = unique.iter().map(|(k, _)| k.as_str()).collect();
    hashmap_order(&keys)
        .into_iter()
        .filter_map(|k| unique.iter().find(|(uk, _)| uk == k).map(|(_, r)| *r))
        .collect()
}

/// One resource, with the pipeline's renames applied at lookup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceDoc<'a>(pub(crate) &'a Json);

impl<'a> ResourceDoc<'a> {
    fn field(&self, key: &str) -> Option<&'a Json> {
        self.0.get(key).filter(|v| !is_dropped(v))
    }

    /// The value of the renamed key `arn`/`account_id` (`ARN` and `accountId` win over keys
    /// already spelled that way, as `resource['arn'] = resource.remove('ARN')` does), or of any
    /// other key.
    pub(crate) fn renamed(&self, key: &str) -> Option<&'a Json> {
        match key {
            "arn" => self.field("ARN").or_else(|| self.field("arn")),
            "account_id" => self.field("accountId").or_else(|| self.field("account_id")),
            "ARN" | "accountId" => None,
            other => self.field(other),
        }
    }

    /// Leaves other than `arn`, `account_id`, `type` (the view lists those itself), with paths
    /// under `aws.cloudtrail.resources.`.
    pub(crate) fn any_extra_leaf(
        &self,
        buf: &mut String,
        visit: &mut dyn FnMut(&str, Value<'_>) -> bool,
    ) -> bool {
        let Some(m) = self.0.as_object() else {
            return false;
        };
        m.iter()
            .filter(|(k, v)| {
                !matches!(
                    k.as_str(),
                    "ARN" | "arn" | "accountId" | "account_id" | "type"
                ) && !is_dropped(v)
            })
            .any(|(k, v)| {
                buf.clear();
                buf.push_str("aws.cloudtrail.resources.");
                buf.push_str(k);
                visit_leaves(v, buf, visit)
            })
    }
}

impl Document for ResourceDoc<'_> {
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        match path {
            "arn" | "account_id" | "ARN" | "accountId" => {
                self.renamed(path).is_some_and(|v| visit_json(v, visit))
            }
            _ => visit_path(self.0, path, visit),
        }
    }

    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
        ["arn", "account_id", "type"]
            .into_iter()
            .any(|k| self.any_value(k, &mut |v| visit(k, v)))
            || {
                let mut buf = String::new();
                self.any_extra_leaf(&mut buf, &mut |p, v| {
                    visit(p.trim_start_matches("aws.cloudtrail.resources."), v)
                })
            }
    }

    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool {
        visit_objects(self.0, path, &mut |o| visit(&PrunedJson(o)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_collapse_and_keys_are_renamed() {
        let v = json!([
            {"ARN": "arn:a", "accountId": "1", "type": "T"},
            {"ARN": "arn:a", "accountId": "1", "type": "T"},
            {"ARN": "arn:b", "accountId": "1", "type": "T"}
        ]);
        let rs = dedup_resources(Some(&v));
        assert_eq!(rs.len(), 2);
        let mut arns = Vec::new();
        for r in &rs {
            ResourceDoc(r).any_value("arn", &mut |x| {
                arns.push(format!("{x:?}"));
                false
            });
            assert!(!ResourceDoc(r).any_value("ARN", &mut |_| true));
        }
        arns.sort();
        assert_eq!(arns, vec!["Str(\"arn:a\")", "Str(\"arn:b\")"]);
    }
}
