#!/usr/bin/env python3
"""A 12-day CloudTrail timeline for the stateful rules' end-to-end check (tests/stateful_timeline.rs).

    scripts/gen_timeline.py OUT_DIR [--seed N] [--days 12] [--objects-per-day 2]

Writes gzip objects under OUT_DIR with CloudTrail's key layout
(AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_ID.json.gz):
keys sort by delivery time. Each event is delivered 1 to 15 minutes after its eventTime, so an
object can hold events older than the previous object's last one (CloudTrail's real lateness).

The events exercise the hidden rules of tests/fixtures/timeline/rules: secrets read by principals
from IPs (new_terms on two fields, 7-day history, with principals coming back after 9 days), KMS
decrypts of one or two resource ARNs (new_terms on an array field, 2-day history), console-login
bursts per IP (threshold 4 in 30 min, bursts straddling objects), DescribeInstances across regions
(threshold with cardinality), bucket deletions (query rule suppressed 3 h per principal), and noise
that no hidden rule matches. Deterministic for a seed. Prints the object count and event count.
"""
import argparse
import datetime as dt
import gzip
import json
import os
import random

ACCOUNT = "111122223333"
REGION = "us-east-1"
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Timeline:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.events = []  # (event time, record)
        self.n = 0

    def principal(self, name):
        return {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{name.upper()}:{name}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/App/{name}",
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "App",
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/App",
                                                 "accountId": ACCOUNT}},
        }

    def add(self, t, source, name, who, ip, region=REGION, resources=None, params=None):
        self.n += 1
        rec = {
            "eventVersion": "1.09",
            "userIdentity": self.principal(who),
            "eventTime": iso(t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "requestParameters": params or {},
            "responseElements": None,
            "requestID": f"req-{self.n:05d}",
            "eventID": f"tl-{self.n:05d}-{self.rng.randrange(16**6):06x}",
            "readOnly": name.startswith(("Get", "Describe", "List", "Decrypt")),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        }
        if source == "rds.amazonaws.com":
            # Only the noise carries a user agent: parsing one compiles the user-agent regexes
            # (about a second per process in a debug build), and the tests run the CLI per object.
            rec["userAgent"] = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1"
        if resources is not None:
            rec["resources"] = [{"ARN": a, "accountId": ACCOUNT, "type": "AWS::KMS::Key"}
                                for a in resources]
        self.events.append((t, rec))

    def at(self, day, hour=None, minute=None):
        hour = self.rng.randrange(24) if hour is None else hour
        minute = self.rng.randrange(60) if minute is None else minute
        return START + dt.timedelta(days=day, hours=hour, minutes=minute)


def build(tl, days):
    rng = tl.rng
    ips = [f"198.51.100.{i}" for i in range(10, 16)]
    # Secrets: steady readers, a new IP now and then, principals back after a long gap.
    for day in range(days):
        for _ in range(4):
            who = rng.choice(["alice", "bob", "carol"])
            ip = ips[["alice", "bob", "carol"].index(who)] if rng.random() < 0.8 else rng.choice(ips)
            tl.add(tl.at(day), "secretsmanager.amazonaws.com", "GetSecretValue", who, ip,
                   params={"secretId": f"prod/{who}/db"})
    for day in (0, 9):  # dave: gone for 9 days (> 7-day history): new again
        tl.add(tl.at(day, 10), "secretsmanager.amazonaws.com", "GetSecretValue", "dave",
               "203.0.113.40", params={"secretId": "prod/dave/db"})
    for day in (1, 7):  # erin: back after 6 days (< 7): not new
        tl.add(tl.at(day, 9), "secretsmanager.amazonaws.com", "GetSecretValue", "erin",
               "203.0.113.41", params={"secretId": "prod/erin/db"})
    # KMS: keys used on and off (2-day history); some decrypts name the key and its alias.
    keys = [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k{i}" for i in range(5)]
    alias = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/shared"
    for day in range(days):
        for _ in range(3):
            k = rng.choice(keys[:2] if day % 5 else keys)
            res = [k, alias] if rng.random() < 0.3 else [k]
            tl.add(tl.at(day), "kms.amazonaws.com", "Decrypt", rng.choice(["alice", "bob"]),
                   "kms.amazonaws.com", resources=res)
    # Console logins: bursts per IP.
    for day in range(days):
        for _ in range(2):
            ip = f"203.0.113.{rng.randrange(100, 104)}"
            start = tl.at(day)
            size = rng.choice([2, 3, 4, 5, 9])
            for i in range(size):
                tl.add(start + dt.timedelta(minutes=rng.randrange(0, 25)), "signin.amazonaws.com",
                       "ConsoleLogin", rng.choice(["alice", "bob"]), ip)
    # A burst straddling an object boundary (objects are delivered every 24/objects_per_day h).
    for i in range(4):
        tl.add(START + dt.timedelta(days=3, hours=11, minutes=52 + i * 3), "signin.amazonaws.com",
               "ConsoleLogin", "mallory", "192.0.2.66")
    # Instance discovery across regions.
    regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
    for day in range(days):
        who = rng.choice(["alice", "mallory"])
        start = tl.at(day)
        for i in range(rng.choice([3, 5, 6, 8])):
            region = rng.choice(regions if who == "mallory" else regions[:2])
            tl.add(start + dt.timedelta(minutes=i * rng.randrange(5, 20)), "ec2.amazonaws.com",
                   "DescribeInstances", who, "198.51.100.77", region=region)
    # Bucket deletions: clusters per principal (3 h suppression).
    for day in range(0, days, 2):
        who = rng.choice(["alice", "bob"])
        start = tl.at(day)
        for i in range(rng.choice([1, 3, 4])):
            tl.add(start + dt.timedelta(minutes=i * rng.randrange(30, 150)), "s3.amazonaws.com",
                   "DeleteBucket", who, "198.51.100.90", params={"bucketName": f"tmp-{day}-{i}"})
    # Noise no hidden rule matches.
    for day in range(days):
        for _ in range(6):
            tl.add(tl.at(day), "rds.amazonaws.com", "DescribeDBInstances", "bob", "198.51.100.11")


def write(tl, out, days, per_day):
    step = dt.timedelta(hours=24 / per_day)
    deliveries = [START + step * (i + 1) for i in range(days * per_day)]
    objects = [[] for _ in deliveries]
    end = START + dt.timedelta(days=days)
    for t, rec in tl.events:
        if t >= end:
            continue
        arrival = t + dt.timedelta(minutes=tl.rng.randrange(1, 16))
        index = next((i for i, d in enumerate(deliveries) if arrival < d), len(deliveries) - 1)
        objects[index].append((arrival, rec))
    written = 0
    for i, (delivered, batch) in enumerate(zip(deliveries, objects)):
        if not batch:
            continue
        batch.sort(key=lambda x: x[0])
        d = delivered
        folder = os.path.join(out, "AWSLogs", ACCOUNT, "CloudTrail", REGION,
                              f"{d:%Y}", f"{d:%m}", f"{d:%d}")
        os.makedirs(folder, exist_ok=True)
        name = f"{ACCOUNT}_CloudTrail_{REGION}_{d:%Y%m%dT%H%M}Z_{i:04d}{tl.rng.randrange(16**8):08x}.json.gz"
        body = json.dumps({"Records": [r for _, r in batch]}).encode()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(gzip.compress(body, mtime=0))
        written += 1
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--days", type=int, default=12)
    ap.add_argument("--objects-per-day", type=int, default=2)
    args = ap.parse_args()
    tl = Timeline(args.seed)
    build(tl, args.days)
    objects = write(tl, args.out, args.days, args.objects_per_day)
    print(f"{objects} objects, {len(tl.events)} events")


if __name__ == "__main__":
    main()
