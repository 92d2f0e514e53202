#!/usr/bin/env python3
"""Generates trailwatch's sample CloudTrail objects and Lambda payloads (deterministic).

  scripts/gen_events.py events            # events/: Lambda payloads + sample CloudTrail objects
  scripts/gen_events.py bulk OUT.json.gz --records 200000   # a large object for benchmarks

The sample objects hold hits for the compiled-in RDS rules and their near misses (failed calls,
look-alike actions such as CreateDBClusterSnapshot, read-only calls), among unrelated noise.
"""
import argparse
import gzip
import json
import os
import random
import sys
import uuid

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "trailwatch-demo-trail"

ACTORS = [
    ("IAMUser", "alice", f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAEXAMPLEALICE00001"),
    ("AssumedRole", "ci-deployer", f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deployer/build-4711", "AROAEXAMPLECIDEPLOY01:build-4711"),
    ("IAMUser", "mallory", f"arn:aws:iam::{ACCOUNT}:user/mallory", "AIDAEXAMPLEMALLORY001"),
]
AGENTS = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/rds.start-export-task",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8",
    "console.amazonaws.com",
]


def identity(actor):
    kind, name, arn, principal = actor
    ident = {"type": kind, "principalId": principal, "arn": arn, "accountId": ACCOUNT,
             "accessKeyId": "ASIAEXAMPLEKEY000001"}
    if kind == "IAMUser":
        ident["userName"] = name
    else:
        ident["sessionContext"] = {
            "sessionIssuer": {"type": "Role", "principalId": principal.split(":")[0],
                              "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "accountId": ACCOUNT,
                              "userName": name},
            "attributes": {"creationDate": "2026-11-22T13:00:00Z", "mfaAuthenticated": "false"}}
    return ident


def record(rng, minute, source, action, params, response=None, actor=None, error=None,
           read_only=False, ip=None):
    actor = actor or rng.choice(ACTORS)
    rec = {
        "eventVersion": "1.09",
        "userIdentity": identity(actor),
        "eventTime": f"2026-11-22T14:{minute:02d}:{rng.randrange(60):02d}Z",
        "eventSource": source,
        "eventName": action,
        "awsRegion": REGION,
        "sourceIPAddress": ip or f"203.0.113.{rng.randrange(1, 250)}",
        "userAgent": rng.choice(AGENTS),
        "requestParameters": params,
        "responseElements": response,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128))),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": f"{source.split('.')[0]}.{REGION}.amazonaws.com"},
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error
        rec["responseElements"] = None
    return rec


def noise(rng, minute):
    choice = rng.randrange(4)
    if choice == 0:
        return record(rng, minute, "ec2.amazonaws.com", "DescribeInstances",
                      {"instancesSet": {}, "filterSet": {}}, read_only=True)
    if choice == 1:
        return record(rng, minute, "s3.amazonaws.com", "GetBucketAcl",
                      {"bucketName": "app-assets", "Host": "app-assets.s3.amazonaws.com", "acl": ""},
                      read_only=True)
    if choice == 2:
        return record(rng, minute, "sts.amazonaws.com", "AssumeRole",
                      {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/ci-deployer", "roleSessionName": "build-4711"},
                      {"assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deployer/build-4711"}})
    return record(rng, minute, "rds.amazonaws.com", "DescribeDBInstances",
                  {"dBInstanceIdentifier": "orders-prod"}, read_only=True)


