#!/usr/bin/env bash
# Builds the Lambda bootstrap with cargo-lambda (installed into .venv-tools from PyPI).
# arm64 (the template's architecture) needs the aarch64 Rust std; where rustup cannot fetch it,
# the x86_64 build still proves the binary builds. Set ARCH=x86_64 to skip the arm64 attempt.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-tools/bin/cargo-lambda ] || { python3 -m venv .venv-tools && .venv-tools/bin/pip install -q cargo-lambda==1.9.2; }
export PATH="$PWD/.venv-tools/bin:$PATH" ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-/tmp/zig-cache}
if [ "${ARCH:-arm64}" = arm64 ] && { rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu; }; then
  cargo lambda build --release --arm64 --bin trailwatch-lambda
else
  echo "aarch64 std not available: building x86_64" >&2
  cargo lambda build --release --bin trailwatch-lambda
fi
find "${CARGO_TARGET_DIR:-target}/lambda" -name bootstrap -exec ls -l {} \;
