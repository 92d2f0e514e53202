//! Behaviours of [`CloudTrailView`], one per test, each tied to a processor of the pipeline.

use super::CloudTrailView;
use crate::engine::{Document, Value};
use serde_json::{json, Value as Json};

fn values(record: &Json, path: &str) -> Vec<String> {
    values_with(record, path, false)
}

fn values_with(record: &Json, path: &str, actor_target_mapping: bool) -> Vec<String> {
    let options = super::ViewOptions {
        actor_target_mapping,
    };
    let view = CloudTrailView::with_options(record, options);
    let mut out = Vec::new();
    view.any_value(path, &mut |v| {
        out.push(match v {
            Value::Str(s) => s.to_owned(),
            Value::Bool(b) => format!("bool:{b}"),
            Value::Number(n) => format!("num:{n}"),
            Value::Null => "null".to_owned(),
            Value::Object => "object".to_owned(),
        });
        false
    });
    out
}

fn one(record: &Json, path: &str) -> Option<String> {
    let v = values(record, path);
    assert!(v.len() <= 1, "{path} has several values: {v:?}");
    v.into_iter().next()
}

fn assumed_role() -> Json {
    json!({
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
            "accountId": "111122223333",
            "userName": "ignored-for-roles",
            "sessionContext": {
                "attributes": {"mfaAuthenticated": "true", "creationDate": "2024-01-02T03:04:05Z"},
                "sessionIssuer": {"type": "Role", "userName": "Admin", "arn": "arn:aws:iam::111122223333:role/Admin"}
            }
        },
        "eventName": "CreateDBCluster",
        "eventSource": "rds.amazonaws.com"
    })
}

#[test]
fn role_sessions_are_named_after_the_role() {
    let r = assumed_role();
    assert_eq!(one(&r, "user.name").as_deref(), Some("Admin"));
    assert_eq!(one(&r, "user.changes.name").as_deref(), Some("alice"));
    assert_eq!(one(&r, "user.id").as_deref(), Some("AROAEXAMPLE:alice"));
    assert_eq!(
        values(&r, "related.user"),
        vec!["AROAEXAMPLE:alice", "Admin", "alice"]
    );
}

#[test]
fn iam_users_keep_their_user_name_and_email() {
    let r = json!({"userIdentity": {"type": "IAMUser", "userName": "bob@example.com"}});
    assert_eq!(one(&r, "user.name").as_deref(), Some("bob@example.com"));
    assert_eq!(one(&r, "user.email").as_deref(), Some("bob@example.com"));
    assert_eq!(one(&r, "user.changes.name"), None);
}

#[test]
fn session_context_is_renamed_and_dated() {
    let r = assumed_role();
    let sc = "aws.cloudtrail.user_identity.session_context";
    assert_eq!(
        one(&r, &format!("{sc}.mfa_authenticated")).as_deref(),
        Some("true")
    );
    assert_eq!(
        one(&r, &format!("{sc}.creation_date")).as_deref(),
        Some("2024-01-02T03:04:05.000Z")
    );
    assert_eq!(
        one(&r, &format!("{sc}.session_issuer.type")).as_deref(),
        Some("Role")
    );
    // The issuer's userName moved to user.name; there is no session_issuer.user_name.
    assert_eq!(one(&r, &format!("{sc}.session_issuer.user_name")), None);
}

#[test]
fn account_id_falls_back_to_the_recipient_account() {
    let r = json!({"userIdentity": {"type": "AWSService"}, "recipientAccountId": "999"});
    assert_eq!(one(&r, "cloud.account.id").as_deref(), Some("999"));
    let r = json!({"userIdentity": {"accountId": "111"}, "recipientAccountId": "999"});
    assert_eq!(one(&r, "cloud.account.id").as_deref(), Some("111"));
}

#[test]
fn outcome_is_failure_with_an_error_and_console_login_result_otherwise() {
    assert_eq!(
        one(&json!({"eventName": "X"}), "event.outcome").as_deref(),
        Some("success")
    );
    let failed = json!({"eventName": "X", "errorCode": "AccessDenied"});
    assert_eq!(one(&failed, "event.outcome").as_deref(), Some("failure"));
    // An empty or "-" errorCode is removed by the pipeline before the outcome is decided.
    let dash = json!({"eventName": "X", "errorCode": "-", "errorMessage": ""});
    assert_eq!(one(&dash, "event.outcome").as_deref(), Some("success"));
    let login =
        json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure"}});
    assert_eq!(one(&login, "event.outcome").as_deref(), Some("failure"));
}

