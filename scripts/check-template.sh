#!/usr/bin/env bash
# Lint and validate template.yaml: cfn-lint (no errors, no warnings), `sam validate` (SAM-level
# mistakes cfn-lint misses) and `sam validate --lint`. Tools live in a pinned venv, .venv-tools,
# created on first use (PyPI) and reused afterwards (offline). Prints one line on success, the
# tools' output on failure; exits non-zero on any problem. Called by .ci/run and `make lint-template`.
set -euo pipefail

CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv-tools"
stamp="$venv/.check-template-pins"
want="cfn-lint==$CFN_LINT_VERSION aws-sam-cli==$SAM_CLI_VERSION"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
  echo "check-template: $1" >&2
  cat "$log" >&2
  exit 1
}

# (Re)install only when the venv is missing or was made with other pins.
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  python3 -m venv "$venv" >"$log" 2>&1 || fail "could not create $venv"
  # shellcheck disable=SC2086 # $want is a list of requirement specifiers
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want >"$log" 2>&1 \
    || fail "pip install $want failed"
  echo "$want" >"$stamp"
fi

export SAM_CLI_TELEMETRY=0
# sam validate needs a region but no credentials; never let a developer's profile leak in.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE

# cfn-lint exit status: bit 2 = errors, bit 4 = warnings; either fails the check.
"$venv/bin/cfn-lint" template.yaml >"$log" 2>&1 || fail "cfn-lint reported problems"
"$venv/bin/sam" validate -t template.yaml >"$log" 2>&1 || fail "sam validate failed"
"$venv/bin/sam" validate -t template.yaml --lint >"$log" 2>&1 || fail "sam validate --lint failed"

echo "check-template: template.yaml OK (cfn-lint $CFN_LINT_VERSION, sam validate, sam validate --lint)"
