# trailwatch — every target runs exactly what CI runs (.ci/run → make check).
SHELL := /bin/bash
CARGO ?= cargo
VENV_AWS := .venv-aws
MOTO := $(VENV_AWS)/bin/moto_server
export MOTO_SERVER := $(abspath $(MOTO))

.PHONY: demo test conformance check fmt clippy build invoke bench events venv lint-template audit clean-venv fuzz

## demo: scan the bundled sample CloudTrail objects and print the alerts (no AWS account needed)
demo:
	$(CARGO) run --quiet --no-default-features --features cli --bin trailwatch -- scan events/cloudtrail

## test: unit, integration, differential and end-to-end (moto) tests
test: $(MOTO)
	$(CARGO) test --locked

## conformance: differential tests against Elastic's data in ../shared (KQL vectors, request
## parameter strings, pipeline outputs, the catalogue, the invictus recording)
conformance: $(MOTO)
	@test -d ../shared/elastic || { echo "make conformance: ../shared/elastic not found: these tests read Elastic's data from ../shared beside the clone" >&2; exit 1; }
	$(CARGO) test --locked --features conformance --test conformance
	$(CARGO) test --locked --features conformance --test engine alert_render::

## check: formatting, lints, then the tests (what CI runs)
check: fmt clippy test

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --locked --all-targets -- -D warnings

## venv: moto server (S3, SNS, SQS, DynamoDB) for the end-to-end tests
venv: $(MOTO)
$(MOTO):
	python3 -m venv $(VENV_AWS)
	$(VENV_AWS)/bin/pip install -q 'moto[s3,sns,sqs,dynamodb]==5.2.5' 'flask>=3,<4' 'flask-cors>=6,<7' boto3

## events: regenerate events/ (Lambda payloads and sample CloudTrail objects)
events:
	python3 scripts/gen_events.py events

## build: the Lambda bootstrap with cargo-lambda (arm64 needs the aarch64 Rust std)
build:
	scripts/build-lambda.sh

## invoke: run the Lambda handler on events/s3-put.json against a local moto server
invoke: $(MOTO)
	scripts/invoke-local.sh events/s3-put.json

## bench: criterion micro-benchmarks, then whole-process throughput and peak RSS (scripts/bench.sh)
bench: $(MOTO)
	$(CARGO) bench --no-default-features --bench engine
	scripts/bench.sh

## lint-template: cfn-lint and sam validate on template.yaml
lint-template:
	scripts/check-template.sh

## audit: Cargo.lock and fuzz/Cargo.lock against the offline RustSec snapshot (ADVISORY_DB)
audit:
	scripts/audit.sh

clean-venv:
	rm -rf $(VENV_AWS) .venv-tools

## fuzz: run each fuzz target (fuzz/) for FUZZ_SECONDS (default 60) with cargo-fuzz / libFuzzer
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= kql_parse eql_parse rule_toml cloudtrail_reader
# Seeds: fuzz/seeds/<target>, plus the rule files and the sample objects (read-only; libFuzzer
# adds what it finds to fuzz/corpus/<target>, crashes to fuzz/artifacts/<target>).
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  case $$t in rule_toml) extra=../rules;; cloudtrail_reader) extra=../events/cloudtrail;; *) extra=;; esac; \
	  mkdir -p corpus/$$t seeds/$$t && \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t corpus/$$t seeds/$$t $$extra -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
	    || exit 1; \
	done
