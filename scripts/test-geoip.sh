#!/usr/bin/env bash
# Installs the test GeoIP databases and prints the two lines to export:
#   GEOIP_ASN_DB=<path>
#   GEOIP_CITY_DB=<path>
#
# The databases are MaxMind's own test databases (GeoLite2-ASN-Test.mmdb, GeoLite2-City-Test.mmdb,
# MIT / Apache-2.0, from the MaxMind-DB repository), the ones Elastic's ingest pipeline tests run
# against, so `tests/conformance/pipeline_ecs.rs` can compare source.as.* / source.geo.* values exactly.
# They ship inside the sdist of PyPI's `maxminddb` package; pip fetches it, nothing is copied into
# the repository. Cached under target/geoip-test (override with GEOIP_TEST_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=3.2.0
DIR="${GEOIP_TEST_DIR:-$PWD/target/geoip-test}"
ASN="$DIR/GeoLite2-ASN-Test.mmdb"
CITY="$DIR/GeoLite2-City-Test.mmdb"
if [[ ! -s "$ASN" || ! -s "$CITY" ]]; then
  mkdir -p "$DIR"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --no-binary :all: "maxminddb==$VERSION" -d "$tmp" >&2
  tar -xzf "$tmp/maxminddb-$VERSION.tar.gz" -C "$tmp" \
    "maxminddb-$VERSION/tests/data/test-data/GeoLite2-ASN-Test.mmdb" \
    "maxminddb-$VERSION/tests/data/test-data/GeoLite2-City-Test.mmdb"
  cp "$tmp/maxminddb-$VERSION/tests/data/test-data/"GeoLite2-*-Test.mmdb "$DIR/"
fi
echo "GEOIP_ASN_DB=$ASN"
echo "GEOIP_CITY_DB=$CITY"
