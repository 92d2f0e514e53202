//! The per-service part of the entity script (`enrichCloudtrail`, `enrichEc2`, ... in
//! `default.yml`): which request/response fields are related entities or targets.

use super::entity::{kept, member, Acc, Failed};
use serde_json::Value as Json;
use std::borrow::Cow;

pub(crate) fn run<'a>(acc: &mut Acc<'a>, source: &str, name: &str) -> Result<(), Failed> {
    acc.related(&[
        "userIdentity.accessKeyId",
        "userIdentity.arn",
        "userIdentity.userName",
        "userIdentity.sessionContext.sessionIssuer.arn",
        "userIdentity.sessionContext.sessionIssuer.userName",
    ])?;
    if acc.field("userIdentity.type").and_then(Json::as_str) == Some("IdentityCenterUser") {
        acc.related(&["userIdentity.onBehalfOf.identityStoreArn"])?;
    }
    acc.each_member(false, "resources", "ARN")?;
    let is = |names: &[&str]| names.contains(&name);
    match source {
        "cloudformation.amazonaws.com" => match name {
            "CreateStackSet" => acc.target(&["responseElements.stackSetId"])?,
            "CreateStack" => acc.target(&["responseElements.stackId"])?,
            _ => {}
        },
        "cloudtrail.amazonaws.com" => {
            acc.related(&[
                "requestParameters.name",
                "requestParameters.s3BucketName",
                "responseElements.cloudWatchLogsLogGroupArn",
                "responseElements.cloudWatchLogsRoleArn",
                "responseElements.kmsKeyId",
                "responseElements.snsTopicARN",
                "responseElements.trailARN",
                "responseElements.name",
            ])?;
            if is(&["DeleteTrail", "StopLogging"]) {
                acc.target(&["requestParameters.name"])?;
            } else if name == "DescribeTrails" {
                acc.target(&["recipientAccountId"])?;
            }
        }
        "config.amazonaws.com" => {
            acc.related(&["requestParameters.configurationRecorderName"])?;
            if is(&["StopConfigurationRecorder", "StartConfigurationRecorder"]) {
                acc.target(&["requestParameters.configurationRecorderName"])?;
            }
        }
        "ec2-instance-connect.amazonaws.com"
            if is(&["SendSSHPublicKey", "SendSerialConsoleSSHPublicKey"]) =>
        {
            acc.target(&["requestParameters.instanceId"])?
        }
        "ec2.amazonaws.com" => ec2(acc, name)?,
        "elasticfilesystem.amazonaws.com" => match name {
            "DeleteFileSystem" => acc.target(&["requestParameters.fileSystemId"])?,
            "DeleteMountTarget" => acc.target(&["requestParameters.mountTargetId"])?,
            _ => {}
        },
        "events.amazonaws.com" if name == "DeleteRule" => {
            acc.target(&["requestParameters.name"])?
        }
        "guardduty.amazonaws.com" => {
            acc.related(&[
                "requestParameters.detectorId",
                "responseElements.detectorId",
            ])?;
            match name {
                "CreateDetector" => acc.target(&["responseElements.detectorId"])?,
                "DeleteDetector" => acc.target(&["requestParameters.detectorId"])?,
                _ => {}
            }
        }
        "iam.amazonaws.com" => iam(acc, name)?,
        "kms.amazonaws.com" => {
            acc.related(&[
                "requestParameters.keyId",
                "responseElements.keyId",
                "responseElements.keyMetadata.arn",
                "responseElements.keyMetadata.keyId",
            ])?;
            if is(&["DisableKey", "ScheduleKeyDeletion"]) {
                acc.each_member(true, "resources", "ARN")?;
            }
        }
        "lambda.amazonaws.com" => {
            acc.related(&[
                "requestParameters.functionName",
                "responseElements.functionArn",
                "responseElements.functionName",
                "responseElements.role",
                "responseElements.vpcConfig.securityGroupIds",
                "responseElements.vpcConfig.subnetIds",
            ])?;
            // `contains`: Lambda event names carry an API version suffix.
            if name.contains("AddPermission") {
                acc.target(&["requestParameters.functionName"])?;
            } else if name.contains("ListFunctions") {
                acc.target(&["recipientAccountId"])?;
            }
        }
        "logs.amazonaws.com" => match name {
            "DeleteLogGroup" => acc.target(&["requestParameters.logGroupName"])?,
            "DeleteLogStream" => acc.target(&["requestParameters.logStreamName"])?,
            _ => {}
        },
        "monitoring.amazonaws.com" if name == "DeleteAlarms" => {
            for f in acc.list("requestParameters.alarmNames")? {
                Acc::add_value(&mut acc.target, Some(f).filter(|f| !f.is_null()))?;
            }
        }
        "rds.amazonaws.com" => rds(acc, name)?,
        "rolesanywhere.amazonaws.com" if name == "CreateTrustAnchor" => {
            acc.target(&["responseElements.trustAnchor.trustAnchorArn"])?
        }
        "route53resolver.amazonaws.com" if name == "DeleteResolverQueryLogConfig" => {
            acc.target(&["responseElements.resolverQueryLogConfig.arn"])?
        }
        "s3.amazonaws.com" => {
            acc.related(&["requestParameters.bucketName"])?;
            if is(&[
                "CopyObject",
                "PutBucketLogging",
                "PutBucketVersioning",
                "PutObject",
                "GetBucketPolicy",
                "ListObjects",
                "HeadObject",
                "GetObject",
                "DeleteObject",
                "DeleteBucket",
            ]) {
                acc.each_member(true, "resources", "ARN")?;
            } else if name == "PutBucketReplication" {
                acc.each_member(true, "resources", "ARN")?;
                acc.target(&[
                    "requestParameters.ReplicationConfiguration.Rule.Destination.Bucket",
                ])?;
            } else if name == "ListBuckets" {
                acc.target(&["recipientAccountId"])?;
            }
        }
        "secretsmanager.amazonaws.com" => match name {
            "BatchGetSecretValue" => {
                for f in acc.list("requestParameters.secretIdList")? {
                    Acc::add_value(&mut acc.target, Some(f).filter(|f| !f.is_null()))?;
                }
            }
            "GetSecretValue" => acc.target(&["requestParameters.secretId"])?,
            _ => {}
        },
        "signin.amazonaws.com" if name == "ConsoleLogin" => acc.target(&["recipientAccountId"])?,
        "ssm.amazonaws.com" => ssm(acc, name)?,
        "sts.amazonaws.com" => {
            acc.related(&[
                "requestParameters.roleArn",
                "sourceIdentity",
                "additionalEventData.MFAIdentifier",
                "responseElements.assumedRoleUser.arn",
                "requestParameters.roleSessionName",
                "responseElements.accessKeyId",
            ])?;
            if name == "AssumeRole" {
                acc.actor = match acc.field("userIdentity.type").and_then(Json::as_str) {
                    Some("AWSService") => acc.field("userIdentity.invokedBy"),
                    Some("AssumedRole") => {
                        acc.field("userIdentity.sessionContext.sessionIssuer.arn")
                    }
                    _ => acc.field("userIdentity.arn"),
                };
                acc.target(&["requestParameters.roleArn"])?;
            } else if name == "GetCallerIdentity" {
                acc.target(&["recipientAccountId"])?;
                acc.actor = acc.field("userIdentity.arn");
            }
        }
        "wafv2.amazonaws.com" => {
            acc.related(&["requestParameters.id", "responseElements.summary"])?;
            if is(&["DeleteRuleGroup", "DeleteWebACL"]) {
                acc.target(&["requestParameters.id"])?;
            }
        }
        "sns.amazonaws.com" => match name {
            "CreateTopic" => acc.target(&["responseElements.topicArn"])?,
            "Subscribe" | "Publish" => acc.target(&["requestParameters.topicArn"])?,
            _ => {}
        },
        "bedrock.amazonaws.com" if name == "Converse" => {
            acc.target(&["requestParameters.modelId"])?
        }
        "elasticloadbalancing.amazonaws.com" if name == "DescribeLoadBalancers" => {
            acc.target(&["recipientAccountId"])?
        }
        "dynamodb.amazonaws.com" if name == "ListTables" => acc.target(&["recipientAccountId"])?,
        _ => {}
    }
    Ok(())
}