def rds_story(rng):
    """The demo's RDS activity: (description, record). Hits and near misses for the seeds."""
    mallory, ci = ACTORS[2], ACTORS[1]
    snap = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:orders-prod-2026-11-22"
    export = {"exportTaskIdentifier": "orders-exfil", "sourceArn": snap,
              "s3BucketName": "mallory-drop-bucket", "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/rds-s3-export",
              "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5c4f1e-0000-4000-8000-000000000001"}
    return [
        # Seed "AWS RDS Snapshot Export": fires.
        record(rng, 3, "rds.amazonaws.com", "StartExportTask", export,
               {"exportTaskIdentifier": "orders-exfil", "sourceArn": snap, "status": "STARTING",
                "percentProgress": 0, "s3Bucket": "mallory-drop-bucket"}, actor=mallory, ip="198.51.100.23"),
        # Near miss: the same call, denied.
        record(rng, 2, "rds.amazonaws.com", "StartExportTask", export, actor=mallory, ip="198.51.100.23",
               error=("AccessDenied", "User: arn:aws:iam::123456789012:user/mallory is not authorized to perform: rds:StartExportTask")),
        # Near miss: a look-alike read-only call.
        record(rng, 4, "rds.amazonaws.com", "DescribeExportTasks", {"exportTaskIdentifier": "orders-exfil"},
               actor=mallory, read_only=True, ip="198.51.100.23"),
        # Near miss: creating a cluster snapshot is not creating a cluster.
        record(rng, 1, "rds.amazonaws.com", "CreateDBClusterSnapshot",
               {"dBClusterSnapshotIdentifier": "orders-prod-2026-11-22", "dBClusterIdentifier": "orders-prod"},
               {"dBClusterSnapshotIdentifier": "orders-prod-2026-11-22", "status": "creating"}, actor=mallory,
               ip="198.51.100.23"),
        # Seed "AWS RDS Cluster Creation": fires (CreateDBCluster and CreateGlobalCluster).
        record(rng, 7, "rds.amazonaws.com", "CreateDBCluster",
               {"dBClusterIdentifier": "analytics-staging", "engine": "aurora-postgresql",
                "masterUsername": "postgres", "masterUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "storageEncrypted": True},
               {"dBClusterIdentifier": "analytics-staging", "status": "creating"}, actor=ci),
        record(rng, 8, "rds.amazonaws.com", "CreateGlobalCluster",
               {"globalClusterIdentifier": "orders-global", "sourceDBClusterIdentifier":
                f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders-prod"},
               {"globalClusterIdentifier": "orders-global", "status": "creating"}, actor=ci),
        # Near miss: cluster creation that failed.
        record(rng, 6, "rds.amazonaws.com", "CreateDBCluster",
               {"dBClusterIdentifier": "analytics-staging", "engine": "aurora-postgresql"}, actor=ci,
               error=("DBClusterAlreadyExistsFault", "DB Cluster already exists")),
        # Near miss: CreateDBInstance is not a cluster.
        record(rng, 9, "rds.amazonaws.com", "CreateDBInstance",
               {"dBInstanceIdentifier": "analytics-staging-1", "dBInstanceClass": "db.r6g.large",
                "engine": "aurora-postgresql", "dBClusterIdentifier": "analytics-staging"},
               {"dBInstanceIdentifier": "analytics-staging-1", "dBInstanceStatus": "creating"}, actor=ci),
    ]


def write_object(path, records, compress=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = json.dumps({"Records": records}, separators=(",", ":")).encode()
    if compress:
        with open(path, "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
                gz.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def s3_notification(bucket, key, size):
    from urllib.parse import quote_plus
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-11-22T14:15:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLECLOUDTRAIL:regionalDeliverySession"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "trailwatch",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size,
                          "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}}}]}


def events(out):
    rng = random.Random(20261122)
    prefix = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/22"
    story = rds_story(rng)
    first = [noise(rng, m % 5) for m in range(12)] + story[:4]
    second = [noise(rng, 5 + m % 5) for m in range(12)] + story[4:]
    rng.shuffle(first)
    rng.shuffle(second)
    k1 = f"{prefix}/{ACCOUNT}_CloudTrail_{REGION}_20261122T1405Z_Demo0001.json.gz"
    k2 = f"{prefix}/{ACCOUNT}_CloudTrail_{REGION}_20261122T1410Z_Demo0002.json"
    write_object(os.path.join(out, "cloudtrail", k1), first)
    write_object(os.path.join(out, "cloudtrail", k2), second, compress=False)
    size1 = os.path.getsize(os.path.join(out, "cloudtrail", k1))
    size2 = os.path.getsize(os.path.join(out, "cloudtrail", k2))
    note1 = s3_notification(BUCKET, k1, size1)
    note2 = s3_notification(BUCKET, k2, size2)
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-22T14:00:00.000Z",
                  "Bucket": BUCKET, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:trailwatch-objects"
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:cloudtrail-objects"

    def sqs_message(i, body):
        return {"messageId": f"0c9f1b7e-0000-4000-8000-00000000000{i}", "receiptHandle": f"AQEBexample{i}==",
                "body": body, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795356900000",
                "SenderId": "AIDAEXAMPLES3", "ApproximateFirstReceiveTimestamp": "1795356900001"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn, "awsRegion": REGION}

    def eventbridge(key, size):
        return {"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
                "source": "aws.s3", "account": ACCOUNT, "time": "2026-11-22T14:15:00Z", "region": REGION,
                "resources": [f"arn:aws:s3:::{BUCKET}"],
                "detail": {"version": "0", "bucket": {"name": BUCKET},
                           "object": {"key": key, "size": size, "etag": "b1946ac92492d2347c6235b4d2611184",
                                      "sequencer": "00617F08299329D189"},
                           "request-id": "N4N7GDK58NMKJ12R", "requester": ACCOUNT, "source-ip-address": "10.0.0.1",
                           "reason": "PutObject"}}

    sns_envelope = {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic_arn, "Subject": "Amazon S3 Notification", "Message": json.dumps(note2),
                    "Timestamp": "2026-11-22T14:15:00.000Z", "SignatureVersion": "1",
                    "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/example.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}
    payloads = {
        # S3 → Lambda directly (a bucket created by the stack).
        "s3-put.json": note1,
        # S3 → SQS → Lambda (an existing or organization trail bucket): three messages, one an
        # s3:TestEvent that S3 sends when the notification is configured (ignored).
        "sqs.json": {"Records": [sqs_message(1, json.dumps(note1)), sqs_message(2, json.dumps(note2)),
                                 sqs_message(3, json.dumps(test_event))]},
        # S3 → SNS → Lambda (fan-out of the trail's notifications).
        "sns.json": {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                                  "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                                  "Sns": {**{k: v for k, v in sns_envelope.items() if k != "SigningCertUrl" and k != "UnsubscribeUrl"},
                                          "SigningCertUrl": sns_envelope["SigningCertUrl"],
                                          "UnsubscribeUrl": sns_envelope["UnsubscribeUrl"], "MessageAttributes": {}}}]},
        # S3 → EventBridge → Lambda ("Object Created" events enabled on the bucket).
        "eventbridge.json": eventbridge(k2, size2),
        # S3 → SNS → SQS → Lambda (without raw message delivery: the SQS body is the SNS envelope).
        "sqs-sns.json": {"Records": [sqs_message(4, json.dumps(sns_envelope))]},
    }
    for name, payload in payloads.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")


def bulk(path, n):
    """A large object: mostly noise, with the RDS story sprinkled in every 1,000 records."""
    rng = random.Random(n)
    story = rds_story(rng)
    records = []
    for i in range(n):
        if i % 1000 == 999:
            records.append(story[(i // 1000) % len(story)])
        else:
            records.append(noise(rng, i % 60))
    write_object(path, records)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("events")
    e.add_argument("out", nargs="?", default="events")
    b = sub.add_parser("bulk")
    b.add_argument("path")
    b.add_argument("--records", type=int, default=200_000)
    args = p.parse_args()
    if args.cmd == "events":
        events(args.out)
    else:
        bulk(args.path, args.records)


if __name__ == "__main__":
    sys.exit(main())
