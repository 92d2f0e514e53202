#!/usr/bin/env bash
# Whole-process throughput and peak memory of the release `trailwatch scan` on one large
# CloudTrail object, against a bare streaming gunzip of the same file (examples/gunzip.rs: the
# same flate2/zlib-rs decompressor). See docs/performance.md.
#
#   scripts/bench.sh                 # 200,000 records (~230 MB of JSON) and a 5x larger object
#   BENCH_RECORDS=50000 scripts/bench.sh
#   BENCH_SKIP_LARGE=1 scripts/bench.sh
#   TRAILWATCH_EXTRA_RULES=../shared/elastic/rules scripts/bench.sh   # every AWS rule compiled in
#   BENCH_SKIP_STATE=1 scripts/bench.sh   # without the DynamoDB request counts (needs moto)
#
# The bulk object's records match no stateful rule (its AssumeRole calls are not by AWS services):
# its ratio to bare gunzip is the stateless path's, to compare with README's Performance table.
# Then the stateful rules' DynamoDB requests per 1,000 matching events, repeat-heavy and
# first-seen-heavy, counted against moto server's DynamoDB (tests/aws/state_dynamo.rs; request counts
# do not depend on the build profile, so they run in the debug test build).
#
# Single-threaded figures pin the process to one core (`taskset -c 0`: the CLI then decompresses
# and evaluates on the same thread); the two-core figures let the scan decompress on a second
# thread. Each timing is the best of BENCH_RUNS runs (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${BENCH_RECORDS:-200000}
RUNS=${BENCH_RUNS:-7}
DIR=${BENCH_DIR:-/tmp/trailwatch-bench}
mkdir -p "$DIR"

echo "building (release, no aws feature)..." >&2
cargo build --quiet --release --no-default-features --features cli --bin trailwatch --example gunzip
BIN=target/release/trailwatch
GUNZIP=target/release/examples/gunzip

object() { # records -> path (generated once)
  local path="$DIR/bulk-$1.json.gz"
  if [[ ! -s $path ]]; then
    echo "generating $path ($1 records)..." >&2
    python3 scripts/gen_events.py bulk "$path" --records "$1"
  fi
  echo "$path"
}

# best_of CMD...: runs CMD $RUNS times; prints "seconds max_rss_kb" of the fastest run (the
# largest RSS seen over all runs). Timed by Python's perf_counter (sub-millisecond; GNU time
# rounds to 10 ms); peak RSS from GNU time (a small parent: a child forked from Python would
# count Python's own pages until it execs).
best_of() {
  python3 - "$RUNS" "$@" <<'EOF'
import subprocess, sys, tempfile, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
best, rss = None, 0
with tempfile.NamedTemporaryFile("r") as out:
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%M", *cmd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        out.seek(0)
        rss = max(rss, int(out.read().split()[-1]))
print(f"{best:.4f} {rss}")
EOF
}

bench() {
  local path=$1
  local json_bytes records
  json_bytes=$("$GUNZIP" "$path")
  records=$("$BIN" scan --format ndjson "$path" 2>&1 >/dev/null | sed -n 's/.* objects ([0-9]* failed), \([0-9]*\) records.*/\1/p')
  local gz scan1 scan2
  gz=$(best_of taskset -c 0 "$GUNZIP" "$path")
  scan1=$(best_of taskset -c 0 "$BIN" scan --format ndjson "$path")
  scan2=$(best_of "$BIN" scan --format ndjson "$path")
  python3 - "$path" "$json_bytes" "$records" "$gz" "$scan1" "$scan2" <<'EOF'
import sys
path, size, records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gz, gz_rss = map(float, sys.argv[4].split())
rows = [("gunzip (1 core)", gz, gz_rss)]
for label, arg in (("scan (1 core)", sys.argv[5]), ("scan (2 cores)", sys.argv[6])):
    t, rss = map(float, arg.split())
    rows.append((label, t, rss))
print(f"{path}: {records:,} records, {size/1e6:.1f} MB of JSON")
print(f"  {'':16} {'seconds':>8} {'MB/s':>7} {'events/s':>10} {'x gunzip':>9} {'peak RSS':>9}")
for label, t, rss in rows:
    print(f"  {label:16} {t:8.3f} {size/1e6/t:7.0f} {records/t:10,.0f} {t/gz:9.2f} {rss/1024:6.1f} MB")
EOF
}

"$BIN" rules list >/dev/null 2>&1 || true
bench "$(object "$RECORDS")"
if [[ -z ${BENCH_SKIP_LARGE:-} ]]; then
  bench "$(object $((RECORDS * 5)))"
fi

# Memory whatever the number of matches: an object where every record is a successful
# CreateDBCluster (100,000 by default), every one an alert. `scan --format ndjson` prints all of
# them; `--max-per-rule 20` prints what the Lambda publishes (20 alerts and one summary).
MATCHING=${BENCH_MATCHING:-100000}
matching="$DIR/matching-$MATCHING.json.gz"
if [[ ! -s $matching ]]; then
  echo "generating $matching ($MATCHING matching records)..." >&2
  python3 - "$matching" "$MATCHING" <<'EOF2'
import gzip, json, sys, uuid
record = json.load(open("tests/fixtures/rules/persistence_rds_cluster_creation/fire-create-db-cluster.json"))
record = record["Records"][0] if "Records" in record else record
with gzip.open(sys.argv[1], "wt") as out:
    out.write('{"Records":[')
    for i in range(int(sys.argv[2])):
        record["eventID"] = str(uuid.UUID(int=i + 1))
        out.write(("," if i else "") + json.dumps(record))
    out.write("]}")
EOF2
fi
all=$(RUNS=1 best_of "$BIN" scan --format ndjson "$matching")
limited=$(RUNS=1 best_of "$BIN" scan --format ndjson --max-per-rule 20 "$matching")
alerts=$("$BIN" scan --format ndjson "$matching" 2>/dev/null | wc -l)
echo "$matching: $MATCHING records, all matching"
echo "  scan --format ndjson ($alerts alerts printed): $(awk '{printf "%.2f s, peak RSS %.1f MB", $1, $2/1024}' <<<"$all")"
echo "  scan --max-per-rule 20:                          $(awk '{printf "%.2f s, peak RSS %.1f MB", $1, $2/1024}' <<<"$limited")"

if [[ -z ${BENCH_SKIP_STATE:-} ]]; then
  echo "stateful rules: DynamoDB requests per 1,000 matching events (moto server, tests/aws/state_dynamo.rs)"
  cargo test --quiet --locked --test aws state_dynamo::dynamodb_requests_per_thousand -- --nocapture --test-threads 1 2>&1 \
    | sed -n 's/.*DynamoDB requests per 1,000 matching events /  /p'
fi
