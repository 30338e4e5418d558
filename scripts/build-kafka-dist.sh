#!/usr/bin/env bash
# Build an Apache Kafka distribution folder and tarball from the jars on Maven Central.
#
# The tests and a development machine need a real broker. Kafka publishes every jar of the broker
# to Maven Central, so one can be assembled wherever Maven works, without the release mirrors.
# The result has the layout of the official kafka_2.13-<version>.tgz, minus bin/: the shell
# wrappers are not published as Maven artifacts, so run the tools with java directly, from inside
# the folder:
#
#   java -cp 'libs/*' kafka.tools.StorageTool format --standalone -t "$(java -cp 'libs/*' \
#       kafka.tools.StorageTool random-uuid)" -c config/server.properties
#   java -Dlog4j2.configurationFile=config/log4j2.yaml -cp 'libs/*' kafka.Kafka \
#       config/server.properties
#
# Usage: scripts/build-kafka-dist.sh [OUT_DIR]        (default OUT_DIR: <repo>/var/kafka)
# Environment: KAFKA_VERSION (default 4.4.0). Needs java 17+ and mvn; jars are cached in ~/.m2.
# Running it again with the same version does nothing once the folder and tarball exist.
set -euo pipefail

readonly SCALA_VERSION=2.13
readonly KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo_dir/var/kafka}
dist_name=kafka_${SCALA_VERSION}-${KAFKA_VERSION}
dist_dir=$out_dir/$dist_name
archive=$out_dir/$dist_name.tgz

