//! [`Document`] for [`CloudTrailView`]: the `match` from each ECS path of
//! [`crate::ecs::schema::SCHEMA`] to the CloudTrail field the pipeline renames into it.
use super::*;

impl Document for CloudTrailView<'_> {
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        let ui = |k: &'static str| ["userIdentity", k];
        match path {
            // Constants: the data stream and the integration (event.kind from the
            // categorisation script; cloud.provider from the aws-s3 input).
            "event.dataset" | "data_stream.dataset" => visit(Value::Str("aws.cloudtrail")),
            "data_stream.type" => visit(Value::Str("logs")),
            "event.module" | "cloud.provider" => visit(Value::Str("aws")),
            "event.kind" => visit(Value::Str("event")),
            "ecs.version" => visit(Value::Str("8.11.0")),

            "@timestamp" => self
                .cache
                .timestamp
                .get_or_init(|| self.str(&["eventTime"]).and_then(iso8601_to_es))
                .as_deref()
                .is_some_and(|s| visit(Value::Str(s))),
            "event.provider" => self.visit_src(&["eventSource"], visit),
            "event.action" => self.visit_src(&["eventName"], visit),
            "event.id" => self.visit_src(&["eventID"], visit),
            "event.outcome" => visit(Value::Str(self.outcome())),
            "event.category" => categorization(self.event_action().unwrap_or(""))
                .is_some_and(|(c, _)| Self::visit_strs(c, visit)),
            "event.type" => {
                let types = categorization(self.event_action().unwrap_or(""))
                    .map_or(&["info"][..], |(_, t)| t);
                Self::visit_strs(types, visit)
            }
            "cloud.region" => self.visit_src(&["awsRegion"], visit),
            "cloud.account.id" => self
                .cloud_account_id()
                .is_some_and(|v| visit_json(v, visit)),
            "source.address" => self.visit_src(&["sourceIPAddress"], visit),
            // grok `^%{IP:source.ip}$`.
            "source.ip" => self
                .str(&["sourceIPAddress"])
                .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
                .is_some_and(|s| visit(Value::Str(s))),
            "user_agent.original" => self.visit_src(&["userAgent"], visit),
            "user.id" => self.user_id().is_some_and(|v| visit_json(v, visit)),
            "user.name" => self.user_name().is_some_and(|v| visit_json(v, visit)),
            // `set user.email` when `user.name` has an `@` after its first character.
            "user.email" => self
                .user_name()
                .and_then(Json::as_str)
                .filter(|n| n.find('@').is_some_and(|i| i > 0))
                .is_some_and(|n| visit(Value::Str(n))),
            "user.changes.name" => self.visit_user_changes_name(visit),
            "user.target.id" => self.visit_src(&["responseElements", "user", "userId"], visit),
            "user.target.name" => self.visit_src(&["requestParameters", "userName"], visit),
            "group.id" => self.visit_src(&["responseElements", "group", "groupId"], visit),
            "group.name" => self.visit_src(&["requestParameters", "groupName"], visit),
            "related.user" => Self::visit_strs(self.related_user(), visit),
            "related.entity"
            | "actor.entity.id"
            | "target.entity.id"
            | "user.target.entity.id"
            | "host.target.entity.id"
            | "service.target.entity.id"
            | "entity.target.id"
            | "user.entity.id"
            | "host.entity.id"
            | "service.entity.id"
            | "entity.id" => self.visit_entity(path, visit),
            "tls.version_protocol" => self.tls_protocol().is_some_and(|s| visit(Value::Str(s))),
            "tls.version" => self.visit_tls_version(visit),
            "tls.cipher" => self
                .tls("cipherSuite")
                .is_some_and(|v| visit_json(v, visit)),
            "tls.client.server_name" => self
                .tls("clientProvidedHostHeader")
                .is_some_and(|v| visit_json(v, visit)),

            "aws.cloudtrail.event_version" => self.visit_src(&["eventVersion"], visit),
            "aws.cloudtrail.event_category" => self.visit_src(&["eventCategory"], visit),
            "aws.cloudtrail.event_type" => self.visit_src(&["eventType"], visit),
            "aws.cloudtrail.api_version" => self.visit_src(&["apiVersion"], visit),
            "aws.cloudtrail.management_event" => self.visit_src(&["managementEvent"], visit),
            "aws.cloudtrail.read_only" => self.visit_src(&["readOnly"], visit),
            "aws.cloudtrail.request_id" => self.visit_src(&["requestID"], visit),
            "aws.cloudtrail.recipient_account_id" => self.visit_src(&["recipientAccountId"], visit),
            // The pipeline renames `json.sharedEventId`; CloudTrail spells it `sharedEventID`,
            // so in practice this field is never set. Reproduced as is.
            "aws.cloudtrail.shared_event_id" => self.visit_src(&["sharedEventId"], visit),
            "aws.cloudtrail.vpc_endpoint_id" => self.visit_src(&["vpcEndpointId"], visit),
            "aws.cloudtrail.session_credential_from_console" => {
                self.visit_src(&["sessionCredentialFromConsole"], visit)
            }
            "aws.cloudtrail.error_code" => self.visit_src(&["errorCode"], visit),
            "aws.cloudtrail.error_message" => self.visit_src(&["errorMessage"], visit),
            "aws.cloudtrail.user_identity.type" => self.visit_src(&ui("type"), visit),
            "aws.cloudtrail.user_identity.arn" => self.visit_src(&ui("arn"), visit),
            "aws.cloudtrail.user_identity.access_key_id" => {
                self.visit_src(&ui("accessKeyId"), visit)
            }
            "aws.cloudtrail.user_identity.invoked_by" => self.visit_src(&ui("invokedBy"), visit),
            "aws.cloudtrail.user_identity.session_context.mfa_authenticated" => self.visit_src(
                &[
                    "userIdentity",
                    "sessionContext",
                    "attributes",
                    "mfaAuthenticated",
                ],
                visit,
            ),
            "aws.cloudtrail.user_identity.session_context.creation_date" => self
                .cache
                .creation_date
                .get_or_init(|| {
                    self.str(&[
                        "userIdentity",
                        "sessionContext",
                        "attributes",
                        "creationDate",
                    ])
                    .and_then(iso8601_to_es)
                })
                .as_deref()
                .is_some_and(|s| visit(Value::Str(s))),
            "aws.cloudtrail.user_identity.session_context.session_issuer.type" => self.visit_src(
                &["userIdentity", "sessionContext", "sessionIssuer", "type"],
                visit,
            ),
            "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id" => self
                .visit_src(
                    &[
                        "userIdentity",
                        "sessionContext",
                        "sessionIssuer",
                        "principalId",
                    ],
                    visit,
                ),
            "aws.cloudtrail.user_identity.session_context.session_issuer.arn" => self.visit_src(
                &["userIdentity", "sessionContext", "sessionIssuer", "arn"],
                visit,
            ),
            "aws.cloudtrail.user_identity.session_context.session_issuer.account_id" => self
                .visit_src(
                    &[
                        "userIdentity",
                        "sessionContext",
                        "sessionIssuer",
                        "accountId",
                    ],
                    visit,
                ),
            // `MobileVersion != 'No'` and `MFAUsed != 'No'` in the ConsoleLogin script.
            "aws.cloudtrail.console_login.additional_eventdata.mobile_version" => self
                .console_login("MobileVersion")
                .is_some_and(|v| visit(Value::Bool(v.as_str() != Some("No")))),
            "aws.cloudtrail.console_login.additional_eventdata.mfa_used" => self
                .console_login("MFAUsed")
                .is_some_and(|v| visit(Value::Bool(v.as_str() != Some("No")))),
            "aws.cloudtrail.console_login.additional_eventdata.login_to" => self
                .console_login("LoginTo")
                .is_some_and(|v| visit_json(v, visit)),
            "aws.cloudtrail.request_parameters"
            | "aws.cloudtrail.response_elements"
            | "aws.cloudtrail.additional_eventdata"
            | "aws.cloudtrail.service_event_details" => Blob::from_string_path(path)
                .and_then(|b| self.indexed_blob_string(b))
                .is_some_and(|s| visit(Value::Str(s))),
            _ => {
                if let Some(rest) = path.strip_prefix("aws.cloudtrail.resources.") {
                    return self
                        .resources()
                        .iter()
                        .any(|r| ResourceDoc(r).any_value(rest, visit));
                }
                if path.starts_with("aws.cloudtrail.flattened.") {
                    return self.visit_flattened(path, visit);
                }
                // Enrichment, tested after every field the record gives directly.
                if path.starts_with("user_agent.") {
                    return self.visit_user_agent(path, visit);
                }
                if path.starts_with("source.as.") || path.starts_with("source.geo.") {
                    return self.visit_geo(path, visit);
                }
                self.is_object_path(path) && visit(Value::Object)
            }
        }
    }

    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
        let mut buf = String::new();
        for p in schema::leaf_paths() {
            let hit = if let Some((_, blob, key)) = FLATTENED_ROOTS.iter().find(|r| r.0 == p) {
                self.flattened_root(key, *blob).is_some_and(|v| {
                    buf.clear();
                    buf.push_str(p);
                    visit_leaves(v, &mut buf, visit)
                })
            } else {
                self.any_value(p, &mut |v| visit(p, v))
            };
            if hit {
                return true;
            }
        }
        self.resources()
            .iter()
            .any(|r| ResourceDoc(r).any_extra_leaf(&mut buf, visit))
    }

    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool {
        if path == "aws.cloudtrail.resources" {
            return self.resources().iter().any(|r| visit(&ResourceDoc(r)));
        }
        for (root, blob, key) in FLATTENED_ROOTS {
            let rest = match path.strip_prefix(root) {
                Some("") => "",
                Some(r) if r.starts_with('.') => &r[1..],
                _ => continue,
            };
            let Some(v) = self.flattened_root(key, blob) else {
                return false;
            };
            return visit_objects(v, rest, &mut |o| visit(&PrunedJson(o)));
        }
        self.is_object_path(path)
            && visit(&crate::ecs::prefixed::Prefixed {
                view: self,
                prefix: path,
            })
    }
}
