//! Values the CloudTrail pipeline computes rather than renames: dates, ECS categorisation, the TLS
//! version split. Each cites the processor of `default.yml` (elastic/integrations,
//! packages/aws/data_stream/cloudtrail/elasticsearch/ingest_pipeline/) it reproduces.

/// The `date` processor with format `ISO8601` and its default output format
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in UTC: `2019-10-02T22:12:29Z` → `2019-10-02T22:12:29.000Z`.
/// Accepts the extended ISO forms (`YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH[:MM]]`); anything else
/// fails the processor, which the pipeline ignores (`ignore_failure`), so the field stays unset —
/// e.g. the basic form `20131102T010628Z` of some `creationDate`s.
pub(crate) fn iso8601_to_es(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (month, day) = (num(5, 2)?, num(8, 2)?);
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    let mut i = 10;
    if b.get(i) == Some(&b'T') {
        hour = num(11, 2)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        minute = num(14, 2)?;
        i = 16;
        if b.get(i) == Some(&b':') {
            second = num(17, 2)?;
            i = 19;
            if matches!(b.get(i), Some(b'.' | b',')) {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                if i == start || i - start > 9 {
                    return None;
                }
                // Milliseconds: the first three fraction digits (the output format truncates).
                let frac = &s[start..i.min(start + 3)];
                millis = frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32);
            }
        }
    }
    let offset_minutes = match &s[i..] {
        "" | "Z" => 0,
        rest => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if !(digits.len() == 2 || digits.len() == 4)
                || !digits.bytes().all(|c| c.is_ascii_digit())
            {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = if digits.len() == 4 {
                digits[2..].parse().ok()?
            } else {
                0
            };
            sign * (h * 60 + m)
        }
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    ))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `event.category` and `event.type` from the "Add ECS categorization" script: its `params` table
/// keyed by `event.action`. Every event gets `event.type: [info]` first; a listed action replaces
/// both (an empty `type` list, e.g. `Publish`, is then removed by the final `remove_nulls`).
pub(crate) fn categorization(
    action: &str,
) -> Option<(&'static [&'static str], &'static [&'static str])> {
    const IAM: &[&str] = &["iam"];
    const AUTH: &[&str] = &["authentication"];
    const FILE: &[&str] = &["file"];
    const NET: &[&str] = &["network"];
    const HOST: &[&str] = &["host"];
    const API: &[&str] = &["api"];
    const CONF: &[&str] = &["configuration"];
    const DB: &[&str] = &["database"];
    const SESSION: &[&str] = &["session"];
    const GROUP_CHANGE: &[&str] = &["group", "change"];
    const USER_CHANGE: &[&str] = &["user", "change"];
    const GROUP_INFO: &[&str] = &["group", "info"];
    const USER_INFO: &[&str] = &["user", "info"];
    const ADMIN_CHANGE: &[&str] = &["admin", "change"];
    const INFO: &[&str] = &["info"];
    const CHANGE: &[&str] = &["change"];
    const CREATION: &[&str] = &["creation"];
    const DELETION: &[&str] = &["deletion"];
    const START: &[&str] = &["start"];
    const NONE: &[&str] = &[];
    Some(match action {
        "AddUserToGroup"
        | "AttachGroupPolicy"
        | "DeleteGroupPolicy"
        | "DetachGroupPolicy"
        | "PutGroupPolicy"
        | "RemoveUserFromGroup"
        | "UpdateGroup" => (IAM, GROUP_CHANGE),
        "AttachUserPolicy"
        | "ChangePassword"
        | "CreateAccessKey"
        | "CreateVirtualMFADevice"
        | "DeactivateMFADevice"
        | "DeleteAccessKey"
        | "DeleteSSHPublicKey"
        | "DeleteUserPermissionsBoundary"
        | "DeleteUserPolicy"
        | "DeleteVirtualMFADevice"
        | "DetachUserPolicy"
        | "EnableMFADevice"
        | "PutUserPermissionsBoundary"
        | "PutUserPolicy"
        | "TagUser"
        | "UntagUser"
        | "UpdateAccessKey"
        | "UpdateLoginProfile"
        | "UpdateSSHPublicKey"
        | "UpdateUser" => (IAM, USER_CHANGE),
        "AssumeRole" | "ConsoleLogin" | "GetCallerIdentity" => (AUTH, INFO),
        "CreateBucket" => (FILE, CREATION),
        "CreateGroup" => (IAM, &["group", "creation"]),
        "CreateKeyPair" => (IAM, &["admin", "creation"]),
        "CreateUser" => (IAM, &["user", "creation"]),
        "DeleteBucket" => (FILE, DELETION),
        "DeleteGroup" => (IAM, &["group", "deletion"]),
        "DeleteUser" => (IAM, &["user", "deletion"]),
        "GetGroup"
        | "GetGroupPolicy"
        | "ListAttachedGroupPolicies"
        | "ListGroupPolicies"
        | "ListGroups" => (IAM, GROUP_INFO),
        "GetUser"
        | "GetUserPolicy"
        | "ListAttachedUserPolicies"
        | "ListGroupsForUser"
        | "ListUserPolicies"
        | "ListUsers"
        | "ListUserTags" => (IAM, USER_INFO),
        "SetDefaultPolicyVersion"
        | "SetSecurityTokenServicePreferences"
        | "UpdateAccountPasswordPolicy"
        | "UpdateRole" => (IAM, ADMIN_CHANGE),
        "DescribeInstances" | "DescribeVolumes" | "ListInstanceAssociations" => (HOST, INFO),
        "DescribeSecurityGroups"
        | "DescribeNetworkInterfaces"
        | "DescribeVpcs"
        | "DescribeNetworkAcls"
        | "DescribeLoadBalancers" => (NET, INFO),
        "ListBuckets" | "ListObjects" | "HeadObject" | "GetObject" => (FILE, INFO),
        "DescribeRegions" => (API, INFO),
        "ListRoles" | "GetPolicy" | "ListAttachedRolePolicies" => (IAM, INFO),
        "DescribeTrails" => (CONF, INFO),
        "ListFunctions" => (&["package"], INFO),
        "ListTables" | "DescribeDBInstances" => (DB, INFO),
        "AuthorizeSecurityGroupIngress" => (NET, &["access"]),
        "CreateTopic" => (CONF, CREATION),
        "Subscribe" => (CONF, CHANGE),
        "Publish" | "Converse" => (API, NONE),
        "SendCommand" => (&["process"], NONE),
        "CreatePolicy" => (IAM, CREATION),
        "AttachRolePolicy" => (IAM, CHANGE),
        "CreateDocument" => (FILE, CREATION),
        "StartSession"
        | "CreateControlChannel"
        | "OpenControlChannel"
        | "CreateDataChannel"
        | "OpenDataChannel" => (SESSION, START),
        "TerminateSession" => (SESSION, &["end"]),
        "PutObject" => (FILE, CHANGE),
        "DeleteTrail" => (CONF, DELETION),
        "DeleteObject" => (FILE, &["delete"]),
        _ => return None,
    })
}

