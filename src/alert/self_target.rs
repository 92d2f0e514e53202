//! Self-defence: does an alert's call target trailwatch's own function, topic, trail or trail
//! bucket? An attacker who wants to act unseen blinds the detector first (stops its trail, empties
//! its bucket's notification, deletes or throttles its function, unsubscribes its responders), so
//! such an alert must stand out from the same call on any other resource.
//!
//! The comparison uses only the call's *target* parameters, per service (a `name` parameter means a
//! trail only on cloudtrail.amazonaws.com), plus the resource ARNs CloudTrail lists; it never
//! guesses from free text, so a look-alike name (`trailwatch-old`) does not match.
use serde_json::Value as Json;

use super::model::{key, Alert};
use crate::config::Config;

/// `true` when the call targets one of trailwatch's own resources.
pub const TARGETS_SELF: &str = "trailwatch.targets_self";
/// Which of trailwatch's resources it targets, e.g. `Lambda function trailwatch-Detector-1A2B`.
pub const SELF_RESOURCE: &str = "trailwatch.self_resource";

const RESPONSE_ELEMENTS: &str = "aws.cloudtrail.response_elements";

const SENTENCE_START: &str = "This call targets trailwatch itself: ";

/// The names of trailwatch's own resources, as the running function knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfNames {
    /// The detector function's name (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda).
    pub function_name: Option<String>,
    /// The alert topic's ARN (`ALERT_TOPIC_ARN`).
    pub topic_arn: Option<String>,
    /// The bucket CloudTrail writes to and trailwatch reads (`TRAIL_BUCKET`).
    pub trail_bucket: Option<String>,
    /// The trail trailwatch reads, by name or ARN (`TRAIL_NAME`).
    pub trail_name: Option<String>,
}

impl SelfNames {
    pub fn from_config(config: &Config) -> SelfNames {
        SelfNames {
            function_name: config.function_name.clone(),
            topic_arn: config.topic_arn.clone(),
            trail_bucket: config.trail_bucket.clone(),
            trail_name: config.trail_name.clone(),
        }
    }

    /// Which of these resources the alert's call targets, described for a reader
    /// (`Lambda function NAME`), or `None`.
    pub fn target_of(&self, alert: &Alert) -> Option<String> {
        let params = alert.request_parameters();
        let param = |name: &str| -> Option<&str> { params.and_then(|p| p.get(name)?.as_str()) };
        let arns = alert.get_strs(key::RESOURCE_ARNS);
        match alert.get_str(key::PROVIDER)? {
            "lambda.amazonaws.com" => {
                let own = self.function_name.as_deref()?;
                // Event source mapping calls name only the mapping's UUID in the request; the
                // function's ARN is in the response (`functionArn`), which the alert holds in its
                // string form when the rule lists `aws.cloudtrail.response_elements`.
                let named = param("functionName").is_some_and(|f| function_matches(f, own))
                    || alert
                        .get_str(RESPONSE_ELEMENTS)
                        .and_then(function_arn_in)
                        .is_some_and(|f| function_matches(f, own))
                    || arns.iter().any(|a| function_matches(a, own));
                named.then(|| format!("its Lambda function {own}"))
            }
            "sns.amazonaws.com" => {
                let own = self.topic_arn.as_deref()?;
                let subscription_of_own = |s: &str| {
                    s.strip_prefix(own)
                        .is_some_and(|rest| rest.starts_with(':'))
                };
                let named = param("topicArn").is_some_and(|t| t == own)
                    || param("subscriptionArn").is_some_and(subscription_of_own)
                    || arns.contains(&own);
                named.then(|| format!("its alert topic {own}"))
            }
            "s3.amazonaws.com" => {
                let own = self.trail_bucket.as_deref()?;
                let own_arn = format!("arn:aws:s3:::{own}");
                let named = param("bucketName").is_some_and(|b| b == own)
                    || arns.iter().any(|a| *a == own_arn);
                named.then(|| format!("the CloudTrail bucket it reads, {own}"))
            }
            "cloudtrail.amazonaws.com" => {
                let own = self.trail_name.as_deref()?;
                let named = ["name", "trailName"]
                    .iter()
                    .filter_map(|p| param(p))
                    .chain(arns.iter().copied())
                    .any(|t| trail_matches(t, own));
                named.then(|| format!("the trail it reads, {own}"))
            }
            _ => None,
        }
    }
}

/// Marks `alert` when its call targets one of trailwatch's own resources: sets
/// [`TARGETS_SELF`] and [`SELF_RESOURCE`], and puts the sentence "This call targets trailwatch
/// itself: ..." at the start of the reason (the email and Slack renderings and the subject show it
/// too). Returns whether it matched. Marking twice changes nothing more.
pub fn mark_self_target(alert: &mut Alert, names: &SelfNames) -> bool {
    let Some(resource) = names.target_of(alert) else {
        return false;
    };
    let sentence = format!("{SENTENCE_START}{resource}.");
    let reason = alert.get_str(key::REASON).unwrap_or_default();
    if !reason.starts_with(SENTENCE_START) {
        let reason = format!("{sentence} {reason}");
        alert.set(key::REASON, reason.trim_end());
    }
    alert.set(TARGETS_SELF, true);
    alert.set(SELF_RESOURCE, resource);
    true
}

/// The sentence for the top of a rendering, when the alert is marked.
pub(crate) fn notice(alert: &Alert) -> Option<String> {
    if alert.get(TARGETS_SELF).and_then(Json::as_bool) != Some(true) {
        return None;
    }
    let resource = alert
        .get_str(SELF_RESOURCE)
        .unwrap_or("one of its resources");
    Some(format!("{SENTENCE_START}{resource}."))
}

/// A Lambda `FunctionName` parameter in any of its documented forms (name, `NAME:qualifier`,
/// ARN, partial ARN `ACCOUNT:function:NAME`) names the function `own`.
fn function_matches(value: &str, own: &str) -> bool {
    let name = match value.split_once(":function:") {
        Some((_, rest)) => rest,
        None => value,
    };
    // What follows the name is a version or alias qualifier.
    let name = name.split(':').next().unwrap_or(name);
    name == own || value == own
}

/// A trail given by name or ARN (`arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME`) is `own`, itself
/// a name or an ARN.
fn trail_matches(value: &str, own: &str) -> bool {
    let short = |s: &str| -> String {
        match s.rsplit_once(":trail/") {
            Some((_, name)) => name.to_owned(),
            None => s.to_owned(),
        }
    };
    value == own || short(value) == short(own)
}

/// The `functionArn=...` value in the string form of response elements (`{k=v, k2=v2}`, see
/// `docs/elastic-semantics.md` §4). ARNs hold no `,` `}` or space, so the value ends at the first.
fn function_arn_in(response: &str) -> Option<&str> {
    let start = response.find("functionArn=")? + "functionArn=".len();
    let rest = &response[start..];
    let end = rest.find([',', '}', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
#[path = "self_target_tests.rs"]
mod tests;
