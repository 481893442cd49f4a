#!/usr/bin/env bash
# Fetches the Hazelcast member jar through Maven into .cache/hazelcast (git-ignored). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${HZ_VERSION:-5.6.0}"
jar=".cache/hazelcast/hazelcast-${version}.jar"
if [ -s "$jar" ]; then echo "$jar"; exit 0; fi
mkdir -p .cache/hazelcast
mvn -q -B dependency:copy -Dartifact="com.hazelcast:hazelcast:${version}" -DoutputDirectory=.cache/hazelcast >&2
test -s "$jar"
echo "$jar"