/// The TLS fields from `tlsDetails.tlsVersion`: `dissect` with `%{tls.version_protocol}v%{tls.version}`
/// (split at the first `v`), then `lowercase` of the protocol; when there is no `v` the dissect
/// fails and its `on_failure` renames the whole value to `tls.version`. Returns
/// (protocol as written, version).
pub(crate) fn split_tls_version(v: &str) -> (Option<&str>, &str) {
    match v.split_once('v') {
        Some((protocol, version)) => (Some(protocol).filter(|p| !p.is_empty()), version),
        None => (None, v),
    }
}

/// Lowercase as Java's `toLowerCase(Locale.ROOT)` for the values that occur, without allocating
/// for the common ones.
pub(crate) fn lowercase_cow(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_times_gain_milliseconds() {
        assert_eq!(
            iso8601_to_es("2019-10-02T22:12:29Z").as_deref(),
            Some("2019-10-02T22:12:29.000Z")
        );
        assert_eq!(
            iso8601_to_es("2024-02-29T23:59:59.123456Z").as_deref(),
            Some("2024-02-29T23:59:59.123Z")
        );
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        assert_eq!(
            iso8601_to_es("2020-01-01T01:30:00+02:00").as_deref(),
            Some("2019-12-31T23:30:00.000Z")
        );
    }

    #[test]
    fn basic_format_and_garbage_fail_like_the_date_processor() {
        assert_eq!(iso8601_to_es("20131102T010628Z"), None);
        assert_eq!(iso8601_to_es("2019-02-30T00:00:00Z"), None);
        assert_eq!(iso8601_to_es("yesterday"), None);
    }

    #[test]
    fn categorization_follows_the_pipeline_table() {
        assert_eq!(
            categorization("ConsoleLogin"),
            Some((&["authentication"][..], &["info"][..]))
        );
        assert_eq!(categorization("Publish").map(|c| c.1.len()), Some(0));
        assert_eq!(categorization("ModifyDBInstance"), None);
    }

    #[test]
    fn tls_version_splits_at_the_first_v() {
        assert_eq!(split_tls_version("TLSv1.3"), (Some("TLS"), "1.3"));
        assert_eq!(split_tls_version("1.2"), (None, "1.2"));
    }
}