fn ec2<'a>(acc: &mut Acc<'a>, name: &str) -> Result<(), Failed> {
    acc.related(&[
        "requestParameters.groupId",
        "requestParameters.groupName",
        "requestParameters.roleName",
        "requestParameters.subnetId",
        "requestParameters.volumeId",
        "requestParameters.networkInterfaceId",
        "requestParameters.vpcId",
        "requestParameters.snapshotId",
        "responseElements.groupId",
        "responseElements.reservationId",
        "responseElements.vpc.vpcId",
        "responseElements.vpc.dhcpOptionsId",
        "responseElements.snapshotId",
        "responseElements.volumeId",
    ])?;
    for i in acc.list("responseElements.securityGroupRuleSet.items")? {
        let referenced = match member(i, "referencedGroupInfo")? {
            Some(r) => member(r, "groupId")?,
            None => None,
        };
        let values = [
            member(i, "groupId")?,
            referenced,
            member(i, "securityGroupRuleId")?,
        ];
        Acc::add_values(&mut acc.related, &values)?;
    }
    acc.each_member(false, "responseElements.groupSet.items", "groupId")?;
    acc.each_member(false, "requestParameters.groupSet.items", "groupId")?;
    acc.each_member(false, "requestParameters.instancesSet.items", "instanceId")?;
    for instance in acc.list("responseElements.instancesSet.items")? {
        let profile = match member(instance, "iamInstanceProfile")? {
            Some(p) => member(p, "arn")?,
            None => None,
        };
        let values = [
            member(instance, "subnetId")?,
            member(instance, "vpcId")?,
            member(instance, "instanceId")?,
            member(instance, "imageId")?,
            profile,
        ];
        Acc::add_values(&mut acc.related, &values)?;
        let Some(set) = member(instance, "networkInterfaceSet")? else {
            continue;
        };
        let Some(items) = member(set, "items")? else {
            continue;
        };
        for network in kept(items)? {
            let values = [
                member(network, "networkInterfaceId")?,
                member(network, "vpcId")?,
                member(network, "subnetId")?,
            ];
            Acc::add_values(&mut acc.related, &values)?;
            let Some(groups) = member(network, "groupSet")? else {
                continue;
            };
            let Some(items) = member(groups, "items")? else {
                continue;
            };
            for g in kept(items)? {
                Acc::add_value(&mut acc.related, member(g, "groupId")?)?;
            }
        }
    }
    for i in acc.list("requestParameters.revokedSecurityGroupRuleSet.items")? {
        let values = [member(i, "securityGroupRuleId")?, member(i, "groupId")?];
        Acc::add_values(&mut acc.related, &values)?;
    }
    match name {
        "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress" => {
            acc.target(&["requestParameters.groupId"])?;
            acc.each_member(true, "responseElements.securityGroupRuleSet.items", "securityGroupRuleId")?;
        }
        "CreateTrafficMirrorFilter" => acc.target(&["responseElements.CreateTrafficMirrorFilterResponse.trafficMirrorFilter.trafficMirrorFilterId"])?,
        "CreateTrafficMirrorFilterRule" => acc.target(&["responseElements.CreateTrafficMirrorFilterRuleResponse.trafficMirrorFilterRule.trafficMirrorFilterRuleId"])?,
        "CreateTrafficMirrorSession" => acc.target(&["responseElements.CreateTrafficMirrorSessionResponse.trafficMirrorSession.trafficMirrorSessionId"])?,
        "CreateTrafficMirrorTarget" => acc.target(&["responseElements.CreateTrafficMirrorTargetResponse.trafficMirrorTarget.trafficMirrorTargetId"])?,
        "DeleteFlowLogs" => acc.target(&["requestParameters.DeleteFlowLogsRequest.FlowLogId.content"])?,
        "DeleteNetworkAcl" => acc.target(&["requestParameters.networkAclId"])?,
        "DeleteNetworkAclEntry" => {
            acc.target(&["requestParameters.networkAclId"])?;
            // `String.valueOf(ruleNumber)`: any type, printed.
            if let Some(n) = acc.field("requestParameters.ruleNumber") {
                let s = match n {
                    Json::String(s) => Cow::Borrowed(s.as_str()),
                    other => Cow::Owned(super::java_map_to_string(other).unwrap_or_default()),
                };
                if !s.is_empty() {
                    acc.target.insert(s);
                }
            }
        }
        "GetPasswordData" => acc.target(&["requestParameters.instanceId"])?,
        "ModifyImageAttribute" => acc.target(&["requestParameters.imageId"])?,
        "ModifySnapshotAttribute" => acc.target(&["requestParameters.snapshotId"])?,
        "DescribeSecurityGroups" | "DescribeNetworkInterfaces" | "DescribeRegions" | "DescribeVpcs"
        | "DescribeNetworkAcls" | "DescribeVolumes" => acc.target(&["recipientAccountId"])?,
        _ => {}
    }
    Ok(())
}

