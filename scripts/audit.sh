#!/usr/bin/env bash
# Audit the lock files (Cargo.lock and fuzz/Cargo.lock) against an offline copy of the RustSec
# advisory database: `${ADVISORY_DB:-../shared/advisory-db}` (relative to the repository root;
# machines here cannot fetch the live database, see its SNAPSHOT.md). Installs cargo-audit (pinned,
# --locked, a few minutes) when it is missing. Fails on any vulnerability, and on any warning
# (unmaintained or unsound crates) too: `--deny warnings`. Add a justified `--ignore
# RUSTSEC-...` below only for an advisory that cannot be fixed yet. Called by `make audit`.
set -euo pipefail

CARGO_AUDIT_VERSION=0.22.2
CARGO=${CARGO:-cargo}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
db=${ADVISORY_DB:-../shared/advisory-db}

if [[ ! -d "$db/crates" ]]; then
  echo "audit: no advisory database at $db (set ADVISORY_DB)" >&2
  exit 1
fi
if ! "$CARGO" audit --version >/dev/null 2>&1; then
  echo "audit: installing cargo-audit $CARGO_AUDIT_VERSION" >&2
  "$CARGO" install cargo-audit --locked --version "$CARGO_AUDIT_VERSION"
fi

status=0
for lock in Cargo.lock fuzz/Cargo.lock; do
  [[ -f "$lock" ]] || continue
  echo "audit: $lock"
    # --no-fetch: use the snapshot as it is; --stale: its age is known and accepted (SNAPSHOT.md);
  # --no-yanked: whether a version was yanked is only known to the live crates.io index, which
  # machines here cannot reach (the local index cache answers "no such crate" for most crates).
  "$CARGO" audit --no-fetch --stale --no-yanked --db "$db" --file "$lock" --deny warnings || status=1
done
exit "$status"
