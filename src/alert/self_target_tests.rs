use serde_json::json;

use super::*;
use crate::alert::{body, chatbot, subject};

const FUNCTION: &str = "trailwatch-DetectorFunction-7Hq2kLmN0pQr";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:trailwatch-AlertTopic-1A2B3C4D5E6F";
const BUCKET: &str = "org-cloudtrail-111122223333";
const TRAIL: &str = "org-trail";

fn names() -> SelfNames {
    SelfNames {
        function_name: Some(FUNCTION.into()),
        topic_arn: Some(TOPIC.into()),
        trail_bucket: Some(BUCKET.into()),
        trail_name: Some(TRAIL.into()),
    }
}

/// An alert as `Alert::new` lays it out, for a call on `provider` with these parameters.
fn alert(provider: &str, action: &str, params: Json) -> Alert {
    Alert::from_fields(vec![
        (key::SEVERITY.into(), json!("high")),
        (key::RULE_NAME.into(), json!("AWS CloudTrail Log Suspended")),
        (
            key::REASON.into(),
            json!(format!("event with action {action} by mallory on {provider} created high alert AWS CloudTrail Log Suspended.")),
        ),
        (key::PROVIDER.into(), json!(provider)),
        (key::ACTION.into(), json!(action)),
        (key::USER_NAME.into(), json!("mallory")),
        (key::ACCOUNT.into(), json!("111122223333")),
        (key::REGION.into(), json!("us-east-1")),
        (key::FLAT_REQUEST_PARAMETERS.into(), params),
    ])
}

fn target(provider: &str, action: &str, params: Json) -> Option<String> {
    names().target_of(&alert(provider, action, params))
}