fn iam<'a>(acc: &mut Acc<'a>, name: &str) -> Result<(), Failed> {
    acc.related(&[
        "requestParameters.userName",
        "requestParameters.serialNumber",
        "requestParameters.accessKeyId",
        "requestParameters.policyArn",
        "requestParameters.roleName",
        "requestParameters.policyName",
        "responseElements.accessKey.userName",
        "responseElements.accessKey.accessKeyId",
        "responseElements.user.arn",
        "responseElements.user.userId",
        "responseElements.user.userName",
        "responseElements.userId",
        "responseElements.role.arn",
        "responseElements.serialNumber",
    ])?;
    match name {
        "AttachGroupPolicy" => acc.target(&["requestParameters.groupName"]),
        "AttachRolePolicy" | "ListAttachedRolePolicies" | "UpdateAssumeRolePolicy" => {
            acc.target(&["requestParameters.roleName"])
        }
        "AttachUserPolicy" => {
            acc.target(&["requestParameters.policyArn", "requestParameters.userName"])
        }
        "CreateAccessKey" => acc.target(&[
            "responseElements.accessKey.accessKeyId",
            "requestParameters.userName",
        ]),
        "CreateUser" | "DeactivateMFADevice" => acc.target(&["requestParameters.userName"]),
        "DeleteVirtualMFADevice" => acc.target(&["requestParameters.serialNumber"]),
        "GetPolicy" => acc.target(&["requestParameters.policyArn"]),
        "CreatePolicy" => acc.target(&["responseElements.policy.arn"]),
        "ListRoles" | "ListUsers" => acc.target(&["recipientAccountId"]),
        _ => Ok(()),
    }
}

