#!/usr/bin/env bash
# Runs the Lambda handler in-process (`trailwatch invoke`) on a payload from events/, against a
# moto server started here: the bucket gets the sample objects, the topic an SQS tap whose
# messages are printed. Usage: scripts/invoke-local.sh events/s3-put.json
set -euo pipefail
cd "$(dirname "$0")/.."
event=${1:-events/s3-put.json}
moto=${MOTO_SERVER:-.venv-aws/bin/moto_server}
py=$(dirname "$moto")/python
port=${MOTO_PORT:-5055}
"$moto" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
for _ in $(seq 50); do curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null && break; sleep 0.2; done
topic=$("$py" - "$event" <<'PY'
import boto3, json, os, sys, pathlib
ev = json.load(open(sys.argv[1]))
s3, sns, sqs = (boto3.client(n) for n in ("s3", "sns", "sqs"))
buckets = set()
def note(n):
    for r in n.get("Records", []):
        if "s3" in r: yield r["s3"]["bucket"]["name"]
for r in ev.get("Records", []):
    for body in (r.get("body"), r.get("Sns", {}).get("Message")):
        if body:
            b = json.loads(body); b = json.loads(b["Message"]) if b.get("Type") == "Notification" else b
            buckets.update(note(b)); buckets.update([b["detail"]["bucket"]["name"]] if "detail" in b else [])
buckets.update(note(ev))
if "detail" in ev: buckets.add(ev["detail"]["bucket"]["name"])
root = pathlib.Path("events/cloudtrail")
for b in buckets:
    s3.create_bucket(Bucket=b)
    for f in root.rglob("*"):
        if f.is_file(): s3.upload_file(str(f), b, str(f.relative_to(root)))
arn = sns.create_topic(Name="trailwatch-alerts")["TopicArn"]
q = sqs.create_queue(QueueName="trailwatch-tap")["QueueUrl"]
qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
print(arn)
PY
)
echo "== trailwatch invoke --event $event (topic $topic)" >&2
ALERT_TOPIC_ARN=$topic TRAILWATCH_LOG=${TRAILWATCH_LOG:-info} cargo run --quiet --bin trailwatch -- invoke --event "$event"
echo "== messages delivered to the topic's SQS subscription:" >&2
"$py" - <<'PY'
import boto3, json
sqs = boto3.client("sqs"); q = sqs.get_queue_url(QueueName="trailwatch-tap")["QueueUrl"]
while True:
    ms = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10).get("Messages", [])
    if not ms: break
    for m in ms:
        env = json.loads(m["Body"]); a = json.loads(env["Message"])
        print(f'{env.get("Subject")}\n  id={a.get("kibana.alert.uuid")} attributes={ {k: v["Value"] for k, v in env.get("MessageAttributes", {}).items()} }')
        sqs.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])
PY