#[test]
fn config_names_become_self_names() {
    let config = Config::from_lookup(|n| match n {
        "AWS_LAMBDA_FUNCTION_NAME" => Some(FUNCTION.into()),
        "ALERT_TOPIC_ARN" => Some(TOPIC.into()),
        "TRAIL_BUCKET" => Some(BUCKET.into()),
        "TRAIL_NAME" => Some(TRAIL.into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(SelfNames::from_config(&config), names());
}

#[test]
fn function_named_by_name_arn_partial_arn_or_qualified_name() {
    let lambda = "lambda.amazonaws.com";
    let arn = format!("arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}");
    for f in [
        FUNCTION.to_string(),
        arn.clone(),
        format!("{arn}:$LATEST"),
        format!("111122223333:function:{FUNCTION}"),
        format!("{FUNCTION}:live"),
    ] {
        assert_eq!(
            target(
                lambda,
                "DeleteFunction20150331",
                json!({ "functionName": f })
            )
            .as_deref(),
            Some(format!("its Lambda function {FUNCTION}").as_str()),
            "{f}"
        );
    }
    // Look-alikes are other functions.
    for f in [
        format!("{FUNCTION}-old"),
        "trailwatch".into(),
        "other".into(),
    ] {
        assert_eq!(
            target(
                lambda,
                "DeleteFunction20150331",
                json!({ "functionName": f })
            ),
            None
        );
    }
}

#[test]
fn event_source_mapping_is_matched_by_the_function_in_the_response() {
    let mut a = alert(
        "lambda.amazonaws.com",
        "DeleteEventSourceMapping20150331",
        json!({ "uUID": "6d9bce8e-836b-442c-8070-74e77903c815" }),
    );
    assert_eq!(names().target_of(&a), None);
    a.set(
        RESPONSE_ELEMENTS,
        format!("{{batchSize=10, functionArn=arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}, state=Deleting}}"),
    );
    assert!(names().target_of(&a).is_some());
    a.set(
        RESPONSE_ELEMENTS,
        "{functionArn=arn:aws:lambda:us-east-1:111122223333:function:billing, state=Deleting}",
    );
    assert_eq!(names().target_of(&a), None);
}

#[test]
fn topic_and_its_subscriptions() {
    let sns = "sns.amazonaws.com";
    assert!(target(sns, "DeleteTopic", json!({ "topicArn": TOPIC })).is_some());
    assert!(target(
        sns,
        "Unsubscribe",
        json!({ "subscriptionArn": format!("{TOPIC}:3b1f6c0e-9a4d-4e2b-8f7a-1c2d3e4f5a6b") })
    )
    .is_some());
    // A topic whose name merely starts with ours is another topic.
    assert_eq!(
        target(
            sns,
            "Unsubscribe",
            json!({ "subscriptionArn": format!("{TOPIC}2:3b1f6c0e-9a4d-4e2b-8f7a-1c2d3e4f5a6b") })
        ),
        None
    );
    assert_eq!(
        target(
            sns,
            "DeleteTopic",
            json!({ "topicArn": "arn:aws:sns:us-east-1:111122223333:billing" })
        ),
        None
    );
}

#[test]
fn trail_bucket_by_parameter_or_resource_arn() {
    let s3 = "s3.amazonaws.com";
    assert!(target(s3, "PutBucketNotification", json!({ "bucketName": BUCKET })).is_some());
    assert_eq!(
        target(
            s3,
            "PutBucketNotification",
            json!({ "bucketName": "app-uploads" })
        ),
        None
    );
    let mut a = alert(s3, "DeleteBucketPolicy", json!({}));
    a.set(key::RESOURCE_ARNS, vec![format!("arn:aws:s3:::{BUCKET}")]);
    assert!(names().target_of(&a).is_some());
}

#[test]
fn trail_by_name_or_arn_only_on_cloudtrail() {
    let ct = "cloudtrail.amazonaws.com";
    let arn = format!("arn:aws:cloudtrail:us-east-1:111122223333:trail/{TRAIL}");
    assert!(target(ct, "StopLogging", json!({ "name": TRAIL })).is_some());
    assert!(target(ct, "StopLogging", json!({ "name": arn })).is_some());
    assert!(target(ct, "PutEventSelectors", json!({ "trailName": TRAIL })).is_some());
    assert_eq!(
        target(ct, "StopLogging", json!({ "name": "dev-trail" })),
        None
    );
    // `name` on another service is not a trail.
    assert_eq!(
        target("rds.amazonaws.com", "X", json!({ "name": TRAIL })),
        None
    );
    // A trail configured by ARN matches a request by name.
    let by_arn = SelfNames {
        trail_name: Some(arn),
        ..SelfNames::default()
    };
    assert!(by_arn
        .target_of(&alert(ct, "DeleteTrail", json!({ "name": TRAIL })))
        .is_some());
}

#[test]
fn nothing_is_self_without_names() {
    let none = SelfNames::default();
    let mut a = alert(
        "lambda.amazonaws.com",
        "DeleteFunction20150331",
        json!({ "functionName": FUNCTION }),
    );
    assert!(!mark_self_target(&mut a, &none));
    assert_eq!(a.get(TARGETS_SELF), None);
}

#[test]
fn marking_sets_the_field_the_reason_subject_body_and_chatbot() {
    let mut a = alert(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({ "name": TRAIL }),
    );
    let plain_subject = subject(&a);
    assert!(mark_self_target(&mut a, &names()));
    assert_eq!(a.get(TARGETS_SELF), Some(&json!(true)));
    let reason = a.get_str(key::REASON).unwrap().to_owned();
    assert!(
        reason.starts_with("This call targets trailwatch itself: the trail it reads, org-trail. event with action StopLogging"),
        "{reason}"
    );
    assert_eq!(
        subject(&a),
        plain_subject.replacen("] ", "] Targets trailwatch itself: ", 1)
    );
    assert!(body(&a).starts_with(
        "This call targets trailwatch itself: the trail it reads, org-trail.\n\nAWS CloudTrail Log Suspended"
    ));
    assert!(chatbot(&a)
        .to_string()
        .contains("targets trailwatch itself"));

    // Idempotent: a second call does not repeat the sentence.
    assert!(mark_self_target(&mut a, &names()));
    assert_eq!(a.get_str(key::REASON), Some(reason.as_str()));
}

#[test]
fn unmarked_alerts_render_as_before() {
    let mut a = alert(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({ "name": "dev-trail" }),
    );
    let before = (subject(&a), body(&a));
    assert!(!mark_self_target(&mut a, &names()));
    assert_eq!((subject(&a), body(&a)), before);
    assert!(!before.0.contains("trailwatch itself"));
    assert!(!before.1.contains("trailwatch itself"));
}