#[test]
fn source_ip_only_when_the_address_is_an_ip() {
    let r = json!({"sourceIPAddress": "rds.amazonaws.com"});
    assert_eq!(
        one(&r, "source.address").as_deref(),
        Some("rds.amazonaws.com")
    );
    assert_eq!(one(&r, "source.ip"), None);
    let r = json!({"sourceIPAddress": "2001:db8::1"});
    assert_eq!(one(&r, "source.ip").as_deref(), Some("2001:db8::1"));
}

#[test]
fn request_parameters_string_and_flattened_object() {
    let r = json!({"requestParameters": {"dBClusterIdentifier": "db1", "tags": [], "port": 3306}});
    assert_eq!(
        one(&r, "aws.cloudtrail.request_parameters").as_deref(),
        Some("{port=3306, dBClusterIdentifier=db1}")
    );
    assert_eq!(
        one(&r, "aws.cloudtrail.flattened.request_parameters.port").as_deref(),
        Some("num:3306")
    );
    assert_eq!(
        one(&r, "aws.cloudtrail.flattened.request_parameters.tags"),
        None
    );
    assert_eq!(
        one(&r, "aws.cloudtrail.flattened.request_parameters").as_deref(),
        Some("object")
    );
}

#[test]
fn strings_beyond_ignore_above_are_stored_but_not_searchable() {
    let long = "x".repeat(9000);
    let r = json!({"requestParameters": {"policy": long}, "additionalEventData": {"a": long}});
    let view = CloudTrailView::new(&r);
    assert!(!view.any_value("aws.cloudtrail.request_parameters", &mut |_| true));
    assert_eq!(
        view.stored_string("aws.cloudtrail.request_parameters")
            .map(str::len),
        Some(9000 + "{policy=}".len())
    );
    // additional_eventdata has no ignore_above in the mapping.
    assert!(view.any_value("aws.cloudtrail.additional_eventdata", &mut |_| true));
    // The flattened copy is kept below 32,766 characters.
    assert!(view.any_value(
        "aws.cloudtrail.flattened.request_parameters.policy",
        &mut |_| true
    ));
}

#[test]
fn flattened_copy_is_skipped_for_huge_objects() {
    let r = json!({"responseElements": {"blob": "y".repeat(40_000)}});
    assert_eq!(
        one(&r, "aws.cloudtrail.flattened.response_elements.blob"),
        None
    );
    assert!(CloudTrailView::new(&r)
        .stored_string("aws.cloudtrail.response_elements")
        .is_some());
}

#[test]
fn resources_are_renamed_and_deduplicated() {
    let res = json!({"accountId": "1", "type": "AWS::RDS::DBCluster", "ARN": "arn:aws:rds:x"});
    let r = json!({"resources": [res.clone(), res]});
    assert_eq!(
        values(&r, "aws.cloudtrail.resources.arn"),
        vec!["arn:aws:rds:x"]
    );
    assert_eq!(values(&r, "aws.cloudtrail.resources.account_id"), vec!["1"]);
    assert!(values(&r, "aws.cloudtrail.resources.ARN").is_empty());
    let view = CloudTrailView::new(&r);
    let mut n = 0;
    view.any_object("aws.cloudtrail.resources", &mut |d| {
        n += 1;
        d.any_value("type", &mut |v| v == Value::Str("AWS::RDS::DBCluster"))
    });
    assert_eq!(n, 1);
}