fn rds<'a>(acc: &mut Acc<'a>, name: &str) -> Result<(), Failed> {
    acc.related(&[
        "requestParameters.dBInstanceIdentifier",
        "requestParameters.dBInstanceArn",
        "responseElements.dBInstanceIdentifier",
        // Sic: `dbInstanceArn`, which RDS never sends (it is `dBInstanceArn`).
        "responseElements.dbInstanceArn",
        "responseElements.dBSubnetGroup.vpcId",
        // A path through a list: `$()` finds nothing there.
        "responseElements.vpcSecurityGroups.vpcSecurityGroupId",
    ])?;
    acc.each_member(
        false,
        "responseElements.dBSubnetGroup.subnets",
        "subnetIdentifier",
    )?;
    acc.each_member(
        false,
        "responseElements.vpcSecurityGroups",
        "vpcSecurityGroupId",
    )?;
    match name {
        "DeleteDBCluster" | "ModifyDBCluster" | "StopDBCluster" => {
            acc.target(&["responseElements.dBClusterArn"])
        }
        "DeleteDBInstance"
        | "ModifyDBInstance"
        | "RestoreDBInstanceFromDBSnapshot"
        | "RestoreDBInstanceFromS3"
        | "StopDBInstance" => acc.target(&["responseElements.dBInstanceArn"]),
        "DeleteGlobalCluster" => acc.target(&["responseElements.globalClusterArn"]),
        "ModifyDBClusterSnapshotAttribute" => {
            acc.target(&["responseElements.dBClusterSnapshotIdentifier"])
        }
        "ModifyDBSnapshotAttribute" => acc.target(&["responseElements.dBSnapshotIdentifier"]),
        "DescribeDBInstances" => acc.target(&["recipientAccountId"]),
        _ => Ok(()),
    }
}

fn ssm<'a>(acc: &mut Acc<'a>, name: &str) -> Result<(), Failed> {
    match name {
        "GetParameter" | "GetParameters" | "CreateControlChannel" | "OpenControlChannel" => {
            acc.each_member(true, "resources", "ARN")
        }
        "StartSession" => acc.target(&["requestParameters.target"]),
        "CreateDocument" => acc.target(&["requestParameters.name"]),
        "TerminateSession" | "OpenDataChannel" => acc.target(&["requestParameters.sessionId"]),
        "SendCommand" => {
            let mut ids: Vec<Option<&'a Json>> = acc
                .list("requestParameters.instanceIds")?
                .into_iter()
                .map(Some)
                .collect();
            if ids.is_empty() {
                for t in acc.list("requestParameters.targets")? {
                    match member(t, "values")? {
                        Some(vs @ Json::Array(_)) => ids.extend(kept(vs)?.into_iter().map(Some)),
                        _ => return Err(Failed),
                    }
                }
            }
            if ids.len() == 1 && ids[0].and_then(Json::as_str) == Some("*") {
                ids = vec![acc.field("recipientAccountId")];
            }
            Acc::add_values(&mut acc.target, &ids)
        }
        "ListInstanceAssociations" => acc.target(&["recipientAccountId"]),
        _ => Ok(()),
    }
}