say() { printf 'build-kafka-dist: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- Preflight ----------------------------------------------------------------------------------

command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
command -v java >/dev/null || die "java not found: install a JDK 17 or newer"
# Kafka 4 brokers and tools refuse to run on anything older than Java 17.
java_major=$(java -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
((${java_major:-0} >= 17)) || die "java $java_major found, Kafka $KAFKA_VERSION needs 17 or newer"

if [[ -f $dist_dir/libs/$dist_name.jar && -f $archive ]]; then
    say "Kafka $KAFKA_VERSION already built, nothing to do"
    printf '%s\n' "$dist_dir"
    exit 0
fi

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT
mkdir -p "$out_dir"

# Maven's own output is shown only when it fails: even with -q it prints stray colour codes.
mvn_quiet() {
    if ! mvn -B -q "$@" >"$work_dir/mvn.log" 2>&1; then
        cat "$work_dir/mvn.log" >&2
        die "mvn $* failed"
    fi
}

# --- Resolve versions ---------------------------------------------------------------------------

# Writes a throwaway pom that depends on the given "group:artifact:version" coordinates, with
# optional dependencyManagement pins ("group:artifact:version" after a "--pin" marker).
write_pom() {
    local pom=$1
    shift
    local deps="" pins="" section=deps coordinate group artifact version
    for coordinate in "$@"; do
        if [[ $coordinate == --pin ]]; then
            section=pins
            continue
        fi
        IFS=: read -r group artifact version <<<"$coordinate"
        local entry="<dependency><groupId>$group</groupId><artifactId>$artifact</artifactId>"
        entry+="<version>$version</version></dependency>"
        if [[ $section == deps ]]; then deps+=$entry; else pins+=$entry; fi
    done
    cat >"$pom" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.logweave</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>$pins</dependencies></dependencyManagement>
  <dependencies>$deps</dependencies>
</project>
EOF
}

# Prints the resolved version of group:artifact among the runtime dependencies of a pom.
resolved_version() {
    local pom=$1 group=$2 artifact=$3 listing=$work_dir/list-$RANDOM.txt
    mvn_quiet -f "$pom" dependency:list -DincludeScope=runtime -DoutputFile="$listing"
    # Lines read "   group:artifact:jar:version:scope" (newer plugins append " -- module ...").
    sed -n "s/^ *$group:$artifact:jar:\([^:]*\):.*/\1/p" "$listing" | head -n 1
}

core=org.apache.kafka:kafka_${SCALA_VERSION}:$KAFKA_VERSION
say "resolving $core"
write_pom "$work_dir/core.xml" "$core"
log4j_version=$(resolved_version "$work_dir/core.xml" org.apache.logging.log4j log4j-core)
[[ -n $log4j_version ]] || die "$core brings no log4j-core; cannot choose a logging binding"

# Kafka 4 writes its own logs through log4j2, but most of its code (and scala-logging) calls the
# SLF4J API, which needs a binding to reach log4j2. The published poms still name slf4j-api
# 1.7.36, which only finds a 1.7-style binding (log4j-slf4j-impl). We take the SLF4J 2 provider,
# log4j-slf4j2-impl, instead: it is the binding log4j maintains for current SLF4J, and SLF4J 2
# still serves callers compiled against 1.7. The catch is that the API and the binding must come
# from the same generation -- SLF4J 2 ignores a 1.7 binding and SLF4J 1.7 cannot see a 2.x
# provider, and either way every log line is silently dropped -- so slf4j-api is pinned below to
# the version the binding itself was built against.
binding=org.apache.logging.log4j:log4j-slf4j2-impl:$log4j_version
write_pom "$work_dir/binding.xml" "$binding"
slf4j_version=$(resolved_version "$work_dir/binding.xml" org.slf4j slf4j-api)
[[ $slf4j_version == 2.* ]] || die "$binding wants slf4j-api '$slf4j_version', expected 2.x"
say "log4j $log4j_version, binding log4j-slf4j2-impl, slf4j-api pinned to $slf4j_version"

# --- Build the folder ---------------------------------------------------------------------------

# Build beside the final place and move it in at the end, so an interrupted run never leaves a
# folder that looks complete.
staging=$out_dir/.$dist_name.partial
rm -rf "$staging"
mkdir -p "$staging/libs" "$staging/config"

write_pom "$work_dir/dist.xml" "$core" "$binding" --pin "org.slf4j:slf4j-api:$slf4j_version"
mvn_quiet -f "$work_dir/dist.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$staging/libs"

# Two SLF4J APIs on one classpath would pick one at random; the pin above must have won.
slf4j_jars=("$staging"/libs/slf4j-api-*.jar)
[[ ${#slf4j_jars[@]} == 1 && ${slf4j_jars[0]} == */slf4j-api-$slf4j_version.jar ]] \
    || die "expected only slf4j-api-$slf4j_version.jar in libs/, found: ${slf4j_jars[*]}"

cat >"$staging/config/server.properties" <<'EOF'
# A single Kafka node that is both broker and KRaft controller, reachable only from this machine.
# Reference: https://kafka.apache.org/documentation/#brokerconfigs
#
# Format the storage once before the first start:
#   java -cp 'libs/*' kafka.tools.StorageTool format --standalone \
#       -t "$(java -cp 'libs/*' kafka.tools.StorageTool random-uuid)" -c config/server.properties

# --- Roles: one process runs the metadata quorum and serves clients -------------------------------
process.roles=broker,controller
node.id=1
# --standalone formatting makes this node the only voter of a dynamic quorum.
controller.quorum.bootstrap.servers=127.0.0.1:9093

# --- Sockets: loopback only; clients use 9092, the quorum 9093 ------------------------------------
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

# --- Storage: change this for anything that should survive a reboot ------------------------------
log.dirs=/tmp/kraft-combined-logs

# --- One node: every internal topic must make do with a single replica ----------------------------
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# --- Behaviour LogWeave relies on ----------------------------------------------------------------
# Topics are created on purpose with their partition count; a typo must not invent a new one.
auto.create.topics.enable=false
# A lone consumer gets its partitions at once instead of after the 3 s grace for late joiners.
group.initial.rebalance.delay.ms=0
EOF

cat >"$staging/config/log4j2.yaml" <<'EOF'
# Kafka's own logging, read when the JVM is started with
#   -Dlog4j2.configurationFile=config/log4j2.yaml
# Everything goes to the console, so that systemd's journal or a test's log file keeps it.
# Reference: https://logging.apache.org/log4j/2.x/manual/configuration.html
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      # The state-change and request loggers are chatty at INFO and say nothing an operator needs.
      - name: state.change.logger
        level: WARN
      - name: kafka.request.logger
        level: WARN
EOF

# --- Smoke test: the storage tool runs from the classpath and its log lines reach log4j2 ----------

sed "s|^log.dirs=.*|log.dirs=$work_dir/smoke-data|" "$staging/config/server.properties" \
    >"$work_dir/smoke.properties"
if ! java -Dlog4j2.configurationFile="$staging/config/log4j2.yaml" -cp "$staging/libs/*" \
    kafka.tools.StorageTool format --standalone -t "$(java -cp "$staging/libs/*" \
    kafka.tools.StorageTool random-uuid)" -c "$work_dir/smoke.properties" \
    >"$work_dir/smoke.log" 2>&1; then
    tail -n 30 "$work_dir/smoke.log" >&2
    die "kafka.tools.StorageTool failed with the jars in $staging/libs"
fi
# A missing or mismatched binding is not an error, only an "SLF4J" warning and no log lines.
if grep -q '^SLF4J' "$work_dir/smoke.log" || ! grep -q 'INFO' "$work_dir/smoke.log"; then
    grep '^SLF4J' "$work_dir/smoke.log" >&2 || true
    die "Kafka's log lines do not reach log4j2; check the SLF4J jars in $staging/libs"
fi

rm -rf "$dist_dir"
mv "$staging" "$dist_dir"

# --- Pack -----------------------------------------------------------------------------------------

tar -C "$out_dir" -czf "$archive.partial" "$dist_name"
mv "$archive.partial" "$archive"
say "built $archive ($(find "$dist_dir/libs" -name '*.jar' | wc -l) jars)"
printf '%s\n' "$dist_dir"