#[test]
fn tls_version_is_split_and_lowercased() {
    let r = json!({"tlsDetails": {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE", "clientProvidedHostHeader": "rds.amazonaws.com"}});
    assert_eq!(one(&r, "tls.version_protocol").as_deref(), Some("tls"));
    assert_eq!(one(&r, "tls.version").as_deref(), Some("1.2"));
    assert_eq!(
        one(&r, "tls.client.server_name").as_deref(),
        Some("rds.amazonaws.com")
    );
    let placeholder = json!({"tlsDetails": {"tlsVersion": "tlsVersion", "cipherSuite": "c"}});
    assert_eq!(one(&placeholder, "tls.cipher"), None);
}

#[test]
fn console_login_flags_are_booleans() {
    let r = json!({"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "No", "MobileVersion": "Yes", "LoginTo": "https://console"}});
    let p = "aws.cloudtrail.console_login.additional_eventdata";
    assert_eq!(
        one(&r, &format!("{p}.mfa_used")).as_deref(),
        Some("bool:false")
    );
    assert_eq!(
        one(&r, &format!("{p}.mobile_version")).as_deref(),
        Some("bool:true")
    );
    assert_eq!(
        one(&r, &format!("{p}.login_to")).as_deref(),
        Some("https://console")
    );
    let other = json!({"eventName": "GetUser", "additionalEventData": {"MFAUsed": "Yes"}});
    assert_eq!(one(&other, &format!("{p}.mfa_used")), None);
}

#[test]
fn categorisation_sets_category_and_type() {
    let r = json!({"eventName": "CreateUser"});
    assert_eq!(values(&r, "event.category"), vec!["iam"]);
    assert_eq!(values(&r, "event.type"), vec!["user", "creation"]);
    let r = json!({"eventName": "Publish"});
    assert!(values(&r, "event.type").is_empty());
    let r = json!({"eventName": "CreateDBCluster"});
    assert!(values(&r, "event.category").is_empty());
    assert_eq!(values(&r, "event.type"), vec!["info"]);
}

#[test]
fn constants_and_timestamp() {
    let r = json!({"eventTime": "2023-07-10T11:45:00Z"});
    assert_eq!(one(&r, "event.dataset").as_deref(), Some("aws.cloudtrail"));
    assert_eq!(
        one(&r, "data_stream.dataset").as_deref(),
        Some("aws.cloudtrail")
    );
    assert_eq!(one(&r, "event.kind").as_deref(), Some("event"));
    assert_eq!(
        one(&r, "@timestamp").as_deref(),
        Some("2023-07-10T11:45:00.000Z")
    );
}

#[test]
fn objects_exist_when_one_of_their_leaves_does() {
    let r = assumed_role();
    assert_eq!(
        one(&r, "aws.cloudtrail.user_identity").as_deref(),
        Some("object")
    );
    assert_eq!(one(&r, "tls"), None);
    let view = CloudTrailView::new(&r);
    assert!(view.any_object("aws.cloudtrail.user_identity", &mut |d| {
        d.any_value("type", &mut |v| v == Value::Str("AssumedRole"))
    }));
}

#[test]
fn leaves_cover_renamed_and_flattened_fields() {
    let r = json!({"eventSource": "rds.amazonaws.com", "requestParameters": {"a": {"b": "c"}}});
    let view = CloudTrailView::new(&r);
    let mut seen = Vec::new();
    view.any_leaf(&mut |p, _| {
        seen.push(p.to_owned());
        false
    });
    assert!(seen.contains(&"event.provider".to_owned()));
    assert!(seen.contains(&"aws.cloudtrail.request_parameters".to_owned()));
    assert!(seen.contains(&"aws.cloudtrail.flattened.request_parameters.a.b".to_owned()));
    assert!(!seen.iter().any(|p| p.starts_with("requestParameters")));
}

#[test]
fn every_listed_leaf_path_is_answered_by_a_match_arm() {
    // A record that sets every field the view can produce, so a path missing from the `match`
    // (falling through to the object fallback) shows up as "object" or nothing.
    let r = json!({
        "eventVersion": "1.08", "eventTime": "2023-07-10T11:45:00Z", "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "eventID": "i", "awsRegion": "r", "sourceIPAddress": "1.2.3.4",
        "userAgent": "ua", "errorCode": "e", "errorMessage": "m", "requestID": "q",
        "eventType": "t", "apiVersion": "v", "managementEvent": true, "readOnly": false,
        "recipientAccountId": "1", "sharedEventId": "s", "vpcEndpointId": "v",
        "eventCategory": "Management", "sessionCredentialFromConsole": "true",
        "userIdentity": {"type": "IAMUser", "principalId": "p", "arn": "a", "accountId": "1",
            "accessKeyId": "k", "userName": "u@x", "invokedBy": "b",
            "sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2023-07-10T11:45:00Z"},
                "sessionIssuer": {"type": "Role", "principalId": "p", "arn": "a", "accountId": "1"}}},
        "requestParameters": {"userName": "u", "groupName": "g", "newUserName": "n"},
        "responseElements": {"ConsoleLogin": "Success", "user": {"userId": "id"}, "group": {"groupId": "gid"}},
        "additionalEventData": {"MFAUsed": "No", "MobileVersion": "No", "LoginTo": "l"},
        "serviceEventDetails": {"x": 1}, "insightDetails": {"y": 2},
        "resources": [{"ARN": "arn", "accountId": "1", "type": "T"}],
        "tlsDetails": {"tlsVersion": "TLSv1.2", "cipherSuite": "c", "clientProvidedHostHeader": "h"}
    });
    let entity_paths = ["related.entity", "actor.entity.id", "target.entity.id"];
    for p in super::schema::record_paths() {
        if p.contains("entity") && !entity_paths.contains(&p) {
            continue; // the typed entity fields are tested below
        }
        let v = values_with(&r, p, true);
        assert!(!v.is_empty(), "{p} has no value");
        if !p.starts_with("aws.cloudtrail.flattened.") {
            assert!(
                !v.contains(&"object".to_owned()),
                "{p} fell through to the object fallback"
            );
        }
    }
}

#[test]
fn field_types_follow_the_data_stream_mapping() {
    use super::{field_type, FieldType};
    assert_eq!(field_type("aws.cloudtrail.read_only"), FieldType::Boolean);
    assert_eq!(
        field_type("aws.cloudtrail.management_event"),
        FieldType::Keyword
    );
    assert_eq!(
        field_type("aws.cloudtrail.session_credential_from_console"),
        FieldType::Keyword
    );
    assert_eq!(field_type("source.ip"), FieldType::Ip);
    assert_eq!(
        field_type("aws.cloudtrail.flattened.request_parameters.withDecryption"),
        FieldType::Flattened
    );
    // The enrichment's strings are keywords; what the view never produces is unmapped.
    assert_eq!(
        field_type("source.as.organization.name"),
        FieldType::Keyword
    );
    assert_eq!(field_type("source.geo.timezone"), FieldType::Unmapped);
}

#[test]
fn entity_fields_need_the_actor_target_mapping_option() {
    let r = json!({
        "eventName": "AttachRolePolicy", "eventSource": "iam.amazonaws.com",
        "recipientAccountId": "111",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111:user/bob", "userName": "bob"},
        "requestParameters": {"roleName": "r1", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    });
    assert!(values(&r, "related.entity").is_empty());
    assert_eq!(
        values_with(&r, "related.entity", true),
        vec![
            "arn:aws:iam::111:user/bob",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "bob",
            "r1"
        ]
    );
    assert_eq!(values_with(&r, "target.entity.id", true), vec!["r1"]);
    assert_eq!(values_with(&r, "entity.target.id", true), vec!["r1"]);
    assert_eq!(
        values_with(&r, "actor.entity.id", true),
        vec!["arn:aws:iam::111:user/bob"]
    );
    assert_eq!(
        values_with(&r, "user.entity.id", true),
        vec!["arn:aws:iam::111:user/bob"]
    );
    assert!(values_with(&r, "service.entity.id", true).is_empty());
}

#[test]
fn entity_script_fails_on_a_list_where_it_expects_a_string() {
    // enrichLambda adds responseElements.vpcConfig.subnetIds with addField: a list there is a
    // ClassCastException in Painless, and the script sets nothing.
    let r = json!({
        "eventName": "CreateFunction20150331", "eventSource": "lambda.amazonaws.com",
        "userIdentity": {"arn": "arn:aws:iam::1:user/u"},
        "responseElements": {"functionName": "f", "vpcConfig": {"subnetIds": ["subnet-1"]}}
    });
    assert!(values_with(&r, "related.entity", true).is_empty());
    assert!(values_with(&r, "actor.entity.id", true).is_empty());
}

#[test]
fn entity_add_values_stops_at_the_first_missing_value() {
    // addValues([groupId, referencedGroupInfo?.groupId, securityGroupRuleId]): the null second
    // value stops the loop, so the rule id is not a related entity (it is a target here).
    let r = json!({
        "eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com",
        "requestParameters": {"groupId": "sg-1"},
        "responseElements": {"securityGroupRuleSet": {"items": [{"groupId": "sg-1", "securityGroupRuleId": "sgr-9"}]}}
    });
    assert_eq!(
        values_with(&r, "target.entity.id", true),
        vec!["sg-1", "sgr-9"]
    );
    assert_eq!(
        values_with(&r, "service.target.entity.id", true),
        vec!["sg-1", "sgr-9"]
    );
    // Targets join related.entity at the end, so sgr-9 is there through the target set.
    assert_eq!(
        values_with(&r, "related.entity", true),
        vec!["sg-1", "sgr-9"]
    );
    let r2 = json!({
        "eventName": "DescribeX", "eventSource": "ec2.amazonaws.com",
        "responseElements": {"securityGroupRuleSet": {"items": [{"groupId": "sg-1", "securityGroupRuleId": "sgr-9"}]}}
    });
    assert_eq!(values_with(&r2, "related.entity", true), vec!["sg-1"]);
}
