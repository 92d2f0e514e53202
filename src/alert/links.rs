//! Console links for an alert: the CloudTrail event, and the RDS resource when the request names
//! one. Every value put into a URL is percent-encoded, and the region must look like a region, so
//! attacker text can neither change the host nor break out of the URL.
use super::model::{key, Alert};
use super::text::percent_encode;

/// An AWS region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`): lowercase letters, digits
/// and dashes only, so it is safe in a host name.
fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The console host for a region (China regions have their own console domain).
fn console_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("https://{region}.console.amazonaws.cn")
    } else {
        format!("https://{region}.console.aws.amazon.com")
    }
}

/// `https://<region>.console.aws.amazon.com/cloudtrailv2/home?region=<region>#/events/<eventID>`
pub fn cloudtrail_event(alert: &Alert) -> Option<String> {
    let region = alert.get_str(key::REGION).filter(|r| valid_region(r))?;
    let id = alert.get_str(key::EVENT_ID).filter(|s| !s.is_empty())?;
    Some(format!(
        "{}/cloudtrailv2/home?region={region}#/events/{}",
        console_host(region),
        percent_encode(id)
    ))
}

/// An RDS resource named by the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsResource {
    /// `db`, `cluster`, `snapshot`, `cluster-snapshot` or `global-cluster` (ARN resource types).
    pub kind: &'static str,
    pub id: String,
}

/// The RDS resource in the request parameters: the first of the identifier parameters that is
/// present, else an RDS ARN in `sourceArn`/`resourceName`. Identifiers given as ARNs are reduced
/// to their name.
pub fn rds_resource(alert: &Alert) -> Option<RdsResource> {
    if alert.get_str(key::PROVIDER) != Some("rds.amazonaws.com") {
        return None;
    }
    let params = alert.request_parameters()?;
    const IDS: [(&str, &str); 6] = [
        ("dBInstanceIdentifier", "db"),
        ("dBClusterIdentifier", "cluster"),
        ("dBSnapshotIdentifier", "snapshot"),
        ("dBClusterSnapshotIdentifier", "cluster-snapshot"),
        ("globalClusterIdentifier", "global-cluster"),
        ("targetDBInstanceIdentifier", "db"),
    ];
    for (param, kind) in IDS {
        if let Some(id) = params.get(param).and_then(|v| v.as_str()) {
            let id = match parse_rds_arn(id) {
                Some((_, name)) => name,
                None => id,
            };
            if !id.is_empty() {
                return Some(RdsResource {
                    kind,
                    id: id.to_string(),
                });
            }
        }
    }
    for param in ["sourceArn", "resourceName"] {
        if let Some((kind, name)) = params
            .get(param)
            .and_then(|v| v.as_str())
            .and_then(parse_rds_arn)
        {
            return Some(RdsResource {
                kind,
                id: name.to_string(),
            });
        }
    }
    None
}

/// `arn:<partition>:rds:<region>:<account>:<type>:<name>` → (type, name), for the types the
/// console can show.
fn parse_rds_arn(arn: &str) -> Option<(&'static str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (prefix, _partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    if prefix != "arn" || service != "rds" {
        return None;
    }
    let (_region, _account, kind, name) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let kind = match kind {
        "db" => "db",
        "cluster" => "cluster",
        "snapshot" => "snapshot",
        "cluster-snapshot" => "cluster-snapshot",
        "global-cluster" => "global-cluster",
        _ => return None,
    };
    (!name.is_empty()).then_some((kind, name))
}

/// The RDS console page of the resource.
pub fn rds_console(alert: &Alert) -> Option<String> {
    let region = alert.get_str(key::REGION).filter(|r| valid_region(r))?;
    let res = rds_resource(alert)?;
    let id = percent_encode(&res.id);
    let fragment = match res.kind {
        "db" => format!("database:id={id};is-cluster=false"),
        "cluster" => format!("database:id={id};is-cluster=true"),
        "snapshot" => format!("db-snapshot:id={id}"),
        "cluster-snapshot" => format!("db-cluster-snapshot:id={id}"),
        _ => format!("database:id={id};is-cluster=true"),
    };
    Some(format!(
        "{}/rds/home?region={region}#{fragment}",
        console_host(region)
    ))
}

/// The ARN of the RDS resource (for Chatbot's related resources), when account and region are
/// known.
pub fn rds_arn(alert: &Alert) -> Option<String> {
    let region = alert.get_str(key::REGION).filter(|r| valid_region(r))?;
    let account = alert
        .get_str(key::ACCOUNT)
        .filter(|a| a.bytes().all(|b| b.is_ascii_digit()))?;
    let res = rds_resource(alert)?;
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    if res.kind == "global-cluster" {
        return Some(format!(
            "arn:{partition}:rds::{account}:global-cluster:{}",
            res.id
        ));
    }
    Some(format!(
        "arn:{partition}:rds:{region}:{account}:{}:{}",
        res.kind, res.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(params: serde_json::Value, region: &str) -> Alert {
        Alert::from_fields(vec![
            (key::PROVIDER.into(), json!("rds.amazonaws.com")),
            (key::REGION.into(), json!(region)),
            (key::ACCOUNT.into(), json!("111122223333")),
            (key::EVENT_ID.into(), json!("e/1#x")),
            (key::FLAT_REQUEST_PARAMETERS.into(), params),
        ])
    }

    #[test]
    fn cloudtrail_link_encodes_the_event_id() {
        let a = alert(json!({}), "us-east-1");
        assert_eq!(
            cloudtrail_event(&a).as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e%2F1%23x")
        );
    }

    #[test]
    fn hostile_region_gives_no_link() {
        let a = alert(json!({"dBInstanceIdentifier": "db1"}), "evil.com/x?");
        assert_eq!(cloudtrail_event(&a), None);
        assert_eq!(rds_console(&a), None);
    }

    #[test]
    fn snapshot_arn_in_source_arn_links_the_snapshot() {
        let a = alert(
            json!({"sourceArn": "arn:aws:rds:us-east-1:111122223333:snapshot:prod-1"}),
            "us-east-1",
        );
        assert_eq!(
            rds_console(&a).as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#db-snapshot:id=prod-1")
        );
        assert_eq!(
            rds_arn(&a).as_deref(),
            Some("arn:aws:rds:us-east-1:111122223333:snapshot:prod-1")
        );
    }

    #[test]
    fn instance_identifier_links_the_database() {
        let a = alert(json!({"dBInstanceIdentifier": "db 1"}), "eu-west-1");
        assert_eq!(
            rds_console(&a).as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/rds/home?region=eu-west-1#database:id=db%201;is-cluster=false")
        );
    }
}
